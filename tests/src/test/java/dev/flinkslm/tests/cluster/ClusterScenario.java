package dev.flinkslm.tests.cluster;

import dev.flinkslm.tests.cluster.jobs.StandInScreenJob;
import dev.flinkslm.tests.kafka.KafkaBroker;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * End-to-end scenario on a real session cluster (separate JobManager/TaskManager JVMs) and a real
 * Kafka broker:
 *
 * <ol>
 *   <li>Kafka -> job -> Kafka exactly-once while one TaskManager is SIGKILLed mid-stream and a new
 *       one joins;
 *   <li>cancel, then resubmit the same jar to the same cluster (native libraries already loaded
 *       in the TaskManager JVMs);
 *   <li>stop with savepoint, produce while stopped, start again from the savepoint;
 *   <li>each model loaded once per TaskManager JVM and job, from the cluster's lib (parent-first).
 * </ol>
 *
 * <p>All output is read with {@code isolation.level=read_committed}; the result counts events
 * lost and duplicated over the whole run. {@link Result#summaryLine()} is the line the scenario
 * script prints last.
 *
 * <p>The job is a {@link JobSpec}: to run the real {@code screen} job instead of the stand-in,
 * build a JobSpec with {@link JobJars#deployable}, entry class {@code dev.flinkslm.jobs.Launcher},
 * {@code screen ...} arguments, its event format and the regex of its model-load log line, and
 * pass it to {@link #run}. Usage from a main: {@code java ... ClusterScenario} (see
 * {@code tests/cluster-e2e.sh}). Not thread-safe; one scenario per instance.
 */
public final class ClusterScenario {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterScenario.class);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(120);
    private static final int ACCOUNTS = 40;
    /** Events per second while a phase runs: slow enough that the job (model loading included) is
     * up and committing before the phase's last event is produced, so the kill lands mid-stream. */
    private static final int FEED_RATE = 200;

    private static final List<String> SIDE_TOPICS = List.of("alerts", "dead-letters", "audit");

    /**
     * What to submit and how to talk to it.
     *
     * @param jar the job jar to upload
     * @param entryClass main class in the jar
     * @param args program arguments for the given topics, group and transactional id prefix
     * @param event the Kafka value of event number {@code seq} for {@code account}; it must carry an id derived from seq
     * @param outputSeq the sequence number of the event an output record answers, or {@code null} for records the
     *     check ignores (e.g. dead letters)
     * @param accountSeen optional: (account, per-account sequence from keyed state) of an output record, to check
     *     that keyed state survives failover and savepoints; {@code null} when the job's output has no such field
     * @param modelLoaded regex over TaskManager log lines with named groups {@code job} and {@code model},
     *     matching once per model load; the {@code loader} group (optional) names the class loader of the runtime
     * @param canary optional per-key assignment to check across the savepoint
     * @param resumeArgs optional: the program arguments that make the job restore itself, given a checkpoint or
     *     savepoint path or {@code null} for the newest retained checkpoint; without it a restore is submitted with
     *     the REST API's savepoint path (as {@code flink run -s} does)
     */
    public record JobSpec(
            Path jar,
            String entryClass,
            Function<Topics, List<String>> args,
            EventFormat event,
            Function<String, Long> outputSeq,
            Function<String, String[]> accountSeen,
            Pattern modelLoaded,
            Canary canary,
            Function<String, List<String>> resumeArgs) {

        JobSpec(
                Path jar,
                String entryClass,
                Function<Topics, List<String>> args,
                EventFormat event,
                Function<String, Long> outputSeq,
                Function<String, String[]> accountSeen,
                Pattern modelLoaded) {
            this(jar, entryClass, args, event, outputSeq, accountSeen, modelLoaded, null, null);
        }
    }

    /**
     * A per-key model assignment made through the command topic before the savepoint, which must
     * still hold after the job is restored from it.
     *
     * @param command the command JSON, given the directory the job may load models from
     * @param accounts the accounts the command targets
     * @param account the account of an output record
     * @param servedByCanary whether an output record was scored by the canary version
     */
    public record Canary(
            Function<Path, String> command,
            Set<String> accounts,
            Function<String, String> account,
            java.util.function.Predicate<String> servedByCanary) {}

    /** Builds the Kafka value of one event. */
    @FunctionalInterface
    public interface EventFormat {
        String event(long seq, String account);
    }

    /** Topic names and ids a job run uses. */
    public record Topics(
            String bootstrapServers,
            String input,
            String output,
            String groupId,
            String transactionalIdPrefix,
            String commands,
            String modelRoot) {}

    /** Outcome of a run. */
    public record Result(
            long produced,
            long lost,
            long duplicated,
            boolean resubmit,
            boolean savepoint,
            boolean stateConsistent,
            Map<String, Integer> modelLoadsPerTaskManagerJob,
            Set<String> runtimeLoaders,
            boolean killedMidStream,
            Map<String, Long> timingsMs) {

        /** {@code cluster_e2e lost=<n> duplicated=<n> resubmit=<ok|failed> savepoint=<ok|failed>} */
        public String summaryLine() {
            return "cluster_e2e lost=" + lost + " duplicated=" + duplicated + " resubmit="
                    + (resubmit ? "ok" : "failed") + " savepoint=" + (savepoint ? "ok" : "failed");
        }

        /** True when every check passed. */
        public boolean passed() {
            return lost == 0
                    && duplicated == 0
                    && resubmit
                    && savepoint
                    && stateConsistent
                    && killedMidStream
                    && !modelLoadsPerTaskManagerJob.isEmpty()
                    && modelLoadsPerTaskManagerJob.values().stream().allMatch(n -> n == 1)
                    && (runtimeLoaders.isEmpty() || runtimeLoaders.equals(Set.of("AppClassLoader")));
        }
    }

    /** The stand-in job (until {@code screen} exists): events {@code id,account,text}, output {@code id,account,seen,tokens}. */
    public static JobSpec standInJob(Path repoRoot, Path workDir) {
        Path jar = JobJars.withTestJobs(repoRoot, workDir.resolve("flink-slm-standin.jar"));
        return new JobSpec(
                jar,
                StandInScreenJob.class.getName(),
                t -> List.of(
                        "--bootstrap-servers",
                        t.bootstrapServers(),
                        "--input-topic",
                        t.input(),
                        "--output-topic",
                        t.output(),
                        "--group-id",
                        t.groupId(),
                        "--transactional-id-prefix",
                        t.transactionalIdPrefix(),
                        "--parallelism",
                        "4"),
                (seq, account) -> "e" + seq + "," + account + ",transfer " + (seq % 997) + " EUR to " + account
                        + " ref INV-" + seq,
                value -> Long.parseLong(value.substring(1, value.indexOf(','))),
                value -> {
                    String[] f = value.split(",");
                    return new String[] {f[1], f[2]};
                },
                Pattern.compile(
                        "flink-slm-probe model-loaded job=(?<job>\\S+) model=(?<model>\\S+) pid=\\d+ ortLoader=(?<loader>\\S+)"));
    }

    /**
     * The deployable jar's {@code screen} subcommand, for when it exists: the integrator supplies
     * its arguments for the scenario's topics, its event format, how to find the event id in its
     * output and the regex of its model-load log line (named groups {@code job}, {@code model},
     * optionally {@code loader}).
     */
    public static JobSpec screenJob(
            Path repoRoot,
            Function<Topics, List<String>> screenArgs,
            EventFormat event,
            Function<String, Long> outputSeq,
            Pattern modelLoaded) {
        return new JobSpec(
                JobJars.deployable(repoRoot),
                JobJars.LAUNCHER,
                t -> {
                    List<String> args = new ArrayList<>(List.of("screen"));
                    args.addAll(screenArgs.apply(t));
                    return args;
                },
                event,
                outputSeq,
                null,
                modelLoaded);
    }

    /**
     * The real {@code screen} job of the deployable jar with the built-in int8 compliance model; before
     * the savepoint a canary version is deployed for a few accounts through the command topic.
     */
    public static JobSpec screenJob(Path repoRoot) {
        Pattern eventId = Pattern.compile("\"eventId\"\\s*:\\s*\"e(\\d+)\"");
        Pattern accountId = Pattern.compile("\"accountId\"\\s*:\\s*\"([^\"]+)\"");
        String canaryVersion = "1.0.0-int8-canary";
        Set<String> canaryAccounts = Set.of("acct-1", "acct-2", "acct-3", "acct-5", "acct-8");
        Canary canary = new Canary(
                root -> "{\"commandId\":\"e2e-canary\",\"action\":\"DEPLOY\",\"role\":\"CANARY\",\"uri\":\""
                        + CanaryBundle.write(root.resolve("canary"), canaryVersion)
                                .toUri()
                        + "\",\"keys\":[\"" + String.join("\",\"", canaryAccounts) + "\"]}",
                canaryAccounts,
                value -> {
                    Matcher m = accountId.matcher(value);
                    return m.find() ? m.group(1) : null;
                },
                value -> value.contains("\"" + canaryVersion + "\""));
        JobSpec base = screenJob(
                repoRoot,
                t -> List.of(
                        "--bootstrap-servers",
                        t.bootstrapServers(),
                        "--events-topic",
                        t.input(),
                        "--scored-topic",
                        t.output(),
                        "--commands-topic",
                        t.commands(),
                        "--model-root",
                        t.modelRoot(),
                        "--alerts-topic",
                        "alerts",
                        "--dead-letter-topic",
                        "dead-letters",
                        "--audit-topic",
                        "audit",
                        "--group-id",
                        t.groupId(),
                        "--transactional-id-prefix",
                        t.transactionalIdPrefix(),
                        "--starting-offsets",
                        "EARLIEST",
                        "--parallelism",
                        "4",
                        "--checkpoint-interval",
                        "2 s",
                        "--model",
                        "default:int8"),
                (seq, account) -> "{\"eventId\":\"e" + seq + "\",\"accountId\":\"" + account
                        + "\",\"kind\":\"PAYMENT\",\"amount\":" + (seq % 9000) + ".50,\"currency\":\"EUR\","
                        + "\"text\":\"transfer " + (seq % 997) + " EUR to " + account + " ref INV-" + seq + "\"}",
                value -> {
                    Matcher m = eventId.matcher(value);
                    return m.find() ? Long.parseLong(m.group(1)) : null;
                },
                Pattern.compile("slm model-loaded job=(?<job>\\S+) model=(?<model>\\S+) provider=\\S+"
                        + " ortLoader=(?<loader>\\S+)"));
        return new JobSpec(
                base.jar(),
                base.entryClass(),
                base.args(),
                base.event(),
                base.outputSeq(),
                null,
                base.modelLoaded(),
                canary,
                // screen --resume: the job finds the newest checkpoint under the cluster's checkpoint directory
                path -> List.of("--resume", path == null ? "latest" : path));
    }

    private final Path repoRoot;
    private final Path workDir;
    private final JobSpec job;
    private final int eventsPerPhase;
    private final Map<String, Long> timings = new LinkedHashMap<>();

    public ClusterScenario(Path repoRoot, Path workDir, JobSpec job, int eventsPerPhase) {
        this.repoRoot = repoRoot;
        this.workDir = workDir;
        this.job = job;
        this.eventsPerPhase = eventsPerPhase;
    }

    /** Runs all phases; exceptions from a phase mark that phase failed and still produce a result. */
    public Result run() throws Exception {
        long t0 = System.nanoTime();
        try (KafkaBroker kafka = KafkaBroker.start();
                FlinkCluster cluster = FlinkCluster.builder(repoRoot, workDir.resolve("flink"))
                        .taskManagers(2)
                        .slotsPerTaskManager(2)
                        .start()) {
            lap("startKafkaAndCluster", t0);
            Path modelRoot = Files.createDirectories(workDir.resolve("models"));
            Topics topics = new Topics(
                    kafka.bootstrapServers(),
                    "events",
                    "results",
                    "flink-slm-e2e",
                    "flink-slm-e2e",
                    "model-commands",
                    modelRoot.toString());
            kafka.createTopic(topics.input(), 4);
            kafka.createTopic(topics.output(), 4);
            kafka.createTopic(topics.commands(), 1);
            for (String side : SIDE_TOPICS) {
                kafka.createTopic(side, 1); // alerts, dead letters, audit of the screen job
            }
            FlinkRestClient rest = cluster.rest();
            long t = System.nanoTime();
            String jarId = rest.uploadJar(job.jar());
            lap("uploadJar", t);

            try (KafkaProducer<String, String> producer = producer(topics);
                    CommittedOutput output = new CommittedOutput(topics, job.outputSeq())) {
                AtomicLong nextSeq = new AtomicLong();
                boolean killedMidStream = false;
                boolean resubmit = false;
                String job2 = null;

                ExecutorService pool = Executors.newSingleThreadExecutor();
                try {
                    // (a) exactly-once across a SIGKILLed TaskManager and a replacement.
                    t = System.nanoTime();
                    String job1 = submit(rest, jarId, topics, null);
                    long phaseEnd = nextSeq.get() + eventsPerPhase;
                    // Paced so that the kill lands while events are still arriving.
                    Future<?> feeding = pool.submit(() -> produce(producer, topics, nextSeq, phaseEnd, FEED_RATE));
                    rest.waitForCompletedCheckpoints(job1, 1, STEP_TIMEOUT);
                    FlinkRestClient.waitUntil("first committed results", STEP_TIMEOUT, () -> output.distinctIds() > 0);
                    FlinkCluster.TaskManager victim = cluster.taskManagers().get(0);
                    long producedAtKill = nextSeq.get();
                    cluster.killTaskManager(victim);
                    killedMidStream = producedAtKill < phaseEnd;
                    LOG.info(
                            "Killed {} after {} of {} events were produced, {} results committed",
                            victim.resourceId(),
                            producedAtKill,
                            phaseEnd,
                            output.distinctIds());
                    cluster.startTaskManager();
                    feeding.get(STEP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                    rest.waitForAllTasksRunning(job1, STEP_TIMEOUT);
                    output.awaitDistinct(phaseEnd, STEP_TIMEOUT);
                    lap("phaseA_failover", t);

                    // (b) cancel mid-stream and resubmit the same jar to the same cluster, resuming from the
                    // retained latest checkpoint as an operator would (offsets and keyed state come back with it).
                    t = System.nanoTime();
                    try {
                        long end = nextSeq.get() + eventsPerPhase;
                        long before = output.distinctIds();
                        Future<?> moreEvents = pool.submit(() -> produce(producer, topics, nextSeq, end, FEED_RATE));
                        FlinkRestClient.waitUntil(
                                "results of the next events", STEP_TIMEOUT, () -> output.distinctIds() > before + 100);
                        rest.cancel(job1, STEP_TIMEOUT);
                        String checkpoint = rest.latestCheckpointPath(job1);
                        job2 = resume(rest, jarId, topics, checkpoint, true);
                        moreEvents.get(STEP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                        output.awaitDistinct(end, STEP_TIMEOUT);
                        int failures = rest.exceptionCount(job2);
                        resubmit = checkpoint != null
                                && failures == 0
                                && loadsOf(cluster, job2) > 0
                                && checkpoint.equals(rest.restoredFrom(job2));
                        LOG.info(
                                "Resubmitted job {} from {}: {} failures, {} model loads",
                                job2,
                                checkpoint,
                                failures,
                                loadsOf(cluster, job2));
                    } catch (Exception e) {
                        LOG.error("Resubmission phase failed", e);
                    }
                    lap("phaseB_resubmit", t);
                } finally {
                    pool.shutdownNow();
                }

                // (c) stop with savepoint, produce while stopped, start from the savepoint.
                t = System.nanoTime();
                boolean savepoint;
                try {
                    if (job2 == null) {
                        throw new IllegalStateException("no running job to stop (resubmission failed)");
                    }
                    if (job.canary() != null) {
                        assignCanary(producer, topics, nextSeq, output, modelRoot);
                    }
                    String path = rest.stopWithSavepoint(job2, null, STEP_TIMEOUT);
                    long restoredFrom = nextSeq.get();
                    long end = restoredFrom + eventsPerPhase;
                    produce(producer, topics, nextSeq, end, 0);
                    String job3 = resume(rest, jarId, topics, path, false);
                    output.awaitDistinct(end, STEP_TIMEOUT);
                    boolean assignmentsIntact = job.canary() == null || output.canaryHeld(job, restoredFrom);
                    savepoint = path != null
                            && !path.isEmpty()
                            && rest.exceptionCount(job3) == 0
                            && assignmentsIntact
                            && path.equals(rest.restoredFrom(job3));
                    rest.cancel(job3, STEP_TIMEOUT);
                } catch (Exception e) {
                    LOG.error("Savepoint phase failed", e);
                    savepoint = false;
                }
                lap("phaseC_savepoint", t);

                // Count only after everything committed has been read: a late duplicate must not slip past.
                output.drain(STEP_TIMEOUT);
                long produced = nextSeq.get();
                long distinct = output.distinctIdsBelow(produced);
                long lost = produced - distinct;
                long duplicated = output.records() - output.distinctIds();
                output.logDuplicates();
                // Every job resumed its predecessor's state (checkpoint, savepoint): one state epoch for the whole run.
                boolean stateOk = job.accountSeen() == null || output.stateContiguous(job.accountSeen());
                Map<String, Integer> loads = modelLoads(cluster);
                Set<String> loaders = loaders(cluster);
                lap("total", t0);
                return new Result(
                        produced,
                        lost,
                        duplicated,
                        resubmit,
                        savepoint && stateOk,
                        stateOk,
                        loads,
                        loaders,
                        killedMidStream,
                        timings);
            }
        }
    }

    /** Deploys the canary through the command topic and waits until events are scored by it. */
    private void assignCanary(
            KafkaProducer<String, String> producer,
            Topics topics,
            AtomicLong nextSeq,
            CommittedOutput output,
            Path modelRoot)
            throws Exception {
        producer.send(new ProducerRecord<>(
                        topics.commands(), "cmd", job.canary().command().apply(modelRoot)))
                .get();
        // Keep events of every account flowing until one is scored by the canary: the canary becomes
        // routable only once its bundle has been admitted, which takes longer on a loaded machine.
        FlinkRestClient.waitUntil("results scored by the canary", STEP_TIMEOUT, () -> {
            produce(producer, topics, nextSeq, nextSeq.get() + ACCOUNTS, 0);
            return output.anyServedByCanary(job);
        });
        output.awaitDistinct(nextSeq.get(), STEP_TIMEOUT);
        LOG.info("Canary is live for {} before the savepoint", job.canary().accounts());
    }

    private String submit(FlinkRestClient rest, String jarId, Topics topics, String savepointPath)
            throws InterruptedException {
        String jobId = rest.runJar(jarId, job.entryClass(), job.args().apply(topics), savepointPath);
        rest.waitForAllTasksRunning(jobId, STEP_TIMEOUT);
        return jobId;
    }

    /**
     * Submits the job again from {@code path}: through the job's own arguments when it has them ({@code
     * newest} asks it for the newest retained checkpoint instead of the path), else the REST savepoint path.
     */
    private String resume(FlinkRestClient rest, String jarId, Topics topics, String path, boolean newest)
            throws InterruptedException {
        if (job.resumeArgs() == null) {
            return submit(rest, jarId, topics, path);
        }
        List<String> args = new ArrayList<>(job.args().apply(topics));
        args.addAll(job.resumeArgs().apply(newest ? null : path));
        String jobId = rest.runJar(jarId, job.entryClass(), args, null);
        rest.waitForAllTasksRunning(jobId, STEP_TIMEOUT);
        LOG.info("Job {} restored from {}", jobId, rest.restoredFrom(jobId));
        return jobId;
    }

    private void produce(
            KafkaProducer<String, String> producer, Topics topics, AtomicLong nextSeq, long end, int perSecond) {
        long started = System.nanoTime();
        long sent = 0;
        while (nextSeq.get() < end) {
            long seq = nextSeq.get();
            String account = "acct-" + (seq % ACCOUNTS);
            producer.send(
                    new ProducerRecord<>(topics.input(), account, job.event().event(seq, account)));
            nextSeq.incrementAndGet();
            sent++;
            if (perSecond > 0 && sent % 50 == 0) {
                producer.flush();
                long aheadMs = sent * 1000L / perSecond - (System.nanoTime() - started) / 1_000_000;
                if (aheadMs > 0) {
                    try {
                        Thread.sleep(aheadMs); // pacing, not waiting for a condition
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
        producer.flush();
    }

    private int loadsOf(FlinkCluster cluster, String jobId) {
        return modelLoads(cluster).entrySet().stream()
                .filter(e -> e.getKey().contains(jobId))
                .mapToInt(Map.Entry::getValue)
                .sum();
    }

    /** Model loads per (TaskManager log, job, model); each must be 1. */
    private Map<String, Integer> modelLoads(FlinkCluster cluster) {
        Map<String, Integer> loads = new LinkedHashMap<>();
        forEachModelLoad(
                cluster,
                (log, m) ->
                        loads.merge(log + " job=" + m.group("job") + " model=" + m.group("model"), 1, Integer::sum));
        return loads;
    }

    private Set<String> loaders(FlinkCluster cluster) {
        Set<String> loaders = new TreeSet<>();
        forEachModelLoad(cluster, (log, m) -> {
            try {
                loaders.add(m.group("loader"));
            } catch (IllegalArgumentException noLoaderGroup) {
                // the job's log line does not name its class loader; nothing to check
            }
        });
        return loaders;
    }

    private void forEachModelLoad(FlinkCluster cluster, java.util.function.BiConsumer<String, Matcher> consumer) {
        for (Path log : cluster.allTaskManagerLogs()) {
            try (var lines = Files.lines(log)) {
                lines.forEach(line -> {
                    Matcher m = job.modelLoaded().matcher(line);
                    if (m.find()) {
                        consumer.accept(log.getFileName().toString(), m);
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void lap(String name, long startNanos) {
        timings.put(name, (System.nanoTime() - startNanos) / 1_000_000);
    }

    private static KafkaProducer<String, String> producer(Topics topics) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, topics.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** Reads the output topic continuously with read_committed, from the beginning. Thread-safe reads. */
    private static final class CommittedOutput implements AutoCloseable {
        private final ConcurrentLinkedQueue<String> values = new ConcurrentLinkedQueue<>();
        private final Set<Long> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final AtomicLong records = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread reader;
        private final Function<String, Long> outputId;
        private final Properties config = new Properties();
        private final List<TopicPartition> parts;
        private final Map<TopicPartition, Long> positions = new java.util.concurrent.ConcurrentHashMap<>();

        CommittedOutput(Topics topics, Function<String, Long> outputId) {
            this.outputId = outputId;
            config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, topics.bootstrapServers());
            config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            KafkaConsumer<String, String> consumer = newConsumer();
            parts = consumer.partitionsFor(topics.output()).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition()))
                    .toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            reader = new Thread(
                    () -> {
                        try (consumer) {
                            while (running.get()) {
                                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                                    Long id = outputId.apply(r.value());
                                    if (id != null) {
                                        values.add(r.value());
                                        ids.add(id);
                                        records.incrementAndGet();
                                    }
                                }
                                for (TopicPartition tp : parts) {
                                    positions.put(tp, consumer.position(tp));
                                }
                            }
                        }
                    },
                    "committed-output-reader");
            reader.setDaemon(true);
            reader.start();
        }

        private KafkaConsumer<String, String> newConsumer() {
            return new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
        }

        /** Waits until the reader has consumed up to the current last stable offset of every partition. */
        void drain(Duration timeout) throws InterruptedException {
            Map<TopicPartition, Long> end;
            try (KafkaConsumer<String, String> probe = newConsumer()) {
                end = probe.endOffsets(parts); // with read_committed: the last stable offsets
            }
            FlinkRestClient.waitUntil(
                    "reader at the end of the output topic " + end,
                    timeout,
                    () -> end.entrySet().stream()
                            .allMatch(e -> positions.getOrDefault(e.getKey(), -1L) >= e.getValue()));
        }

        long distinctIds() {
            return ids.size();
        }

        long records() {
            return records.get();
        }

        long distinctIdsBelow(long produced) {
            return ids.stream().filter(id -> id >= 0 && id < produced).count();
        }

        void awaitDistinct(long n, Duration timeout) throws InterruptedException {
            FlinkRestClient.waitUntil(
                    n + " distinct committed results (have " + ids.size() + ")", timeout, () -> ids.size() >= n);
        }

        /**
         * Per account, the keyed-state sequence numbers must be exactly 1..k over the whole run (every
         * job resumed its predecessor's state): a gap means lost state, a repeat means state restored
         * from the wrong point or a duplicate.
         */
        boolean stateContiguous(Function<String, String[]> accountSeen) {
            Map<String, List<Long>> seen = new HashMap<>();
            for (String v : values) {
                String[] as = accountSeen.apply(v);
                seen.computeIfAbsent(as[0], k -> new ArrayList<>()).add(Long.parseLong(as[1]));
            }
            for (Map.Entry<String, List<Long>> e : seen.entrySet()) {
                Set<Long> unique = new HashSet<>(e.getValue());
                long max =
                        e.getValue().stream().mapToLong(Long::longValue).max().orElse(0);
                if (unique.size() != e.getValue().size() || max != unique.size()) {
                    LOG.error(
                            "Keyed state of {} is not contiguous: {} values, {} unique, max {}",
                            e.getKey(),
                            e.getValue().size(),
                            unique.size(),
                            max);
                    return false;
                }
            }
            return !seen.isEmpty();
        }

        boolean anyServedByCanary(JobSpec job) {
            return values.stream().anyMatch(v -> job.canary().servedByCanary().test(v));
        }

        /** After the restore, the canary accounts (and only they) are still served by the canary. */
        boolean canaryHeld(JobSpec job, long restoredFrom) {
            long checked = 0;
            for (String v : values) {
                Long seq = outputId.apply(v);
                if (seq == null || seq < restoredFrom) {
                    continue;
                }
                boolean expected =
                        job.canary().accounts().contains(job.canary().account().apply(v));
                if (job.canary().servedByCanary().test(v) != expected) {
                    LOG.error(
                            "After the restore, event {} of {} was scored by the {} version",
                            seq,
                            job.canary().account().apply(v),
                            expected ? "active instead of the canary" : "canary");
                    return false;
                }
                checked++;
            }
            LOG.info("Model assignments held after the restore for {} results", checked);
            return checked > 0;
        }

        /** Diagnostics: how many events were delivered more than once, and their seq range. */
        void logDuplicates() {
            Map<Long, Integer> counts = new HashMap<>();
            for (String v : values) {
                counts.merge(outputId.apply(v), 1, Integer::sum);
            }
            List<Long> dups = counts.entrySet().stream()
                    .filter(e -> e.getValue() > 1)
                    .map(Map.Entry::getKey)
                    .sorted()
                    .toList();
            if (!dups.isEmpty()) {
                LOG.warn(
                        "{} events delivered more than once, seq {}..{}",
                        dups.size(),
                        dups.get(0),
                        dups.get(dups.size() - 1));
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            reader.join(10_000);
        }
    }

    /**
     * Runs the scenario with the stand-in job and prints its summary line last; exit code 0 only if
     * every check passed. Arguments: {@code [workDir] [eventsPerPhase]}.
     */
    public static void main(String[] args) throws Exception {
        Path repoRoot = FlinkConfigFile.repoRoot();
        Path workDir = args.length > 0
                ? Path.of(args[0])
                : repoRoot.resolve("tests/target/cluster-e2e/" + System.currentTimeMillis());
        int events = args.length > 1 ? Integer.parseInt(args[1]) : 3000;
        Result r;
        try {
            r = new ClusterScenario(repoRoot, workDir, screenJob(repoRoot), events).run();
        } catch (Exception e) {
            LOG.error("Scenario aborted; logs under {}", workDir, e);
            System.out.println("cluster_e2e lost=-1 duplicated=-1 resubmit=failed savepoint=failed");
            System.exit(1);
            return;
        }
        System.out.println("produced=" + r.produced() + " killedMidStream=" + r.killedMidStream() + " stateConsistent="
                + r.stateConsistent() + " runtimeLoaders=" + r.runtimeLoaders());
        r.modelLoadsPerTaskManagerJob().forEach((k, v) -> System.out.println("model loads " + k + ": " + v));
        System.out.println("timings ms " + r.timingsMs());
        System.out.println(r.summaryLine());
        System.exit(r.passed() ? 0 : 1);
    }
}
