package dev.flinkslm.tests.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/**
 * PLACEHOLDER with the agreed API of the project's Kafka broker test utility, which is being
 * written on another branch. It exists only so that the real-cluster scenario compiles and runs
 * before that lands: when merging, keep the other branch's {@code KafkaBroker} and delete this file.
 * Callers use only {@link #start(Path)}, {@link #bootstrapServers()}, {@link #createTopic} and
 * {@link #close()}.
 *
 * <p>Starts one KRaft broker+controller as a separate JVM on 127.0.0.1 from the test classpath.
 * Not thread-safe; one owner closes it.
 */
public final class KafkaBroker implements AutoCloseable {

    private final Process process;
    private final String bootstrapServers;

    private KafkaBroker(Process process, String bootstrapServers) {
        this.process = process;
        this.bootstrapServers = bootstrapServers;
    }

    /** Formats storage under {@code workDir}, starts the broker and waits until it answers. */
    public static KafkaBroker start(Path workDir) throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        int port = freePort();
        int controllerPort = freePort();
        Path props = workDir.resolve("server.properties");
        Files.writeString(props, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + workDir.resolve("data"),
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "transaction.max.timeout.ms=3600000",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                ""));
        Path log4j = workDir.resolve("log4j2.properties");
        Files.writeString(log4j, String.join("\n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.f.ref = F",
                "appender.f.name = F",
                "appender.f.type = File",
                "appender.f.fileName = " + workDir.resolve("kafka.log"),
                "appender.f.layout.type = PatternLayout",
                "appender.f.layout.pattern = %d %-5p %c{1} - %m%n",
                ""));
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> jvm = List.of(java, "-Xmx512m", "-Dlog4j2.configurationFile=file:" + log4j, "-cp", cp);

        Process format = new ProcessBuilder(concat(jvm, "kafka.tools.StorageTool", "format", "-t",
                Uuid.randomUuid().toString(), "-c", props.toString()))
                .redirectErrorStream(true).redirectOutput(workDir.resolve("format.out").toFile()).start();
        if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
            format.destroyForcibly();
            throw new IllegalStateException("Kafka storage format failed, see " + workDir.resolve("format.out"));
        }
        Process p = new ProcessBuilder(concat(jvm, "kafka.Kafka", props.toString()))
                .redirectErrorStream(true).redirectOutput(workDir.resolve("kafka.out").toFile()).start();
        KafkaBroker broker = new KafkaBroker(p, "127.0.0.1:" + port);
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly, "kafka-broker-shutdown"));
        try (Admin admin = broker.admin()) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (true) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("Kafka broker exited, see " + workDir.resolve("kafka.out"));
                }
                try {
                    admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
                    break;
                } catch (Exception notYet) {
                    if (System.nanoTime() > deadline) {
                        broker.close();
                        throw new IllegalStateException("Kafka broker not ready in 60 s", notYet);
                    }
                }
            }
        }
        return broker;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Creates a topic with replication factor 1 and waits for the result. */
    public void createTopic(String name, int partitions) {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("Cannot create topic " + name, e);
        }
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new java.util.ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
