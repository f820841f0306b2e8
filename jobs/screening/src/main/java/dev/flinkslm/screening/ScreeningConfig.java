package dev.flinkslm.screening;

import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.connectors.Redaction;
import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.operators.SlmScoring;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.Configuration;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The validated configuration of the compliance screening job ({@link ScreeningJob}).
 *
 * <pre>{@code
 * ScreeningConfig config = ScreeningConfig.builder()
 *         .eventsFile("/data/events.jsonl")
 *         .outputDir("/data/out")
 *         .option(ScoringOptions.MAX_BATCH_SIZE, 16)
 *         .build();                 // throws IllegalArgumentException listing what to fix
 * }</pre>
 *
 * <p>Where events come from: {@link #eventsFile()} when set, else Kafka when
 * {@code kafka.bootstrap-servers} is set, else the built-in synthetic generator. Where results go:
 * {@link #outputDir()} when set, else Kafka when bootstrap servers are set, else nowhere (the
 * embedded demo only shows the live status). Model commands: {@link #commandsFile()} when set, else
 * the Kafka command topic when bootstrap servers are set and {@link #modelCommands()} is true, else
 * none. Everything that the connectors and the scoring operator read lives in {@link #options()}
 * as {@code ConnectorOptions}, {@code ScreeningOptions} and {@code ScoringOptions} keys.
 *
 * <p>{@link Builder#build()} lists every problem at once. A problem names the setting it is about
 * in backquotes, as a builder method ({@code `maxEvents`}) or an option key
 * ({@code `kafka.transaction-timeout`}), so that a front end can put its own names in their place.
 *
 * <p>Threading: immutable.
 */
@PublicEvolving
public final class ScreeningConfig {

    /** The screening job's model when {@code slm.model} is not set: the built-in compliance model. */
    public static final String DEFAULT_MODEL = "default:int8";

    /** Where the job reads events. */
    public enum Source {
        SYNTHETIC,
        FILE,
        KAFKA
    }

    /** Where the job writes results. */
    public enum Sinks {
        NONE,
        FILES,
        KAFKA
    }

    /** Where model commands come from. */
    public enum Commands {
        NONE,
        FILE,
        KAFKA
    }

    /** Checkpoint interval in Kafka mode unless set. */
    public static final Duration DEFAULT_KAFKA_CHECKPOINT_INTERVAL = Duration.ofSeconds(10);
    /** Checkpoint interval without Kafka (embedded demo, files) unless set. */
    public static final Duration DEFAULT_LOCAL_CHECKPOINT_INTERVAL = Duration.ofSeconds(2);

    /**
     * Network buffer timeout unless set: an output buffer is sent when full or after this long. Flink's own
     * default (100 ms) would add up to 100 ms to each hop at low load; 5 ms costs a little throughput.
     */
    public static final Duration DEFAULT_BUFFER_TIMEOUT = Duration.ofMillis(5);

    /** Every option key of the scoring operator, the connectors and the screening domain, by key. */
    public static final Map<String, org.apache.flink.configuration.ConfigOption<?>> OPTIONS =
            optionsOf(ScoringOptions.class, ConnectorOptions.class, ScreeningOptions.class);

    private static Map<String, org.apache.flink.configuration.ConfigOption<?>> optionsOf(Class<?>... holders) {
        Map<String, org.apache.flink.configuration.ConfigOption<?>> m = new java.util.TreeMap<>();
        for (Class<?> holder : holders) {
            for (java.lang.reflect.Field f : holder.getFields()) {
                if (java.lang.reflect.Modifier.isStatic(f.getModifiers())
                        && org.apache.flink.configuration.ConfigOption.class.isAssignableFrom(f.getType())) {
                    try {
                        org.apache.flink.configuration.ConfigOption<?> option =
                                (org.apache.flink.configuration.ConfigOption<?>) f.get(null);
                        m.put(option.key(), option);
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException("cannot read " + holder.getSimpleName() + "." + f.getName(), e);
                    }
                }
            }
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    private final Configuration options;
    /** {@link #resumeFrom()} value that means the newest complete checkpoint under the checkpoint directory. */
    public static final String RESUME_LATEST = "latest";

    private final Duration bufferTimeout;
    private final Map<String, String> flinkConf;
    private final String eventsFile;
    private final String commandsFile;
    private final String outputDir;
    private final boolean modelCommands;
    private final boolean bounded;
    private final long maxEvents;
    private final double eventsPerSecond;
    private final long seed;
    private final Duration checkpointInterval;
    private final String checkpointDir;
    private final String resumeFrom;
    private final int parallelism;
    private final int restartAttempts;
    private final Duration restartDelay;

    private ScreeningConfig(Builder b) {
        this.options = new Configuration(b.options);
        if (!options.contains(ScoringOptions.MODEL)) {
            options.set(ScoringOptions.MODEL, DEFAULT_MODEL);
        }
        this.bufferTimeout = b.bufferTimeout == null ? DEFAULT_BUFFER_TIMEOUT : b.bufferTimeout;
        this.flinkConf = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(b.flinkConf));
        this.eventsFile = b.eventsFile;
        this.commandsFile = b.commandsFile;
        this.outputDir = b.outputDir;
        this.modelCommands = b.modelCommands;
        this.bounded = b.bounded;
        this.maxEvents = b.maxEvents;
        this.eventsPerSecond = b.eventsPerSecond;
        this.seed = b.seed;
        this.checkpointInterval = b.checkpointInterval;
        this.checkpointDir = b.checkpointDir;
        this.resumeFrom = b.resumeFrom;
        this.parallelism = b.parallelism;
        this.restartAttempts = b.restartAttempts;
        this.restartDelay = b.restartDelay;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Connector and scoring options (a copy). */
    public Configuration options() {
        return new Configuration(options);
    }

    public boolean kafkaConfigured() {
        String servers = options.get(ConnectorOptions.BOOTSTRAP_SERVERS);
        return servers != null && !servers.isBlank();
    }

    public Source source() {
        if (eventsFile != null) {
            return Source.FILE;
        }
        return kafkaConfigured() ? Source.KAFKA : Source.SYNTHETIC;
    }

    public Sinks sinks() {
        if (outputDir != null) {
            return Sinks.FILES;
        }
        return kafkaConfigured() ? Sinks.KAFKA : Sinks.NONE;
    }

    public Commands commands() {
        if (commandsFile != null) {
            return Commands.FILE;
        }
        return kafkaConfigured() && modelCommands ? Commands.KAFKA : Commands.NONE;
    }

    public String eventsFile() {
        return eventsFile;
    }

    public String commandsFile() {
        return commandsFile;
    }

    public String outputDir() {
        return outputDir;
    }

    public boolean modelCommands() {
        return modelCommands;
    }

    /** Kafka source stops at the end offsets seen at start (a backfill) instead of running forever. */
    public boolean bounded() {
        return bounded;
    }

    /** Synthetic events to generate; {@code Long.MAX_VALUE} = unbounded. */
    public long maxEvents() {
        return maxEvents;
    }

    /** Synthetic event rate over all subtasks; 0 = as fast as the job accepts them. */
    public double eventsPerSecond() {
        return eventsPerSecond;
    }

    public long seed() {
        return seed;
    }

    /** The checkpoint interval that applies: the set one, or the mode's default. */
    public Duration checkpointInterval() {
        if (checkpointInterval != null) {
            return checkpointInterval;
        }
        return source() == Source.KAFKA || sinks() == Sinks.KAFKA
                ? DEFAULT_KAFKA_CHECKPOINT_INTERVAL
                : DEFAULT_LOCAL_CHECKPOINT_INTERVAL;
    }

    /** Checkpoint directory URI, or null to use the cluster's setting. */
    public String checkpointDir() {
        return checkpointDir;
    }

    /**
     * A retained checkpoint or savepoint to restore the job from (a URI or path), {@link #RESUME_LATEST} for the
     * newest complete one under the checkpoint directory, or null for a fresh start.
     */
    public String resumeFrom() {
        return resumeFrom;
    }

    /** Job parallelism; 0 = the environment's default. */
    public int parallelism() {
        return parallelism;
    }

    public int restartAttempts() {
        return restartAttempts;
    }

    public Duration restartDelay() {
        return restartDelay;
    }

    /** Network buffer timeout (Flink's {@code execution.buffer-timeout.interval}). */
    public Duration bufferTimeout() {
        return bufferTimeout;
    }

    /** Flink options set as they are, after (and over) the job's own Flink settings; in the order given. */
    public Map<String, String> flinkConf() {
        return flinkConf;
    }

    /** The alert policy described by the options. */
    public AlertPolicy alertPolicy() {
        return AlertPolicy.builder().configure(options).build();
    }

    /** The event parser described by the options. */
    public EventParser parser() {
        return EventParser.builder().configure(options).build();
    }

    /**
     * A summary for logs (ScreeningJob logs it at INFO). Kafka client properties appear with the
     * values of secret-looking keys masked by {@link Redaction}; never log {@link #options()}
     * itself: Flink's {@code Configuration.toString()} hides sensitive top-level keys only, not the
     * entries of the {@code kafka.properties} map.
     */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("ScreeningConfig{source=")
                .append(source())
                .append(", sinks=")
                .append(sinks())
                .append(", commands=")
                .append(commands())
                .append(", checkpointInterval=")
                .append(checkpointInterval())
                .append(", parallelism=")
                .append(parallelism);
        if (kafkaConfigured()) {
            b.append(", kafkaProperties=").append(Redaction.properties(options.get(ConnectorOptions.KAFKA_PROPERTIES)));
        }
        return b.append('}').toString();
    }

    /**
     * Builder; {@link #build()} checks everything and throws one {@link IllegalArgumentException}
     * listing every problem with the setting to fix (in backquotes). Threading: not thread-safe.
     */
    public static final class Builder {
        private final Configuration options = new Configuration();
        private String eventsFile;
        private String commandsFile;
        private String outputDir;
        private boolean modelCommands = true;
        private boolean bounded;
        private long maxEvents = Long.MAX_VALUE;
        private double eventsPerSecond;
        private long seed = 42L;
        private Duration checkpointInterval;
        private String checkpointDir;
        private String resumeFrom;
        private int parallelism;
        private int restartAttempts = 5;
        private Duration restartDelay = Duration.ofSeconds(2);
        private Duration bufferTimeout;
        private final Map<String, String> flinkConf = new java.util.LinkedHashMap<>();

        private Builder() {}

        /** Copies every key of {@code config} (ConnectorOptions and ScoringOptions keys). */
        public Builder options(Configuration config) {
            options.addAll(config);
            return this;
        }

        public <T> Builder option(org.apache.flink.configuration.ConfigOption<T> key, T value) {
            options.set(key, value);
            return this;
        }

        public Builder eventsFile(String path) {
            this.eventsFile = blankToNull(path);
            return this;
        }

        public Builder commandsFile(String path) {
            this.commandsFile = blankToNull(path);
            return this;
        }

        public Builder outputDir(String dir) {
            this.outputDir = blankToNull(dir);
            return this;
        }

        /** Whether Kafka mode reads the model command topic (default true). */
        public Builder modelCommands(boolean value) {
            this.modelCommands = value;
            return this;
        }

        public Builder bounded(boolean value) {
            this.bounded = value;
            return this;
        }

        public Builder maxEvents(long value) {
            this.maxEvents = value;
            return this;
        }

        public Builder eventsPerSecond(double value) {
            this.eventsPerSecond = value;
            return this;
        }

        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        /** Null = the mode's default (10 s with Kafka, 2 s otherwise). */
        public Builder checkpointInterval(Duration value) {
            this.checkpointInterval = value;
            return this;
        }

        public Builder checkpointDir(String value) {
            this.checkpointDir = blankToNull(value);
            return this;
        }

        /**
         * See {@link ScreeningConfig#resumeFrom()}; null = a fresh start. A blank value is refused: an empty
         * variable in a restart script must not turn a resume into a fresh start that replays the command topic.
         */
        public Builder resumeFrom(String value) {
            if (value != null && value.isBlank()) {
                throw new IllegalArgumentException("resumeFrom is blank: give a checkpoint or savepoint path, or '"
                        + RESUME_LATEST + "' (leave it out for a fresh start)");
            }
            this.resumeFrom = value == null ? null : value.strip();
            return this;
        }

        public Builder parallelism(int value) {
            this.parallelism = value;
            return this;
        }

        public Builder restartAttempts(int value) {
            this.restartAttempts = value;
            return this;
        }

        public Builder restartDelay(Duration value) {
            this.restartDelay = value;
            return this;
        }

        /** Network buffer timeout (null or not set: {@link #DEFAULT_BUFFER_TIMEOUT}; 0 flushes every record). */
        public Builder bufferTimeout(Duration value) {
            this.bufferTimeout = value;
            return this;
        }

        /**
         * Sets a Flink option by key, applied over the job's own Flink settings (for example
         * {@code taskmanager.numberOfTaskSlots} or {@code state.backend.type}). flink-slm's own keys
         * ({@code slm.*}, connector keys) go to {@link #options} instead.
         */
        public Builder flinkConf(String key, String value) {
            this.flinkConf.put(key, value);
            return this;
        }

        public ScreeningConfig build() {
            List<String> problems = new ArrayList<>();
            ScreeningConfig c = new ScreeningConfig(this);
            checkInput(eventsFile, "`eventsFile`", "a JSON-lines file or a directory of them", problems);
            checkInput(commandsFile, "`commandsFile`", "a JSON-lines file of model commands", problems);
            if (outputDir != null && isLocal(outputDir) && Files.isRegularFile(localPath(outputDir))) {
                problems.add("`outputDir` " + outputDir + " is a file; give a directory (it is created if missing)");
            }
            if (maxEvents != Long.MAX_VALUE && c.source() != Source.SYNTHETIC) {
                problems.add("`maxEvents` applies to the synthetic generator only; with "
                        + (c.source() == Source.FILE
                                ? "`eventsFile` the job ends at the end of the file"
                                : "Kafka use `bounded` to stop at the offsets seen at start"));
            }
            if (maxEvents < 1) {
                problems.add("`maxEvents` must be at least 1, was " + maxEvents);
            }
            if (!(eventsPerSecond >= 0) || Double.isInfinite(eventsPerSecond)) {
                problems.add("`eventsPerSecond` must be a finite number >= 0 (0 = unlimited), was " + eventsPerSecond);
            }
            if (bounded && c.source() != Source.KAFKA) {
                problems.add("`bounded` applies to the Kafka source only; set `"
                        + ConnectorOptions.BOOTSTRAP_SERVERS.key() + "`");
            }
            if (checkpointInterval != null && (checkpointInterval.isNegative() || checkpointInterval.toMillis() < 10)) {
                problems.add("`checkpointInterval` must be at least 10 ms, was " + checkpointInterval);
            }
            if (c.sinks() == Sinks.KAFKA) {
                Duration timeout = options.get(ConnectorOptions.TRANSACTION_TIMEOUT);
                if (timeout != null && timeout.compareTo(c.checkpointInterval()) <= 0) {
                    problems.add("`" + ConnectorOptions.TRANSACTION_TIMEOUT.key() + "` (" + timeout
                            + ") must be longer than `checkpointInterval` (" + c.checkpointInterval()
                            + "), or transactions expire before they are committed");
                }
            }
            if (parallelism < 0) {
                problems.add("`parallelism` must be >= 1 (or 0 for the environment default), was " + parallelism);
            }
            if (restartAttempts < 0) {
                problems.add("`restartAttempts` must be >= 0, was " + restartAttempts);
            }
            if (restartDelay == null || restartDelay.isNegative()) {
                problems.add("`restartDelay` must not be negative");
            }
            if (bufferTimeout != null && bufferTimeout.isNegative()) {
                problems.add("`bufferTimeout` must be 0 or more (0 sends every record at once), was " + bufferTimeout);
            }
            for (Map.Entry<String, String> e : flinkConf.entrySet()) {
                String key = e.getKey();
                if (key == null || key.isBlank() || key.contains("=") || !key.equals(key.strip())) {
                    problems.add("`flinkConf` key '" + key + "' is not a Flink option key");
                } else if (OPTIONS.containsKey(key) || key.startsWith("slm.")) {
                    problems.add("`flinkConf` " + key + " is a flink-slm option; give it as `options` " + key
                            + ", not as a Flink one");
                } else if (key.equals(org.apache.flink.configuration.ExecutionOptions.BUFFER_TIMEOUT.key())
                        && bufferTimeout != null) {
                    problems.add("`flinkConf` " + key + " and `bufferTimeout` set the same option; give one");
                }
                if (e.getValue() == null || e.getValue().isBlank()) {
                    problems.add("`flinkConf` " + key + " has no value");
                }
            }
            String servers = options.get(ConnectorOptions.BOOTSTRAP_SERVERS);
            if (servers != null && servers.isBlank()) {
                problems.add("`" + ConnectorOptions.BOOTSTRAP_SERVERS.key()
                        + "` is blank; give host:port[,host:port...] or leave it out");
            }
            // The component builders know their own rules; run them now so that a bad option fails
            // before any job is submitted, with their messages.
            tryBuild(problems, () -> c.alertPolicy());
            tryBuild(problems, () -> c.parser());
            tryBuild(
                    problems,
                    () -> SlmScoring.<FinancialEvent>builder()
                            .text(e -> e.text)
                            .configure(c.options)
                            .build());
            if (c.source() == Source.KAFKA || c.sinks() == Sinks.KAFKA || c.commands() == Commands.KAFKA) {
                tryBuild(problems, () -> ScreeningJob.kafkaComponents(c));
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(
                        "invalid screening job configuration:\n  - " + String.join("\n  - ", problems));
            }
            return c;
        }

        private static void tryBuild(List<String> problems, Runnable check) {
            try {
                check.run();
            } catch (IllegalArgumentException | IllegalStateException e) {
                problems.add(e.getMessage());
            }
        }

        private static void checkInput(String path, String setting, String what, List<String> problems) {
            if (path != null && isLocal(path) && !Files.exists(localPath(path))) {
                problems.add(setting + " " + path + " does not exist; give " + what);
            }
        }
    }

    static boolean isLocal(String path) {
        URI uri = toUri(path);
        return uri == null || uri.getScheme() == null || "file".equals(uri.getScheme());
    }

    static Path localPath(String path) {
        URI uri = toUri(path);
        return uri != null && "file".equals(uri.getScheme()) ? Path.of(uri) : Path.of(path);
    }

    private static URI toUri(String path) {
        try {
            URI uri = URI.create(path);
            // A Windows drive letter or a bare path is not a scheme worth honouring here.
            return uri.getScheme() != null && uri.getScheme().length() == 1 ? null : uri;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
