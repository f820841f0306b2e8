package dev.flinkslm.screening;

import dev.flinkslm.connectors.DeadLetter;
import dev.flinkslm.connectors.DeadLetterReason;
import dev.flinkslm.connectors.EventFileSource;
import dev.flinkslm.connectors.FileResultSink;
import dev.flinkslm.connectors.JsonSchemas;
import dev.flinkslm.connectors.KafkaCommandSource;
import dev.flinkslm.connectors.KafkaEventSource;
import dev.flinkslm.connectors.KafkaResultSink;
import dev.flinkslm.connectors.RawEvent;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoredStream;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.operators.SlmScoring;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ShadowResult;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.SecurityOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * The compliance screening pipeline: events (Kafka, a JSON-lines file, or the synthetic
 * generator) are parsed (bad records dead-lettered), keyed by account, scored by the SLM operator
 * with live model versions, turned into {@link ScoredEvent}s and {@link Alert}s, and written to
 * Kafka (EXACTLY_ONCE by default) or to files. Every input ends up either scored or dead-lettered.
 *
 * <pre>{@code
 * ScreeningConfig config = ScreeningConfig.builder().option(ConnectorOptions.BOOTSTRAP_SERVERS, "b:9092").build();
 * StreamExecutionEnvironment env = ScreeningJob.environment(config);
 * ScreeningJob.build(env, config);
 * env.execute(ScreeningJob.NAME);
 * }</pre>
 *
 * <p>{@code java -jar flink-slm.jar screen ...} (the CLI's {@code screen} command) does exactly this; tests
 * build the same pipeline. Threading: static methods, called on the client's main thread.
 */
@PublicEvolving
public final class ScreeningJob {

    /** Job name. */
    public static final String NAME = "flink-slm-screening";

    private static final Logger LOG = LoggerFactory.getLogger(ScreeningJob.class);

    private ScreeningJob() {}

    /**
     * Flink settings of the job: RocksDB state, checkpointing, restart strategy, checkpoint
     * directory, parallelism and network buffer timeout, then the options given by key
     * ({@link ScreeningConfig#flinkConf()}), which override them.
     */
    public static Configuration flinkConfiguration(ScreeningConfig config) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        // Checkpoints go to a file system, never into JobManager memory: the model rule log and the
        // pending events of every subtask would otherwise count against the JobManager's heap limit.
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, config.checkpointInterval());
        // The last checkpoint survives a cancellation and a failure, so that the job can be resumed from it.
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        if (config.checkpointDir() != null) {
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, config.checkpointDir());
        }
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, config.restartAttempts());
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, config.restartDelay());
        // Under backpressure (the model is the bottleneck) keep only about a second of data in flight
        // between operators, so that end-to-end latency reflects scoring, not full network buffers.
        conf.set(org.apache.flink.configuration.TaskManagerOptions.BUFFER_DEBLOAT_ENABLED, true);
        if (config.parallelism() > 0) {
            conf.set(org.apache.flink.configuration.CoreOptions.DEFAULT_PARALLELISM, config.parallelism());
        }
        // Latency at low load: send a network buffer after at most this long instead of Flink's 100 ms.
        conf.set(ExecutionOptions.BUFFER_TIMEOUT_ENABLED, true);
        conf.set(ExecutionOptions.BUFFER_TIMEOUT, config.bufferTimeout());
        // Options given by key (--flink-conf) last, over the job's own settings.
        conf.addAll(Configuration.fromMap(config.flinkConf()));
        return conf;
    }

    /**
     * The execution environment for the job: inside a cluster (flink run) the cluster's, in a test
     * with a MiniCluster that one, otherwise a local embedded cluster.
     */
    public static StreamExecutionEnvironment environment(ScreeningConfig config) {
        return configure(StreamExecutionEnvironment.getExecutionEnvironment(flinkConfiguration(config)), config);
    }

    /** Applies the configuration, the checkpoint directory and the restore path to {@code env}. */
    static StreamExecutionEnvironment configure(StreamExecutionEnvironment env, ScreeningConfig config) {
        // Some environments (a cluster's context environment) ignore parts of the passed configuration.
        env.configure(flinkConfiguration(config));
        if (env instanceof LocalStreamEnvironment) {
            // An embedded cluster has no Kerberos or cloud credentials to obtain delegation tokens for; without
            // this Flink warns at every start that it obtained none.
            Configuration local = new Configuration();
            local.set(SecurityOptions.DELEGATION_TOKENS_ENABLED, false);
            env.configure(local);
        }
        String checkpointDir = config.checkpointDir() != null
                ? config.checkpointDir()
                : env.getConfiguration()
                        .getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY)
                        .orElse(null);
        if (checkpointDir == null && env instanceof LocalStreamEnvironment) {
            // An embedded run whose configuration names none keeps them in the temp dir. Anywhere else the
            // cluster's own setting applies: a path of this machine would override it.
            checkpointDir = defaultCheckpointDir();
            Configuration local = new Configuration();
            local.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir);
            env.configure(local);
            LOG.info("Checkpoints go to {} (set the checkpoint directory to choose)", checkpointDir);
        } else if (checkpointDir == null) {
            LOG.info("No checkpoint directory is configured here: the cluster's execution.checkpointing.dir applies;"
                    + " without one, checkpoints stay in the JobManager's memory and cannot be resumed from");
        }
        if (config.resumeFrom() != null) {
            String path;
            if (ScreeningConfig.RESUME_LATEST.equalsIgnoreCase(config.resumeFrom())) {
                if (checkpointDir == null) {
                    throw new IllegalArgumentException("--resume latest: no checkpoint directory is configured here"
                            + " (--checkpoint-dir, or execution.checkpointing.dir in this machine's Flink"
                            + " configuration); give --checkpoint-dir of the run to resume, or a checkpoint path");
                }
                path = RetainedCheckpoints.latest(
                        checkpointDir,
                        env.getConfiguration()
                                .getOptional(CheckpointingOptions.SAVEPOINT_DIRECTORY)
                                .orElse(null));
            } else {
                path = RetainedCheckpoints.requireComplete(config.resumeFrom());
            }
            String flinks = resumePath(env);
            if (flinks != null && !RetainedCheckpoints.sameLocation(flinks, path)) {
                throw new IllegalArgumentException("--resume " + config.resumeFrom() + " (" + path + ") and Flink's"
                        + " restore path " + flinks + " (flink run -s, or execution.state-recovery.path) are both"
                        + " given; give one of them");
            }
            Configuration restore = new Configuration();
            restore.set(StateRecoveryOptions.SAVEPOINT_PATH, path);
            env.configure(restore);
            LOG.info("Resuming from {}", path);
        }
        return env;
    }

    /** The checkpoint or savepoint the environment restores the job from, or null for a fresh start. */
    public static String resumePath(StreamExecutionEnvironment env) {
        return env.getConfiguration()
                .getOptional(StateRecoveryOptions.SAVEPOINT_PATH)
                .orElse(null);
    }

    /** Checkpoint directory of runs that name none: {@code <java.io.tmpdir>/flink-slm-checkpoints}. */
    static String defaultCheckpointDir() {
        return java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "flink-slm-checkpoints")
                .toUri()
                .toString();
    }

    /** Adds the whole pipeline to {@code env}: {@link #read}, then {@link #screen}. */
    public static Pipeline build(StreamExecutionEnvironment env, ScreeningConfig config) {
        return build(env, config, false);
    }

    /**
     * Adds the whole pipeline to {@code env}.
     *
     * @param liveStatus add in-JVM counters for the status line (embedded runs only)
     */
    public static Pipeline build(StreamExecutionEnvironment env, ScreeningConfig config, boolean liveStatus) {
        return screen(read(env, config), config, liveStatus);
    }

    /**
     * The first stage: the configured sources, parsed. A caller may transform the events (filter,
     * enrich) with {@link Inputs#withEvents} before passing them to {@link #screen}:
     *
     * <pre>{@code
     * ScreeningJob.Inputs in = ScreeningJob.read(env, config);
     * ScreeningJob.screen(in.withEvents(in.events().filter(e -> e.kind != EventKind.UNKNOWN)), config, false);
     * }</pre>
     */
    public static Inputs read(StreamExecutionEnvironment env, ScreeningConfig config) {
        LOG.info("Building the screening job: {}", config);
        org.apache.flink.configuration.Configuration options = config.options();

        // 1. Events. Record timestamps mark when an event entered the job (Kafka: the record's
        // timestamp), which the status line's end-to-end latency is measured from.
        SingleOutputStreamOperator<FinancialEvent> events;
        DataStream<DeadLetter> parseDeadLetters = null;
        switch (config.source()) {
            case SYNTHETIC ->
                events = env.fromSource(
                                SyntheticEventSource.builder()
                                        .seed(config.seed())
                                        .maxEvents(config.maxEvents())
                                        .eventsPerSecond(config.eventsPerSecond())
                                        .build(),
                                WatermarkStrategy.<FinancialEvent>noWatermarks()
                                        .withTimestampAssigner((e, ts) -> System.currentTimeMillis()),
                                "synthetic-events")
                        .uid("synthetic-events");
            case FILE -> {
                DataStream<RawEvent> raw = env.fromSource(
                                EventFileSource.builder()
                                        .configure(options)
                                        .path(config.eventsFile())
                                        .build(),
                                WatermarkStrategy.<RawEvent>noWatermarks()
                                        .withTimestampAssigner((r, ts) -> System.currentTimeMillis()),
                                "events-file")
                        .uid("events-file");
                events = parse(raw, config);
                parseDeadLetters = events.getSideOutput(EventParsing.DEAD_LETTERS);
            }
            case KAFKA -> {
                DataStream<RawEvent> raw = env.fromSource(
                                KafkaEventSource.builder()
                                        .configure(options)
                                        .bounded(config.bounded())
                                        .build(),
                                WatermarkStrategy.noWatermarks(),
                                "kafka-events")
                        .uid("kafka-events");
                events = parse(raw, config);
                parseDeadLetters = events.getSideOutput(EventParsing.DEAD_LETTERS);
            }
            default -> throw new IllegalStateException("unknown source " + config.source());
        }

        // 2. Model commands (live versions), if any.
        DataStream<ModelCommand> commands = switch (config.commands()) {
            case NONE -> null;
            case FILE ->
                parseCommands(
                        env.fromSource(
                                        EventFileSource.builder()
                                                .path(config.commandsFile())
                                                .build(),
                                        WatermarkStrategy.noWatermarks(),
                                        "commands-file")
                                .uid("commands-file"),
                        options,
                        Map.of());
            case KAFKA ->
                parseCommands(
                        env.fromSource(
                                        KafkaCommandSource.builder()
                                                .configure(options)
                                                .buildRaw(),
                                        WatermarkStrategy.noWatermarks(),
                                        "kafka-commands")
                                .uid("kafka-commands"),
                        options,
                        commandHistoryEnd(env, () -> commandHistoryEnd(options)));
        };

        return new Inputs(events, parseDeadLetters, commands);
    }

    /**
     * The second stage: scores the events keyed by account, applies the alert policy and writes
     * every output to the configured sinks.
     *
     * @param liveStatus add in-JVM counters for the status line (embedded runs only)
     */
    public static Pipeline screen(Inputs inputs, ScreeningConfig config, boolean liveStatus) {
        org.apache.flink.configuration.Configuration options = config.options();
        DataStream<FinancialEvent> toScore = inputs.events();
        DataStream<DeadLetter> parseDeadLetters = inputs.parseDeadLetters();
        DataStream<ModelCommand> commands = inputs.commands();

        // 3. Score, keyed by account so that model versions (canary shares, per-key pins) are sticky.
        SlmScoring.Builder<FinancialEvent> scoring = SlmScoring.<FinancialEvent>builder()
                .text(e -> e.text)
                .configure(options)
                .name("slm-scoring");
        if (commands != null) {
            scoring.controlStream(commands);
        }
        ScoredStream<FinancialEvent> scored = scoring.build().apply(toScore.keyBy(e -> e.accountId, Types.STRING));

        SingleOutputStreamOperator<ScoredEvent> results = scored.results()
                .map(new ToScoredEvent(), TypeInformation.of(ScoredEvent.class))
                .name("to-scored-event")
                .uid("to-scored-event");
        AlertPolicy policy = config.alertPolicy();
        SingleOutputStreamOperator<Alert> alerts = results.flatMap(policy.asFunction(), TypeInformation.of(Alert.class))
                .name("alerts")
                .uid("alerts");
        DataStream<DeadLetter> scoringDeadLetters = scored.deadLetters()
                .map(new ToDeadLetter(), TypeInformation.of(DeadLetter.class))
                .name("scoring-dead-letters")
                .uid("scoring-dead-letters");
        DataStream<DeadLetter> deadLetters =
                parseDeadLetters == null ? scoringDeadLetters : parseDeadLetters.union(scoringDeadLetters);
        DataStream<ModelAudit> audit = commands == null ? null : scored.audit();
        DataStream<ShadowComparison> shadow = commands == null
                ? null
                : scored.shadowResults()
                        .map(new ToShadowComparison(), TypeInformation.of(ShadowComparison.class))
                        .name("to-shadow-comparison")
                        .uid("to-shadow-comparison");

        // 4. Sinks.
        switch (config.sinks()) {
            case KAFKA -> {
                results.sinkTo(ScreeningSinks.kafkaScored().configure(options).build())
                        .name("kafka-scored")
                        .uid("kafka-scored");
                alerts.sinkTo(ScreeningSinks.kafkaAlerts().configure(options).build())
                        .name("kafka-alerts")
                        .uid("kafka-alerts");
                deadLetters
                        .sinkTo(KafkaResultSink.deadLetters().configure(options).build())
                        .name("kafka-dead-letter")
                        .uid("kafka-dead-letter");
                if (audit != null) {
                    audit.sinkTo(KafkaResultSink.audit(JsonSchemas.<ModelAudit>pojo())
                                    .configure(options)
                                    .build())
                            .name("kafka-audit")
                            .uid("kafka-audit");
                    shadow.sinkTo(ScreeningSinks.kafkaShadow()
                                    .configure(options)
                                    .build())
                            .name("kafka-shadow")
                            .uid("kafka-shadow");
                }
            }
            case FILES -> {
                String dir = config.outputDir();
                results.sinkTo(ScreeningSinks.fileScored(dir).build())
                        .name("file-scored")
                        .uid("file-scored");
                alerts.sinkTo(ScreeningSinks.fileAlerts(dir).build())
                        .name("file-alerts")
                        .uid("file-alerts");
                deadLetters
                        .sinkTo(FileResultSink.deadLetters(dir).build())
                        .name("file-dead-letter")
                        .uid("file-dead-letter");
                if (audit != null) {
                    audit.sinkTo(FileResultSink.audit(dir, JsonSchemas.<ModelAudit>pojo())
                                    .build())
                            .name("file-audit")
                            .uid("file-audit");
                    shadow.sinkTo(ScreeningSinks.fileShadow(dir).build())
                            .name("file-shadow")
                            .uid("file-shadow");
                }
            }
            case NONE -> {
                // Embedded demo: the live status is the output.
            }
            default -> throw new IllegalStateException("unknown sinks " + config.sinks());
        }

        if (liveStatus) {
            // Short names: a tap is chained to its input, and Flink truncates (and warns about) task names over 80
            // characters in its metrics.
            results.process(new ScreeningStats.ScoredTap(), Types.VOID)
                    .name("count-scored")
                    .sinkTo(new DiscardingSink<>())
                    .name("status");
            alerts.process(new ScreeningStats.AlertTap(), Types.VOID)
                    .name("count-alerts")
                    .sinkTo(new DiscardingSink<>())
                    .name("status");
            if (parseDeadLetters != null) {
                parseDeadLetters
                        .process(new ScreeningStats.DeadLetterTap(false), Types.VOID)
                        .name("count-parse-dl")
                        .sinkTo(new DiscardingSink<>())
                        .name("status");
            }
            if (shadow != null) {
                shadow.process(new ScreeningStats.ShadowTap(), Types.VOID)
                        .name("count-shadow")
                        .sinkTo(new DiscardingSink<>())
                        .name("status");
            }
            scoringDeadLetters
                    .process(new ScreeningStats.DeadLetterTap(true), Types.VOID)
                    .name("count-scoring-dl")
                    .sinkTo(new DiscardingSink<>())
                    .name("status");
        }
        return new Pipeline(results, alerts, deadLetters, audit, shadow);
    }

    /** One parallel instance reads and parses the commands, so every subtask sees them in one order. */
    private static DataStream<ModelCommand> parseCommands(
            SingleOutputStreamOperator<RawEvent> raw,
            org.apache.flink.configuration.Configuration options,
            Map<Integer, Long> historyEnd) {
        return raw.setParallelism(1)
                .flatMap(
                        new ParseCommand(options.get(ScoringOptions.MAX_COMMAND_BYTES), historyEnd),
                        SlmScoring.COMMAND_TYPE)
                .setParallelism(1)
                .name("parse-commands")
                .uid("parse-commands");
    }

    /**
     * A job that starts without state reads the command topic from its start to rebuild its rules; the commands
     * below these offsets were applied before, by an earlier job, and their audit records say they are replays.
     * A resumed job restores its position and reads no history. Unknown (the broker did not answer): nothing is
     * marked, and the job itself reports the broker.
     */
    static Map<Integer, Long> commandHistoryEnd(
            StreamExecutionEnvironment env, java.util.function.Supplier<Map<Integer, Long>> endOffsets) {
        // a restore, by --resume or by Flink's own restore path (flink run -s), reads no history
        return resumePath(env) == null ? endOffsets.get() : Map.of();
    }

    private static Map<Integer, Long> commandHistoryEnd(org.apache.flink.configuration.Configuration options) {
        try {
            return KafkaCommandSource.builder().configure(options).endOffsets(Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            LOG.warn(
                    "Could not read the end offsets of the command topic; replayed commands are not marked: {}",
                    e.getMessage());
            return Map.of();
        }
    }

    private static SingleOutputStreamOperator<FinancialEvent> parse(DataStream<RawEvent> raw, ScreeningConfig config) {
        SingleOutputStreamOperator<FinancialEvent> events = EventParsing.parse(raw, config.parser());
        events.uid("parse-events");
        return events;
    }

    /**
     * Builds every Kafka source and sink the configuration asks for, so that their validation runs
     * before submission. Package-private: used by {@link ScreeningConfig.Builder#build()}.
     */
    static void kafkaComponents(ScreeningConfig config) {
        Configuration options = config.options();
        if (config.source() == ScreeningConfig.Source.KAFKA) {
            KafkaEventSource.builder().configure(options).build();
        }
        if (config.commands() == ScreeningConfig.Commands.KAFKA) {
            KafkaCommandSource.builder().configure(options).buildRaw();
        }
        if (config.sinks() == ScreeningConfig.Sinks.KAFKA) {
            ScreeningSinks.kafkaScored().configure(options).build();
            ScreeningSinks.kafkaAlerts().configure(options).build();
            ScreeningSinks.kafkaShadow().configure(options).build();
            KafkaResultSink.deadLetters().configure(options).build();
            KafkaResultSink.audit(JsonSchemas.<ModelAudit>pojo())
                    .configure(options)
                    .build();
        }
    }

    /**
     * The parsed inputs of the pipeline.
     *
     * @param events valid events to score
     * @param parseDeadLetters records the parser rejected; null for the synthetic source
     * @param commands model commands; null when the job has none
     */
    public record Inputs(
            DataStream<FinancialEvent> events,
            DataStream<DeadLetter> parseDeadLetters,
            DataStream<ModelCommand> commands) {

        /** The same inputs with other events, e.g. filtered or enriched ones. */
        public Inputs withEvents(DataStream<FinancialEvent> newEvents) {
            return new Inputs(newEvents, parseDeadLetters, commands);
        }
    }

    /** The job's main streams, for callers adding more sinks. */
    public record Pipeline(
            DataStream<ScoredEvent> scored,
            DataStream<Alert> alerts,
            DataStream<DeadLetter> deadLetters,
            DataStream<ModelAudit> audit,
            DataStream<ShadowComparison> shadow) {}

    /** A shadow result as written: identifiers, labels and scores, without the event's text. */
    static final class ToShadowComparison implements MapFunction<ShadowResult<FinancialEvent>, ShadowComparison> {
        private static final long serialVersionUID = 1L;

        @Override
        public ShadowComparison map(ShadowResult<FinancialEvent> r) {
            ShadowComparison c = new ShadowComparison();
            c.eventId = r.element.eventId;
            c.accountId = r.element.accountId;
            c.servedModel = r.servedModel;
            c.servedLabel = r.servedLabel;
            c.servedScore = r.servedScore;
            c.shadowModel = r.shadowModel;
            c.shadowLabel = r.shadowLabel;
            c.shadowScore = r.shadowScore;
            c.agree = r.agree;
            c.agreementRate = r.agreementRate;
            c.compared = r.compared;
            return c;
        }
    }

    /** Scored operator output to the output record (probabilities widened, microseconds to ms). */
    static final class ToScoredEvent implements MapFunction<Scored<FinancialEvent>, ScoredEvent> {
        private static final long serialVersionUID = 1L;

        @Override
        public ScoredEvent map(Scored<FinancialEvent> s) {
            double[] p = new double[s.probabilities.length];
            for (int i = 0; i < p.length; i++) {
                p[i] = s.probabilities[i];
            }
            ScoredEvent e = ScoredEvent.of(
                    s.element,
                    s.labels,
                    p,
                    s.labelIndex,
                    s.modelId,
                    s.modelVersion,
                    s.variant,
                    s.windows,
                    s.truncated,
                    s.queueWaitMicros / 1000,
                    s.inferenceMicros / 1000,
                    System.currentTimeMillis());
            e.ruleEpoch = s.ruleEpoch;
            e.negativeLabel = s.negativeLabel;
            if (s.thresholds != null) {
                e.modelThresholds = new double[s.thresholds.length];
                for (int i = 0; i < s.thresholds.length; i++) {
                    e.modelThresholds[i] = s.thresholds[i];
                }
            }
            return e;
        }
    }

    /** A scoring failure as a replayable dead letter (payload = the event as input JSON). */
    static final class ToDeadLetter implements MapFunction<ScoringFailure<FinancialEvent>, DeadLetter> {
        private static final long serialVersionUID = 1L;

        @Override
        public DeadLetter map(ScoringFailure<FinancialEvent> f) {
            String message = f.reason + ": " + f.message + (f.model == null ? "" : " (model " + f.model + ")");
            DeadLetterReason reason = ScoringFailure.MODEL_OUTPUT_INVALID.equals(f.reason)
                    ? DeadLetterReason.MODEL_OUTPUT_INVALID
                    : DeadLetterReason.PROCESSING_FAILED;
            return f.element.deadLetter(reason, message, System.currentTimeMillis());
        }
    }

    /**
     * JSON lines to {@link ModelCommand}s. Nothing is skipped: a line that is not a valid command
     * becomes a malformed command carrying the parse error and its source position, which the
     * scoring operator rejects with an audit record (commands are operator input, not customer data).
     */
    static final class ParseCommand implements FlatMapFunction<RawEvent, ModelCommand> {
        private static final long serialVersionUID = 1L;
        private static final Logger LOG = LoggerFactory.getLogger(ParseCommand.class);

        private final int maxBytes;
        /** Per partition of the command topic: offsets below this were history when a fresh job started. */
        private final Map<Integer, Long> historyEnd;

        ParseCommand(int maxBytes, Map<Integer, Long> historyEnd) {
            this.maxBytes = maxBytes;
            this.historyEnd = new java.util.HashMap<>(historyEnd);
        }

        @Override
        public void flatMap(RawEvent raw, Collector<ModelCommand> out) {
            if (raw.value == null || raw.value.length == 0 || new String(raw.value, StandardCharsets.UTF_8).isBlank()) {
                return; // an empty line or a tombstone is not a command
            }
            String source = raw.position == null ? null : raw.position.toString();
            ModelCommand command = ModelCommand.parse(raw.value, source, maxBytes);
            if (raw.position != null && raw.position.offset >= 0) {
                Long end = historyEnd.get(raw.position.partition);
                command.replay = end != null && raw.position.offset < end;
            }
            LOG.info(
                    "Model command {} {} from {}{}{}",
                    command.commandId,
                    command.action,
                    source,
                    command.replay ? " (replayed from the topic's history)" : "",
                    command.parseError == null ? "" : " (malformed: " + command.parseError + ")");
            out.collect(command);
        }
    }
}
