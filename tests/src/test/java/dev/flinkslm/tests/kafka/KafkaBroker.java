package dev.flinkslm.tests.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) in a separate JVM, for
 * integration tests. No Docker: it runs {@code kafka.Kafka} from the test JVM's own class path
 * (kafka_2.13 is a test dependency), on free 127.0.0.1 ports, with data in a temp directory and
 * its log in {@code target/kafka-broker-<port>.log}.
 *
 * <p>As a JUnit 5 extension, one broker per test class:
 *
 * <pre>{@code
 * @RegisterExtension static final KafkaBroker KAFKA = KafkaBroker.perTestClass();
 * ... KAFKA.createTopic("events", 2); KAFKA.bootstrapServers(); ...
 * }</pre>
 *
 * <p>From plain Java:
 *
 * <pre>{@code
 * try (KafkaBroker kafka = KafkaBroker.start()) { ... }
 * }</pre>
 *
 * <p>Settings are those a single node needs for Flink's exactly-once sink: replication factor 1
 * and min ISR 1 for the offsets and transaction-state topics, and transaction.max.timeout.ms
 * raised to 1 hour. Topics are not auto-created. The process is stopped by PID (destroy, then
 * destroyForcibly) in {@link #close()} and in a JVM shutdown hook, so a crashed test run does not
 * leave brokers behind.
 *
 * <p>Threading: start and close from one thread; the client helpers may be called from any thread.
 */
public final class KafkaBroker implements AutoCloseable, BeforeAllCallback, AfterAllCallback {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBroker.class);
    private static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);

    private final Duration startTimeout;
    private final Map<String, String> extraServerProperties;
    private Process process;
    private Thread shutdownHook;
    private Path dataDir;
    private Path logFile;
    private int brokerPort;
    private Admin admin;

    private KafkaBroker(Duration startTimeout, Map<String, String> extraServerProperties) {
        this.startTimeout = startTimeout;
        this.extraServerProperties = extraServerProperties;
    }

    /** A broker started before the test class and stopped after it (register as an extension). */
    public static KafkaBroker perTestClass() {
        return new KafkaBroker(DEFAULT_START_TIMEOUT, Map.of());
    }

    /** Starts a broker now and waits until it serves metadata. */
    public static KafkaBroker start() {
        return start(Map.of());
    }

    /** Starts a broker with extra server.properties entries (they override the defaults). */
    public static KafkaBroker start(Map<String, String> extraServerProperties) {
        KafkaBroker broker = new KafkaBroker(DEFAULT_START_TIMEOUT, extraServerProperties);
        broker.doStart();
        return broker;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        doStart();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    public String bootstrapServers() {
        checkRunning();
        return "127.0.0.1:" + brokerPort;
    }

    /** The broker's log file (stdout and stderr of the process). */
    public Path logFile() {
        return logFile;
    }

    /** PID of the broker process, e.g. to kill it in a failure test. */
    public long pid() {
        checkRunning();
        return process.pid();
    }

    // ---- lifecycle ---------------------------------------------------------------------------

    private synchronized void doStart() {
        if (process != null) {
            throw new IllegalStateException("broker already started on port " + brokerPort);
        }
        long t0 = System.nanoTime();
        try {
            dataDir = Files.createTempDirectory("kafka-broker-");
            brokerPort = freePort();
            int controllerPort = freePort();
            while (controllerPort == brokerPort) {
                controllerPort = freePort();
            }
            Path targetDir = Paths.get(System.getProperty("kafka.broker.log.dir", "target"));
            Files.createDirectories(targetDir);
            logFile = targetDir.toAbsolutePath().resolve("kafka-broker-" + brokerPort + ".log");

            Path config = dataDir.resolve("server.properties");
            Files.writeString(config, serverProperties(controllerPort), StandardCharsets.UTF_8);
            Path log4j = dataDir.resolve("log4j2.properties");
            Files.writeString(log4j, LOG4J2, StandardCharsets.UTF_8);

            // Storage format first: KRaft refuses to start on an unformatted log directory.
            String clusterId = Uuid.randomUuid().toString();
            Process format = launch(
                    log4j, "kafka.tools.StorageTool", List.of("format", "-t", clusterId, "-c", config.toString()));
            if (!format.waitFor(startTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                format.destroyForcibly();
                throw new IllegalStateException(
                        "Kafka storage format did not finish in " + startTimeout + "; see " + logFile);
            }
            if (format.exitValue() != 0) {
                throw new IllegalStateException("Kafka storage format failed with exit code " + format.exitValue()
                        + "; see " + logFile + ":\n" + tail());
            }

            process = launch(log4j, "kafka.Kafka", List.of(config.toString()));
            Process p = process;
            shutdownHook = new Thread(() -> stopProcess(p), "kafka-broker-" + brokerPort + "-shutdown");
            Runtime.getRuntime().addShutdownHook(shutdownHook);
            awaitReady(t0);
            LOG.info(
                    "Kafka broker pid {} ready at {} in {} ms (log {})",
                    process.pid(),
                    bootstrapServers(),
                    (System.nanoTime() - t0) / 1_000_000,
                    logFile);
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("Cannot start Kafka broker", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("Interrupted while starting Kafka broker", e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private Process launch(Path log4j, String mainClass, List<String> args) throws IOException {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("-Xms128m");
        cmd.add("-Xmx512m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1"); // faster start; throughput is irrelevant for tests
        cmd.add("-Djava.awt.headless=true");
        cmd.add("-Dlog4j2.configurationFile=" + log4j.toUri());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
    }

    private String serverProperties(int controllerPort) {
        Map<String, String> p = new java.util.LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", dataDir.resolve("data").toString());
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "false");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        // Flink's exactly-once sink may ask for long transaction timeouts.
        p.put("transaction.max.timeout.ms", "3600000");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("log.flush.interval.messages", "1000000");
        p.putAll(extraServerProperties);
        return p.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n", "", "\n"));
    }

    private void awaitReady(long t0) throws InterruptedException {
        long deadline = t0 + startTimeout.toNanos();
        admin = Admin.create(clientProperties(Map.of(
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000",
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000")));
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Kafka broker exited with code " + process.exitValue()
                        + " during start; see " + logFile + ":\n" + tail());
            }
            try {
                if (!admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).isEmpty()) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                last = e;
            }
            Thread.sleep(100); // poll interval while the broker boots; bounded by the deadline
        }
        throw new IllegalStateException("Kafka broker not ready within " + startTimeout + " (last error: " + last
                + "); see " + logFile + ":\n" + tail());
    }

    /** Stops the broker process and deletes its data. Idempotent. */
    @Override
    public synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(2));
            admin = null;
        }
        if (process != null) {
            stopProcess(process);
            if (shutdownHook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException alreadyShuttingDown) {
                    // the hook is running or has run; nothing to remove
                }
                shutdownHook = null;
            }
            process = null;
        }
        if (dataDir != null) {
            deleteRecursively(dataDir);
            dataDir = null;
        }
    }

    private static void stopProcess(Process p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    // ---- client helpers ------------------------------------------------------------------------

    /** Client properties pointing at this broker, plus {@code extra}. */
    public Properties clientProperties(Map<String, String> extra) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + brokerPort);
        p.putAll(extra);
        return p;
    }

    public void createTopic(String topic, int partitions) {
        createTopics(partitions, topic);
    }

    public void createTopics(int partitions, String... topics) {
        List<NewTopic> newTopics = Stream.of(topics)
                .map(t -> new NewTopic(t, partitions, (short) 1))
                .collect(Collectors.toList());
        try {
            admin.createTopics(newTopics).all().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Cannot create topics " + List.of(topics), e);
        }
    }

    /** Produces the values (null keys) and waits until all are acknowledged. */
    public void produce(String topic, Collection<byte[]> values) {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (byte[] v : values) {
            records.add(new ProducerRecord<>(topic, v));
        }
        produceRecords(records);
    }

    public void produceRecords(Collection<ProducerRecord<byte[], byte[]>> records) {
        Map<String, String> cfg = Map.of(ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, "5");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(clientProperties(cfg), new ByteArraySerializer(), new ByteArraySerializer())) {
            List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
            for (ProducerRecord<byte[], byte[]> r : records) {
                acks.add(producer.send(r));
            }
            for (java.util.concurrent.Future<?> ack : acks) {
                ack.get(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Cannot produce " + records.size() + " records", e);
        }
    }

    /**
     * Reads every record of {@code topic} from the beginning up to the end offsets as of the call,
     * with {@code isolation.level=read_committed} (the end is then the last stable offset, so
     * records of open or aborted transactions are never returned).
     *
     * @throws IllegalStateException if the end is not reached within {@code timeout}
     */
    public List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, Duration timeout) {
        Map<String, String> cfg = new HashMap<>();
        cfg.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        cfg.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cfg.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(clientProperties(cfg), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, timeout)) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!reached(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Did not reach end offsets " + end + " of " + topic + " within "
                            + timeout + "; read " + out.size() + " records");
                }
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(200));
                batch.forEach(out::add);
            }
        }
        return out;
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    // ---- utilities -----------------------------------------------------------------------------

    private void checkRunning() {
        if (process == null) {
            throw new IllegalStateException(
                    "Kafka broker is not running; start() it or register it with @RegisterExtension");
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("Could not delete {}: {}", dir, e.toString());
        }
    }

    private static final String LOG4J2 = String.join(
            "\n",
            "status = warn",
            "appender.console.type = Console",
            "appender.console.name = STDOUT",
            "appender.console.layout.type = PatternLayout",
            "appender.console.layout.pattern = %d{HH:mm:ss.SSS} %-5p %c{1} - %m%n",
            "rootLogger.level = info",
            "rootLogger.appenderRef.stdout.ref = STDOUT",
            "logger.kafka.name = kafka",
            "logger.kafka.level = info",
            "logger.state.name = state.change.logger",
            "logger.state.level = warn",
            "");
}
