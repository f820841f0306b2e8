package dev.flinkslm.jobs;

import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.connectors.KafkaClientProperties;
import dev.flinkslm.connectors.StartingOffsets;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.operators.FailurePolicy;
import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.screening.ScreeningConfig;
import dev.flinkslm.screening.ScreeningJob;
import dev.flinkslm.screening.ScreeningOptions;
import dev.flinkslm.screening.ScreeningStats;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.TimeUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code screen}: the compliance screening job ({@link ScreeningJob}) from the command line.
 *
 * <pre>
 * java -jar flink-slm.jar screen --max-events 20000                     # embedded demo, live status
 * java -jar flink-slm.jar screen --events-file in.jsonl --output-dir out  # files in, files out
 * flink run flink-slm.jar screen --bootstrap-servers broker:9092         # Kafka in, Kafka out
 * </pre>
 *
 * <p>When the environment is a local one (plain {@code java -jar}), the job runs on an embedded
 * cluster and a status line is printed once a second plus a summary at the end (also on Ctrl-C).
 * Submitted to a cluster, the cluster's environment is used and the command only submits.
 *
 * <p>Threading: picocli calls {@link #call()} on the main thread; the status reporter is a daemon
 * thread reading thread-safe counters.
 */
@Command(
        name = "screen",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Screen financial events with the compliance model: parse, score, alert.",
            "Without --bootstrap-servers and --events-file it runs an embedded demo on synthetic events.",
            "Option defaults of scoring, Kafka, parsing and alerts come from ScoringOptions, ConnectorOptions and"
                    + " ScreeningOptions; --conf KEY=VALUE sets any of their keys."
        },
        defaultValueProvider = ScreenCommand.OptionDefaults.class)
final class ScreenCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(ScreenCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    // ---- input / output ----------------------------------------------------------------------

    @Option(
            names = "--events-file",
            paramLabel = "PATH",
            description = "Read events from a JSON-lines file or directory (any Flink file system) instead of Kafka"
                    + " or the synthetic generator. The job ends at the end of the input.")
    String eventsFile;

    @Option(
            names = "--commands-file",
            paramLabel = "PATH",
            description = "Model commands (JSON lines of ModelCommand) to apply while scoring, instead of the"
                    + " Kafka command topic.")
    String commandsFile;

    @Option(
            names = "--output-dir",
            paramLabel = "DIR",
            description = "Write results as JSON lines under DIR/scored, DIR/alerts, DIR/dead-letter, DIR/audit"
                    + " instead of Kafka.")
    String outputDir;

    // ---- synthetic generator (embedded demo) ----------------------------------------------------

    @Option(
            names = "--max-events",
            paramLabel = "N",
            description = "Synthetic events to screen before stopping (default: unbounded, stop with Ctrl-C).")
    Long maxEvents;

    @Option(
            names = "--events-per-second",
            defaultValue = "100",
            paramLabel = "RATE",
            description = "Synthetic event rate, 0 = as fast as scoring allows (default: ${DEFAULT-VALUE}).")
    double eventsPerSecond;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Synthetic generator seed (default: ${DEFAULT-VALUE}).")
    long seed;

    // ---- model and scoring ---------------------------------------------------------------------

    @Option(
            names = "--model",
            paramLabel = "URI",
            defaultValue = ScreeningConfig.DEFAULT_MODEL,
            description = "Initial model bundle URI or path; default:int8 / default:fp32 are the built-in"
                    + " compliance model (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(
            names = "--model-root",
            paramLabel = "URI",
            description = "A location bundles may be loaded from, repeatable (default: none; the built-in model"
                    + " is always allowed).")
    List<String> modelRoots = new ArrayList<>();

    @Option(names = "--batch-size", description = "Most events per inference batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--max-batch-tokens",
            description = "Most padded tokens (batch size x longest text) per batch; raise it with large GPU batches"
                    + " (default: ${DEFAULT-VALUE}).")
    int maxBatchTokens;

    @Option(
            names = "--group-by-length",
            negatable = true,
            description = "Batch texts of similar token length together: more throughput for mixed-length text"
                    + " (default: ${DEFAULT-VALUE}).")
    boolean groupByLength;

    @Option(
            names = "--max-wait",
            paramLabel = "DURATION",
            description =
                    "Longest an event waits for its batch to fill; with the default adaptive dispatch an upper"
                            + " bound only, as a batch runs as soon as an inference thread is free (default: ${DEFAULT-VALUE}).")
    String maxWait;

    @Option(
            names = "--max-windows",
            description = "Most windows of the model's length scored per text; a longer text is marked truncated"
                    + " and raises an alert for review (default: ${DEFAULT-VALUE}).")
    int maxWindows;

    @Option(
            names = "--window-stride",
            description = "Tokens two consecutive windows of a long text share (default: ${DEFAULT-VALUE}).")
    int windowStride;

    @Option(names = "--max-in-flight", description = "Batches scored at once per subtask (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(
            names = "--provider",
            paramLabel = "CPU|CUDA|AUTO",
            description = "ONNX Runtime execution provider (default: ${DEFAULT-VALUE}).")
    ExecutionProvider provider;

    @Option(names = "--intra-op-threads", description = "ONNX Runtime threads per batch (default: ${DEFAULT-VALUE}).")
    int intraOpThreads;

    @Option(
            names = "--failure-policy",
            paramLabel = "DEAD_LETTER|FAIL",
            description = "Events that cannot be scored: dead-letter them or fail the job (default: ${DEFAULT-VALUE}).")
    FailurePolicy failurePolicy;

    // ---- alerts and parsing --------------------------------------------------------------------

    @Option(
            names = "--alert-threshold",
            paramLabel = "P",
            description = "Minimum score in [0,1] of a non-clear label to raise an alert (default: ${DEFAULT-VALUE}).")
    double alertThreshold;

    @Option(
            names = "--label-threshold",
            paramLabel = "LABEL=P",
            description =
                    "Per-label alert threshold, repeatable, e.g. --label-threshold sanctions=0.3 (default: none).")
    Map<String, String> labelThresholds = new HashMap<>();

    @Option(
            names = "--max-event-size",
            paramLabel = "SIZE",
            description = "Larger input records are dead-lettered unparsed (default: ${DEFAULT-VALUE}).")
    String maxEventSize;

    // ---- Kafka ---------------------------------------------------------------------------------

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT[,...]",
            description = "Kafka brokers; turns on the Kafka source, command topic and sinks (default: none).")
    String bootstrapServers;

    @Option(names = "--events-topic", description = "Input topic(s), comma separated (default: ${DEFAULT-VALUE}).")
    String eventsTopic;

    @Option(names = "--commands-topic", description = "Model command topic (default: ${DEFAULT-VALUE}).")
    String commandsTopic;

    @Option(names = "--no-model-commands", description = "Do not read the model command topic in Kafka mode.")
    boolean noModelCommands;

    @Option(names = "--scored-topic", description = "Topic of every scored event (default: ${DEFAULT-VALUE}).")
    String scoredTopic;

    @Option(names = "--alerts-topic", description = "Topic of alerts (default: ${DEFAULT-VALUE}).")
    String alertsTopic;

    @Option(
            names = "--shadow-topic",
            description = "Topic of shadow comparisons while a SHADOW version runs (default: ${DEFAULT-VALUE}).")
    String shadowTopic;

    @Option(
            names = "--dead-letter-topic",
            description = "Topic of records that could not be parsed or scored (default: ${DEFAULT-VALUE}).")
    String deadLetterTopic;

    @Option(names = "--audit-topic", description = "Topic of model-version audit records (default: ${DEFAULT-VALUE}).")
    String auditTopic;

    @Option(names = "--group-id", description = "Kafka consumer group (default: ${DEFAULT-VALUE}).")
    String groupId;

    @Option(
            names = "--starting-offsets",
            paramLabel = "EARLIEST|LATEST|COMMITTED",
            description = "Where to start without a checkpoint (default: ${DEFAULT-VALUE}).")
    StartingOffsets startingOffsets;

    @Option(
            names = "--bounded",
            description = "Stop at the end offsets seen at start (a backfill) instead of running on.")
    boolean bounded;

    @Option(
            names = "--delivery-guarantee",
            paramLabel = "EXACTLY_ONCE|AT_LEAST_ONCE",
            description =
                    "Kafka sink guarantee; EXACTLY_ONCE needs read_committed consumers (default: ${DEFAULT-VALUE}).")
    DeliveryGuarantee deliveryGuarantee;

    @Option(
            names = "--transactional-id-prefix",
            description = "Prefix of the sinks' transactional ids, unique per job (default: ${DEFAULT-VALUE}).")
    String transactionalIdPrefix;

    @Option(
            names = "--transaction-timeout",
            paramLabel = "DURATION",
            description = "Kafka transaction timeout; above the checkpoint interval, at most the broker's"
                    + " transaction.max.timeout.ms (default: ${DEFAULT-VALUE}).")
    String transactionTimeout;

    @Option(
            names = "--kafka-property",
            paramLabel = "KEY=VALUE",
            description = "Kafka client property for every consumer and producer, repeatable (SASL, SSL, ...).")
    List<String> kafkaProperties = new ArrayList<>();

    // ---- any other option ----------------------------------------------------------------------

    @Option(
            names = "--conf",
            paramLabel = "KEY=VALUE",
            description = "Any option of the scoring operator, the connectors or the screening domain by its key,"
                    + " repeatable, e.g. --conf slm.versions.load-timeout=5min (every key: docs/screening-job.md)."
                    + " A flag above and --conf of its key may not both be given.")
    List<String> confPairs = new ArrayList<>();

    // ---- Flink runtime ------------------------------------------------------------------------

    @Option(
            names = "--parallelism",
            defaultValue = "0",
            description = "Job parallelism, 0 = the environment's default (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(
            names = "--checkpoint-interval",
            paramLabel = "DURATION",
            description = "Checkpoint interval (default: 10 s with Kafka, 2 s otherwise). Exactly-once results"
                    + " become visible at this pace.")
    String checkpointInterval;

    @Option(
            names = "--checkpoint-dir",
            paramLabel = "URI",
            description = "Checkpoint storage, e.g. file:///var/flink/checkpoints or s3://... (default: the"
                    + " cluster's execution.checkpointing.dir; embedded runs: <java.io.tmpdir>/flink-slm-checkpoints).")
    String checkpointDir;

    @Option(
            names = "--resume",
            paramLabel = "PATH|latest",
            description = "Restore the job from a retained checkpoint or savepoint (a URI or path), or 'latest':"
                    + " the newest complete one under the checkpoint directory (--checkpoint-dir, else the cluster's"
                    + " execution.checkpointing.dir), or the savepoint of a stop under --savepoint-dir (else"
                    + " execution.checkpointing.savepoint-dir). Keeps model-version assignments, pending"
                    + " events and Kafka positions; the command topic is not read again from its start."
                    + " Checkpoints are retained when the job is cancelled, fails or its process dies.")
    String resume;

    @Option(
            names = "--savepoint-dir",
            paramLabel = "URI",
            description = "Embedded runs: on Ctrl-C or SIGTERM, stop the job with a savepoint under this directory"
                    + " before exiting and print its path (resume with --resume PATH, or --resume latest with the"
                    + " same --savepoint-dir). Without it the job is cancelled and its last checkpoint is kept."
                    + " On a cluster use Flink's own 'flink stop --savepointPath'.")
    String savepointDir;

    @Option(
            names = "--restart-attempts",
            defaultValue = "5",
            description = "Fixed-delay restart attempts after a failure (default: ${DEFAULT-VALUE}).")
    int restartAttempts;

    @Option(
            names = "--restart-delay",
            defaultValue = "2 s",
            paramLabel = "DURATION",
            description = "Pause before a restart (default: ${DEFAULT-VALUE}).")
    String restartDelay;

    @Option(
            names = "--buffer-timeout",
            defaultValue = "5 ms",
            paramLabel = "DURATION",
            description = "Longest time a record waits in a network buffer before it is sent (Flink's"
                    + " execution.buffer-timeout.interval; Flink's default is 100 ms). Lower is lower latency at"
                    + " low load, higher is a little more throughput; 0 sends every record at once"
                    + " (default: ${DEFAULT-VALUE}).")
    String bufferTimeout;

    @Option(
            names = "--flink-conf",
            paramLabel = "KEY=VALUE",
            description = "Any Flink option by its key, repeatable, e.g. --flink-conf"
                    + " taskmanager.numberOfTaskSlots=4; applied over the job's own Flink settings. flink-slm's"
                    + " own keys go to --conf.")
    List<String> flinkConfPairs = new ArrayList<>();

    @Option(
            names = "--status-interval",
            defaultValue = "1 s",
            paramLabel = "DURATION",
            description = "How often an embedded run prints its status line (default: ${DEFAULT-VALUE}).")
    String statusInterval;

    /** Parses the flags into a validated configuration; throws IllegalArgumentException saying what to fix. */
    ScreeningConfig config() {
        List<String> problems = new ArrayList<>();
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        Configuration options = new Configuration();
        Set<String> confKeys = new HashSet<>();
        for (String pair : confPairs) {
            setConf(options, pair, confKeys, problems);
        }
        for (Map.Entry<String, ConfigOption<?>> e : FLAG_OPTIONS.entrySet()) {
            String flag = e.getKey();
            if (!parsed.hasMatchedOption(flag)) {
                continue; // the option's own default (shown in --help) or a --conf value applies
            }
            requireOneSource(flag, e.getValue(), confKeys, problems);
            set(options, flag, e.getValue(), spec.findOption(flag).getValue(), problems);
        }
        if (!kafkaProperties.isEmpty()) { // a map built from key=value pairs, so not in FLAG_OPTIONS
            requireOneSource("--kafka-property", ConnectorOptions.KAFKA_PROPERTIES, confKeys, problems);
        }
        try {
            Map<String, String> kafka = KafkaClientProperties.parse(kafkaProperties);
            if (!kafka.isEmpty()) {
                options.set(ConnectorOptions.KAFKA_PROPERTIES, kafka);
            }
        } catch (IllegalArgumentException e) {
            problems.add("--kafka-property: " + e.getMessage());
        }
        boolean kafka = options.containsKey(ConnectorOptions.BOOTSTRAP_SERVERS.key());
        if ((eventsFile != null || outputDir != null) && !kafka && !kafkaProperties.isEmpty()) {
            problems.add("--kafka-property given without --bootstrap-servers; add the brokers or drop the properties");
        }
        if (resume != null && resume.isBlank()) {
            problems.add("--resume is empty: give a checkpoint or savepoint path, or latest (leave it out for a"
                    + " fresh start)");
        }
        Duration restart = duration("--restart-delay", restartDelay, problems);
        if (restart == null) {
            restart = Duration.ZERO; // reported above
        }
        Duration interval =
                checkpointInterval == null ? null : duration("--checkpoint-interval", checkpointInterval, problems);
        duration("--status-interval", statusInterval, problems);
        Duration buffer = duration("--buffer-timeout", bufferTimeout, problems);
        Map<String, String> flinkConf = new java.util.LinkedHashMap<>();
        for (String pair : flinkConfPairs) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair.strip() : pair.substring(0, eq).strip();
            if (eq <= 0 || key.isEmpty() || pair.substring(eq + 1).isBlank()) {
                problems.add("--flink-conf '" + pair + "' is not KEY=VALUE");
            } else if (flinkConf.put(key, pair.substring(eq + 1).strip()) != null) {
                problems.add("--flink-conf " + key + " given twice; give it once");
            }
        }
        ScreeningConfig.Builder b = ScreeningConfig.builder()
                .options(options)
                .eventsFile(eventsFile)
                .commandsFile(commandsFile)
                .outputDir(outputDir)
                .modelCommands(!noModelCommands)
                .bounded(bounded)
                .maxEvents(maxEvents == null ? Long.MAX_VALUE : maxEvents)
                .eventsPerSecond(eventsPerSecond)
                .seed(seed)
                .checkpointInterval(interval)
                .checkpointDir(checkpointDir)
                .resumeFrom(resume == null || resume.isBlank() ? null : resume)
                .parallelism(parallelism)
                .restartAttempts(restartAttempts)
                .restartDelay(restart)
                .bufferTimeout(parsed.hasMatchedOption("--buffer-timeout") ? buffer : null);
        if (savepointDir != null && !savepointDir.isBlank()) {
            // also where --resume latest looks for the savepoint of a stop
            org.apache.flink.configuration.ConfigOption<String> option =
                    org.apache.flink.configuration.CheckpointingOptions.SAVEPOINT_DIRECTORY;
            List<String> keys = new ArrayList<>(List.of(option.key()));
            option.fallbackKeys().forEach(k -> keys.add(k.getKey()));
            for (String key : keys) {
                String given = flinkConf.get(key);
                if (given != null
                        && !new org.apache.flink.core.fs.Path(given)
                                .equals(new org.apache.flink.core.fs.Path(savepointDir))) {
                    problems.add("--savepoint-dir " + savepointDir + " and --flink-conf " + key + "=" + given
                            + " name two savepoint directories; give one");
                }
            }
            flinkConf.put(option.key(), savepointDir);
        }
        flinkConf.forEach(b::flinkConf);
        ScreeningConfig config;
        try {
            config = b.build();
        } catch (IllegalArgumentException e) {
            // the library names its settings; say them as flags (secrets masked before any rewriting)
            String library = inFlagTerms(FlinkSlmCli.scrub(e.getMessage(), parsed));
            if (problems.isEmpty()) {
                throw new IllegalArgumentException(library, e);
            }
            throw new IllegalArgumentException(library + "\n  - " + String.join("\n  - ", problems), e);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(
                    "invalid screening job configuration:\n  - " + String.join("\n  - ", problems));
        }
        return config;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ScreeningConfig config;
        try {
            config = config();
        } catch (IllegalArgumentException e) {
            // Some problems quote the value they reject (a duration, a label threshold), and the
            // builders' messages come from other libraries: anything that may be a secret goes.
            err.println(FlinkSlmCli.scrub(e.getMessage(), spec.commandLine().getParseResult()));
            err.flush();
            return 2;
        }
        StreamExecutionEnvironment env;
        try {
            env = ScreeningJob.environment(config);
        } catch (IllegalArgumentException e) {
            err.println(FlinkSlmCli.scrub(e.getMessage(), spec.commandLine().getParseResult()));
            err.flush();
            return 2;
        }
        String resumePath = ScreeningJob.resumePath(env);
        if (resumePath != null) {
            out.println("resuming from " + resumePath);
            out.flush();
        }
        // Only a local environment runs in this JVM; anywhere else (flink run, a remote cluster) the
        // in-JVM counters would never see a record, so there is nothing to report.
        boolean embedded = env instanceof LocalStreamEnvironment;
        ScreeningJob.build(env, config, embedded);
        if (!embedded) {
            LOG.info("Submitting {} to the cluster: {}", ScreeningJob.NAME, config);
            JobExecutionResult result = env.execute(ScreeningJob.NAME);
            out.println("job " + result.getJobID() + " finished");
            out.flush();
            return 0;
        }
        return runEmbedded(env, config, out);
    }

    private int runEmbedded(StreamExecutionEnvironment env, ScreeningConfig config, PrintWriter out) throws Exception {
        Duration every = TimeUtils.parseDuration(statusInterval);
        out.printf(
                "screening %s events with %s (source %s, sinks %s, model commands %s); %s%n",
                config.source() == ScreeningConfig.Source.SYNTHETIC
                        ? (config.maxEvents() == Long.MAX_VALUE ? "synthetic" : config.maxEvents() + " synthetic")
                        : config.source().name().toLowerCase(),
                config.options().get(ScoringOptions.MODEL),
                config.source(),
                config.sinks(),
                config.commands(),
                ScreeningJob.resumePath(env) != null
                        ? "its sources continue from the checkpoint, with the event bound, rate and topics they had"
                                + " there; Ctrl-C stops"
                        : config.maxEvents() == Long.MAX_VALUE
                                        && config.source() != ScreeningConfig.Source.FILE
                                        && !config.bounded()
                                ? "Ctrl-C stops"
                                : "stops by itself");
        out.flush();
        ScreeningStats.reset();
        AtomicBoolean summarised = new AtomicBoolean();
        AtomicReference<JobClient> client = new AtomicReference<>();
        ScheduledExecutorService reporter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "screen-status");
            t.setDaemon(true);
            return t;
        });
        AtomicReference<ScreeningStats.Snapshot> previous = new AtomicReference<>(ScreeningStats.snapshot());
        reporter.scheduleAtFixedRate(
                () -> {
                    ScreeningStats.Snapshot now = ScreeningStats.snapshot();
                    out.println(now.statusLine(previous.getAndSet(now)));
                    out.flush();
                },
                every.toMillis(),
                every.toMillis(),
                TimeUnit.MILLISECONDS);
        Thread hook = new Thread(
                () -> {
                    reporter.shutdownNow();
                    if (summarised.compareAndSet(false, true)) {
                        ScreeningStats.snapshot().printSummary(out, "interrupted");
                    }
                    JobClient c = client.get();
                    if (c != null) {
                        try {
                            c.cancel().get(5, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            LOG.debug("Cancelling on shutdown did not complete", e);
                        }
                    }
                },
                "screen-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        AtomicReference<Thread> stopping = new AtomicReference<>();
        try {
            JobClient jobClient = env.executeAsync(ScreeningJob.NAME);
            client.set(jobClient);
            LOG.info("Embedded screening job {} started", jobClient.getJobID());
            if (savepointDir != null) {
                // Taken before the JVM starts to shut down: in a shutdown hook the savepoint would race Flink's and
                // the native libraries' own shutdown. The job then finishes, and this method returns normally.
                StopOnSignal.install(() -> {
                    Thread t = new Thread(() -> stopWithSavepoint(jobClient, out), "screen-savepoint");
                    if (stopping.compareAndSet(null, t)) {
                        t.start();
                    }
                });
            }
            jobClient.getJobExecutionResult().get();
            Thread stop = stopping.get();
            if (stop != null) {
                stop.join();
            }
            reporter.shutdownNow();
            reporter.awaitTermination(2, TimeUnit.SECONDS);
            if (summarised.compareAndSet(false, true)) {
                ScreeningStats.snapshot().printSummary(out, stop != null ? "stopped with a savepoint" : "finished");
            }
            return 0;
        } catch (Exception e) {
            reporter.shutdownNow();
            // Client and connector exceptions may quote configuration values: scrub what INFO+ shows.
            String cause = FlinkSlmCli.scrub(rootMessage(e), spec.commandLine().getParseResult());
            LOG.error("Screening job failed: {}", cause);
            LOG.debug("Screening job failure, full trace", e);
            if (summarised.compareAndSet(false, true)) {
                ScreeningStats.snapshot().printSummary(out, "failed: " + cause);
            }
            return 1;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running already.
            }
        }
    }

    /** Stops the job with a savepoint under {@code --savepoint-dir} and prints where it went. */
    private void stopWithSavepoint(JobClient job, PrintWriter out) {
        try {
            String path = job.stopWithSavepoint(false, savepointDir, SavepointFormatType.CANONICAL)
                    .get(2, TimeUnit.MINUTES);
            out.println("savepoint " + path + " (resume with --resume " + path + ")");
        } catch (Exception e) {
            String cause = FlinkSlmCli.scrub(rootMessage(e), spec.commandLine().getParseResult());
            out.println("no savepoint was taken (" + cause + "); the last checkpoint is kept: --resume latest");
            LOG.debug("Stop with savepoint failed", e);
        }
        out.flush();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private static Duration duration(String flag, String value, List<String> problems) {
        try {
            return TimeUtils.parseDuration(value);
        } catch (RuntimeException e) {
            problems.add(flag + " '" + value + "' is not a duration; write e.g. 20ms, 10s or 5min");
            return null;
        }
    }

    /**
     * The flags that set one option of {@code ScoringOptions}, {@code ConnectorOptions} or
     * {@code ScreeningOptions} each: the one place a flag is tied to its key. {@link #config()} copies
     * a given flag's value into the key, and {@link OptionDefaults} shows the key's default in
     * {@code --help}; a flag that is not given leaves the key to its default or to {@code --conf}.
     */
    static final Map<String, ConfigOption<?>> FLAG_OPTIONS = flagOptions();

    private static Map<String, ConfigOption<?>> flagOptions() {
        Map<String, ConfigOption<?>> m = new LinkedHashMap<>();
        m.put("--model", ScoringOptions.MODEL);
        m.put("--model-root", ScoringOptions.MODEL_ROOTS);
        m.put("--batch-size", ScoringOptions.MAX_BATCH_SIZE);
        m.put("--max-batch-tokens", ScoringOptions.MAX_BATCH_TOKENS);
        m.put("--group-by-length", ScoringOptions.GROUP_BY_LENGTH);
        m.put("--max-wait", ScoringOptions.MAX_WAIT);
        m.put("--max-windows", ScoringOptions.MAX_WINDOWS);
        m.put("--window-stride", ScoringOptions.WINDOW_STRIDE);
        m.put("--max-in-flight", ScoringOptions.MAX_IN_FLIGHT);
        m.put("--provider", ScoringOptions.PROVIDER);
        m.put("--intra-op-threads", ScoringOptions.INTRA_OP_THREADS);
        m.put("--failure-policy", ScoringOptions.FAILURE_POLICY);
        m.put("--alert-threshold", ScreeningOptions.ALERT_THRESHOLD);
        m.put("--label-threshold", ScreeningOptions.ALERT_LABEL_THRESHOLDS);
        m.put("--max-event-size", ConnectorOptions.MAX_EVENT_SIZE);
        m.put("--bootstrap-servers", ConnectorOptions.BOOTSTRAP_SERVERS);
        m.put("--events-topic", ConnectorOptions.EVENTS_TOPIC);
        m.put("--commands-topic", ConnectorOptions.COMMANDS_TOPIC);
        m.put("--scored-topic", ScreeningOptions.SCORED_TOPIC);
        m.put("--alerts-topic", ScreeningOptions.ALERTS_TOPIC);
        m.put("--shadow-topic", ScreeningOptions.SHADOW_TOPIC);
        m.put("--dead-letter-topic", ConnectorOptions.DEAD_LETTER_TOPIC);
        m.put("--audit-topic", ConnectorOptions.AUDIT_TOPIC);
        m.put("--group-id", ConnectorOptions.GROUP_ID);
        m.put("--starting-offsets", ConnectorOptions.STARTING_OFFSETS);
        m.put("--delivery-guarantee", ConnectorOptions.DELIVERY_GUARANTEE);
        m.put("--transactional-id-prefix", ConnectorOptions.TRANSACTIONAL_ID_PREFIX);
        m.put("--transaction-timeout", ConnectorOptions.TRANSACTION_TIMEOUT);
        return Collections.unmodifiableMap(m);
    }

    /**
     * Every option {@code --conf} may set, by key: the public {@code ConfigOption} constants of the
     * scoring, connector and screening option classes.
     */
    static final Map<String, ConfigOption<?>> ALL_OPTIONS = ScreeningConfig.OPTIONS;

    /** A key is set by a flag or by {@code --conf}, not by both. */
    private static void requireOneSource(
            String flag, ConfigOption<?> option, Set<String> confKeys, List<String> problems) {
        if (confKeys.contains(option.key())) {
            problems.add(flag + " and --conf " + option.key() + " both given; use one of them");
        }
    }

    /** {@code --conf KEY=VALUE}: a known key, its value parsed as Flink parses that option's type. */
    private static void setConf(Configuration options, String pair, Set<String> given, List<String> problems) {
        int eq = pair.indexOf('=');
        String key = eq < 0 ? pair.trim() : pair.substring(0, eq).trim();
        ConfigOption<?> option = ALL_OPTIONS.get(key);
        if (eq <= 0 || option == null) {
            problems.add("--conf '" + key + "'" + (eq < 0 ? " has no value; write KEY=VALUE" : " is not an option key")
                    + "; the keys are listed in docs/screening-job.md (" + ALL_OPTIONS.size() + " of them)");
            return;
        }
        if (!given.add(key)) {
            problems.add("--conf " + key + " given twice; give it once");
            return;
        }
        set(options, "--conf " + key, option, pair.substring(eq + 1).trim(), problems);
    }

    /**
     * Sets {@code option} from a flag's parsed value: lists and maps as they are, anything else
     * through its text, parsed as Flink parses the option's type.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void set(
            Configuration options, String flag, ConfigOption<?> option, Object value, List<String> problems) {
        if (value == null) {
            return;
        }
        if (value instanceof Collection<?> || value instanceof Map<?, ?>) {
            boolean empty = value instanceof Collection<?> c ? c.isEmpty() : ((Map<?, ?>) value).isEmpty();
            if (!empty) {
                options.set((ConfigOption) option, value);
            }
            return;
        }
        Object sample = option.hasDefaultValue() ? option.defaultValue() : null;
        if (sample != null && sample.getClass().isInstance(value)) {
            options.set((ConfigOption) option, value); // picocli parsed it to the option's type already
            return;
        }
        String text = String.valueOf(value);
        if (sample instanceof Enum<?> e) {
            // Flink matches enum constants by toString() (at-least-once); the flags and docs use the names
            for (Object constant : e.getDeclaringClass().getEnumConstants()) {
                if (((Enum<?>) constant).name().equalsIgnoreCase(text.trim())) {
                    options.set((ConfigOption) option, constant);
                    return;
                }
            }
        }
        try {
            Object typed = Configuration.fromMap(Map.of(option.key(), text)).get(option);
            options.set((ConfigOption) option, typed);
        } catch (IllegalArgumentException e) {
            String hint = sample instanceof Duration
                    ? "is not a duration; write e.g. 20ms, 10s or 5min"
                    : sample instanceof MemorySize
                            ? "is not a size; write e.g. 1mb or 64kb"
                            : "is not a valid " + (sample == null ? "value" : typeName(sample));
            problems.add(flag + " '" + text + "' " + hint);
        }
    }

    private static String typeName(Object sample) {
        if (sample instanceof Enum<?> e) {
            return "value; use one of "
                    + java.util.Arrays.toString(e.getDeclaringClass().getEnumConstants());
        }
        return sample instanceof Integer || sample instanceof Long
                ? "whole number"
                : sample instanceof Double ? "number" : sample instanceof Boolean ? "true/false" : "value";
    }

    /**
     * A configuration problem in the words of this command line: a setting the library names in
     * backquotes (a builder method or an option key) becomes the flag that sets it, and an option key
     * a flag sets is followed by that flag.
     */
    static String inFlagTerms(String message) {
        if (message == null) {
            return null;
        }
        String out = message;
        for (Map.Entry<String, String> e : SETTING_FLAGS.entrySet()) {
            out = out.replace("`" + e.getKey() + "`", e.getValue());
        }
        for (Map.Entry<String, ConfigOption<?>> e : FLAG_OPTIONS.entrySet()) {
            String key = e.getValue().key();
            out = out.replace("`" + key + "`", e.getKey())
                    .replaceAll(
                            "(?<![\\w.`-])" + Pattern.quote(key) + "(?![\\w.`-])",
                            Matcher.quoteReplacement(key + " (" + e.getKey() + ")"));
        }
        return out;
    }

    /** The flags of {@code ScreeningConfig.Builder} settings, by builder method. */
    private static final Map<String, String> SETTING_FLAGS = Map.ofEntries(
            Map.entry("eventsFile", "--events-file"),
            Map.entry("commandsFile", "--commands-file"),
            Map.entry("outputDir", "--output-dir"),
            Map.entry("modelCommands", "--no-model-commands"),
            Map.entry("bounded", "--bounded"),
            Map.entry("maxEvents", "--max-events"),
            Map.entry("eventsPerSecond", "--events-per-second"),
            Map.entry("seed", "--seed"),
            Map.entry("checkpointInterval", "--checkpoint-interval"),
            Map.entry("checkpointDir", "--checkpoint-dir"),
            Map.entry("resumeFrom", "--resume"),
            Map.entry("parallelism", "--parallelism"),
            Map.entry("restartAttempts", "--restart-attempts"),
            Map.entry("restartDelay", "--restart-delay"),
            Map.entry("bufferTimeout", "--buffer-timeout"),
            Map.entry("flinkConf", "--flink-conf"),
            Map.entry("options", "--conf"));

    /** Shows the default of the option a flag sets (see {@link #FLAG_OPTIONS}) in {@code --help}. */
    static final class OptionDefaults implements CommandLine.IDefaultValueProvider {

        @Override
        public String defaultValue(CommandLine.Model.ArgSpec argSpec) {
            if (!(argSpec instanceof CommandLine.Model.OptionSpec option)) {
                return null;
            }
            ConfigOption<?> key = FLAG_OPTIONS.get(option.longestName());
            if (key == null || !key.hasDefaultValue()) {
                return null;
            }
            Object value = key.defaultValue();
            if (value instanceof Collection<?> || value instanceof Map<?, ?>) {
                return null; // repeatable flags: none given means the key's default (empty)
            }
            if (value instanceof Enum<?> e) {
                return e.name(); // some enums (DeliveryGuarantee) print a display name instead
            }
            if (value instanceof Duration d) {
                return TimeUtils.formatWithHighestUnit(d);
            }
            if (value instanceof MemorySize m) {
                long bytes = m.getBytes();
                return bytes % (1 << 20) == 0
                        ? bytes / (1 << 20) + "mb"
                        : bytes % 1024 == 0 ? bytes / 1024 + "kb" : bytes + "b";
            }
            return String.valueOf(value);
        }
    }
}
