package dev.flinkslm.bench;

import dev.flinkslm.bench.BenchCommand.BenchEvent;
import dev.flinkslm.bench.BenchCommand.Row;
import dev.flinkslm.connectors.DeadLetter;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.ModelRoots;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoredStream;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.SlmScoring;
import dev.flinkslm.operators.versions.KeyShares;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource.NumberSequenceSplit;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.FileUtils;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench swap}: live model versions under a load the job sustains, every result checked
 * against the written semantics ({@code docs/model-versions.md}).
 *
 * <p>First the sustainable rate of the exact job shape is measured (unthrottled, in rounds, median);
 * then one run at {@code --load} of it receives, at evenly spaced times, a command that must be
 * rejected, {@code DEPLOY v2 ACTIVE}, {@code DEPLOY v3 CANARY percent=20}, {@code PROMOTE v3} and a
 * plain {@code ROLLBACK}. An independent reading of the semantics gives each key's target per rule
 * epoch. A result of epoch e must be served by its key's epoch-e target, or, only while that target's
 * version was not loaded on the result's subtask (per-subtask {@code LOADED}/{@code RELEASED} audit
 * records), by the target of the epoch that was the subtask's last {@code READY} when the event could
 * have been routed (between its creation and its result); nothing else ({@code MainRun.checkRouting}).
 *
 * <p>Runs embedded jobs one at a time in this JVM and collects their outputs in static queues; not
 * for use inside a Flink cluster.
 */
@Command(
        name = "swap",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Measures the sustainable rate of a keyed 2-subtask scoring job with a control stream, then runs it at"
                    + " --load of that rate through a rejected no-op, DEPLOY v2 ACTIVE, DEPLOY v3 CANARY 20%%, PROMOTE v3"
                    + " and ROLLBACK, and checks every result against docs/model-versions.md.",
            "Last line: swap_lost=<n> swap_duplicated=<n> served_wrong=<n> swap_ms=<ms> rollback_ms=<ms> p99_ratio=<r>"
                    + " (p99_ratio: the median over the commands of the p99 of each command's +-1 s window over the"
                    + " p99 of the steady stretches right before and after it).",
            "Exit code 0 only when nothing was lost, duplicated or served by a version the semantics do not allow"
                    + " (and the audit trail is complete); 2 when the run queued even at a lowered load."
        })
final class BenchSwap implements Callable<Integer> {

    static final int PARALLELISM = 2;
    static final int MAX_PARALLELISM = 128;
    static final int IN_FLIGHT = 2;
    static final Duration MAX_WAIT = Duration.ofMillis(20);
    static final int INTRA_OP_THREADS = 1;
    static final long CHECKPOINT_INTERVAL_MS = 2000;
    /**
     * Network buffer flush interval. Flink's default of 100 ms would add up to 100 ms to every event
     * between source and keyed operator at these rates and hide the swap's effect on latency; a
     * latency-sensitive job sets it low. Identical in the rate rounds and the main run.
     */
    static final Duration BUFFER_TIMEOUT = Duration.ofMillis(10);
    /** Results of the first seconds (job start, JIT) are not steady state. */
    static final long WARM_UP_MS = 3000;
    /** Events created this close to a command count as "around" it. */
    static final long WINDOW_MS = 1000;
    /** A p99 over fewer events than this next to a command is not a reference for it. */
    static final int MIN_ADJACENT_EVENTS = 100;

    static final long TARGET_IN_FORCE_MS = 3000;
    static final double TARGET_P99_RATIO = 2.0;
    /** A steady p50 above this many per-batch inference times (plus max-wait and buffer timeout) means events queue. */
    static final double QUEUE_FACTOR = 5.0;
    /** Delivered below this share of the offered rate means the source was held back: queueing. */
    static final double MIN_DELIVERED_SHARE = 0.95;
    /** A steady p50 growing by more than this factor from the first to the second half of steady state: queueing. */
    static final double MAX_P50_GROWTH = 2.0;

    static final double LOAD_STEP = 0.75;
    static final int MAX_LOAD_REDUCTIONS = 2;
    static final double CANARY_PERCENT = 20;

    @Option(
            names = "--seconds",
            defaultValue = "35",
            description =
                    "Length of the main run; the 5 commands arrive at 2/7 .. 6/7 of it (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(
            names = "--load",
            defaultValue = "0.6",
            description = "Share of the measured sustainable rate offered in the main run (default: ${DEFAULT-VALUE}:"
                    + " headroom for the loads the commands cause on the same cores, and for the smaller, less"
                    + " efficient batches a lighter load forms).")
    double load;

    @Option(
            names = "--batch-size",
            defaultValue = "32",
            description = "Operator batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--rate-rounds",
            defaultValue = "3",
            description = "Rounds of the sustainable-rate measurement before the main run, at least 3; one more"
                    + " runs after it to show drift of the host (default: ${DEFAULT-VALUE}).")
    int rateRounds;

    @Option(
            names = "--rate-events",
            defaultValue = "2000",
            description = "Events per sustainable-rate round (default: ${DEFAULT-VALUE}).")
    int rateEvents;

    @Option(
            names = "--group-by-length",
            defaultValue = "false",
            negatable = true,
            description = "Batch texts of similar token length together (default: ${DEFAULT-VALUE}).")
    boolean groupByLength;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    // ------------------------------------------------------------------ what the jobs report

    /** One scored event as the sink saw it. */
    record Result(
            long index,
            String version,
            String variant,
            long epoch,
            int subtask,
            long createdMillis,
            long latencyMicros,
            long resultMillis,
            long resultNanos,
            long queueWaitMicros,
            long inferenceMicros,
            int batchSize) {}

    /** The fields of an audit record that the checks read (copied: object reuse is on). */
    record Audit(
            String outcome,
            String reasonCode,
            String reason,
            String commandId,
            String action,
            String version,
            Integer subtask,
            long epoch,
            long timestamp) {

        static Audit of(ModelAudit a) {
            return new Audit(
                    a.outcome,
                    a.reasonCode,
                    a.reason,
                    a.commandId,
                    a.action,
                    a.version,
                    a.subtask,
                    a.epoch,
                    a.timestamp);
        }

        boolean commandLevel() {
            return subtask == null;
        }

        @Override
        public String toString() {
            return outcome + (reasonCode == null ? "" : "/" + reasonCode) + (commandId == null ? "" : " " + commandId)
                    + (action == null ? "" : " " + action) + (version == null ? "" : " " + version + " ")
                    + " epoch=" + epoch + (subtask == null ? "" : " subtask=" + subtask)
                    + (reason == null ? "" : " (" + reason + ")");
        }
    }

    record DeadLetter(long index, String reason, String message) {}

    /** In-JVM collector of the embedded job's outputs; one job at a time. */
    static final class Collector {
        static final ConcurrentLinkedQueue<Result> RESULTS = new ConcurrentLinkedQueue<>();
        static final ConcurrentLinkedQueue<Audit> AUDIT = new ConcurrentLinkedQueue<>();
        static final ConcurrentLinkedQueue<DeadLetter> DEAD_LETTERS = new ConcurrentLinkedQueue<>();
        /** Command id to the wall-clock time the control source emitted it. */
        static final Map<String, Long> COMMAND_MILLIS = new ConcurrentHashMap<>();

        static void reset() {
            RESULTS.clear();
            AUDIT.clear();
            DEAD_LETTERS.clear();
            COMMAND_MILLIS.clear();
        }
    }

    /** Chained to the scoring operator, so its subtask index is the one that scored the event. */
    static final class RecordResult extends RichMapFunction<Scored<BenchEvent>, Long> {
        private transient int subtask;

        @Override
        public void open(OpenContext context) {
            subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        }

        @Override
        public Long map(Scored<BenchEvent> s) {
            long nanos = System.nanoTime();
            BenchEvent e = s.element;
            Collector.RESULTS.add(new Result(
                    e.index,
                    s.modelVersion,
                    s.variant,
                    s.ruleEpoch,
                    subtask,
                    e.createdMillis,
                    (nanos - e.createdNanos) / 1000,
                    System.currentTimeMillis(),
                    nanos,
                    s.queueWaitMicros,
                    s.inferenceMicros,
                    s.batchSize));
            return e.index;
        }
    }

    static final class RecordAudit implements MapFunction<ModelAudit, String> {
        @Override
        public String map(ModelAudit a) {
            Collector.AUDIT.add(Audit.of(a));
            return a.outcome;
        }
    }

    static final class RecordDeadLetter implements MapFunction<ScoringFailure<BenchEvent>, String> {
        @Override
        public String map(ScoringFailure<BenchEvent> f) {
            Collector.DEAD_LETTERS.add(new DeadLetter(f.element == null ? -1 : f.element.index, f.reason, f.message));
            return f.reason;
        }
    }

    /**
     * Releases the control source's i-th element {@code offsetsMillis[i]} after its first request, so
     * the commands arrive at planned times without blocking the source's task thread (checkpoints
     * go on meanwhile).
     */
    static final class Schedule implements RateLimiterStrategy<NumberSequenceSplit> {
        private static final long serialVersionUID = 1L;
        private final long[] offsetsMillis;

        Schedule(long[] offsetsMillis) {
            this.offsetsMillis = offsetsMillis.clone();
        }

        @Override
        public RateLimiter<NumberSequenceSplit> createRateLimiter(int parallelism) {
            return new RateLimiter<>() {
                private long start = -1;
                private int next;

                @Override
                public CompletionStage<Void> acquire(int permits) {
                    long now = System.currentTimeMillis();
                    if (start < 0) {
                        start = now;
                    }
                    if (next >= offsetsMillis.length) {
                        return CompletableFuture.completedFuture(null);
                    }
                    long delay = start + offsetsMillis[next++] - now;
                    return delay <= 0
                            ? CompletableFuture.completedFuture(null)
                            : CompletableFuture.runAsync(
                                    () -> {}, CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS));
                }
            };
        }
    }

    // ------------------------------------------------------------------ the semantics, read independently

    /** A key's serving version and variant ({@code active}/{@code canary}). */
    record Served(String version, String variant) {}

    /** One deployment of the expected rule log; no shadows in this benchmark. */
    record Rule(String commandId, String version, boolean canary, double percent) {
        boolean contains(String key) {
            return percent >= 100 || KeyShares.covers(commandId, percent, key);
        }

        boolean allKeys() {
            return percent >= 100;
        }
    }

    /**
     * The rule log after each accepted command (index = epoch) and the expected outcome of every
     * command, from the table of docs/model-versions.md; written here again, not taken from the
     * operator, so the benchmark checks the operator against the document.
     */
    static final class Semantics {
        final List<List<Rule>> byEpoch = new ArrayList<>();
        final List<String> commandOfEpoch = new ArrayList<>();
        final Map<String, String> expectedOutcome = new LinkedHashMap<>();
        final Map<String, Long> epochOf = new HashMap<>();
        private final Set<String> known = new LinkedHashSet<>();

        Semantics(String initialVersion) {
            byEpoch.add(List.of(new Rule("initial", initialVersion, false, 100)));
            commandOfEpoch.add("initial");
            known.add(initialVersion);
        }

        long lastEpoch() {
            return byEpoch.size() - 1;
        }

        /** {@code version} is what the DEPLOY's bundle is (ignored for other actions). */
        void apply(ModelCommand c, String version) {
            List<Rule> next = new ArrayList<>(byEpoch.get(byEpoch.size() - 1));
            switch (c.actionValue()) {
                case DEPLOY -> {
                    next.add(new Rule(
                            c.commandId,
                            version,
                            c.roleValue() == ModelCommand.Role.CANARY,
                            c.percent == null ? 100 : c.percent));
                    known.add(version);
                }
                case PROMOTE -> {
                    if (!known.contains(c.version)) {
                        expectedOutcome.put(c.commandId, ModelAudit.REJECTED + "/" + ModelAudit.UNKNOWN_VERSION);
                        return;
                    }
                    // Removes the version's canary deployments and appends it ACTIVE for all keys (row 9).
                    next.removeIf(r -> r.canary() && r.version().equals(c.version));
                    next.add(new Rule(c.commandId, c.version, false, 100));
                }
                case ROLLBACK -> {
                    // Removes the newest serving deployment, whatever its scope, if a serving one for all
                    // keys remains (rows 2, 10, 12); a promoted canary is not restored (row 10).
                    List<Rule> rest = next.subList(0, next.size() - 1);
                    if (rest.stream().noneMatch(Rule::allKeys)) {
                        expectedOutcome.put(c.commandId, ModelAudit.REJECTED + "/" + ModelAudit.NOTHING_TO_ROLL_BACK);
                        return;
                    }
                    next = new ArrayList<>(rest);
                }
                default -> throw new IllegalArgumentException("the benchmark models DEPLOY, PROMOTE and ROLLBACK only");
            }
            expectedOutcome.put(c.commandId, ModelAudit.ACCEPTED);
            byEpoch.add(List.copyOf(next));
            commandOfEpoch.add(c.commandId);
            epochOf.put(c.commandId, (long) byEpoch.size() - 1);
        }

        /** The one fold: the newest serving deployment whose scope contains the key. */
        Served target(long epoch, String key) {
            List<Rule> log = byEpoch.get((int) epoch);
            for (int i = log.size() - 1; i >= 0; i--) {
                Rule r = log.get(i);
                if (r.contains(key)) {
                    return new Served(r.version(), r.canary() ? "canary" : "active");
                }
            }
            throw new IllegalStateException("no serving deployment for all keys at epoch " + epoch);
        }
    }

    // ------------------------------------------------------------------ the run

    /** The three versions: same weights, distinct version strings (and manifests), in one model root. */
    record Versions(Path roots, String modelId, List<Path> dirs, List<String> versions) {
        String shortName(String version) {
            int i = versions.indexOf(version);
            return i < 0 ? String.valueOf(version) : "v" + (i + 1);
        }

        String shortName(Served s) {
            return shortName(s.version()) + "/" + s.variant();
        }
    }

    @Override
    public Integer call() throws Exception {
        if (seconds < 28) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--seconds must be at least 28 so that the commands are 4 s apart, was " + seconds);
        }
        if (!(load > 0 && load <= 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--load must be in (0, 1], was " + load);
        }
        Rounds.requireRounds(spec, "--rate-rounds", rateRounds);
        if (rateEvents < 500) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--rate-events must be at least 500, was " + rateEvents);
        }
        PrintStream out = System.out;
        Path work = Files.createTempDirectory("flink-slm-swap");
        try {
            return run(out, work);
        } finally {
            FileUtils.deleteDirectory(work.toFile());
        }
    }

    private int run(PrintStream out, Path work) throws Exception {
        Versions v = versions(work.resolve("models"));
        out.printf(
                Locale.ROOT,
                "model=%s v1=%s v2=%s v3=%s parallelism=%d max_parallelism=%d batch=%d in_flight=%d"
                        + " max_wait_ms=%d intra_op_threads=%d group_by_length=%s checkpoint_ms=%d"
                        + " buffer_timeout_ms=%d cores=%d%n",
                v.modelId(),
                v.versions().get(0),
                v.versions().get(1),
                v.versions().get(2),
                PARALLELISM,
                MAX_PARALLELISM,
                batchSize,
                IN_FLIGHT,
                MAX_WAIT.toMillis(),
                INTRA_OP_THREADS,
                groupByLength,
                CHECKPOINT_INTERVAL_MS,
                BUFFER_TIMEOUT.toMillis(),
                Runtime.getRuntime().availableProcessors());

        out.printf(
                Locale.ROOT,
                "sustainable rate: same job shape, unthrottled, %d events, one rejected no-op command;"
                        + " results/s between the 20%% and 90%% result%n",
                rateEvents);
        List<Double> before = Rounds.interleave(
                        rateRounds, List.<Rounds.Approach<Double>>of(r -> rateRound(out, v, work, "before-" + r)))
                .of(0);
        Rounds.Spread rates = Rounds.Spread.of(before);
        double sustainable = rates.median();
        out.printf(
                Locale.ROOT,
                "sustainable_rate median=%.1f/s min=%.1f max=%.1f rounds=%d%n",
                sustainable,
                rates.min(),
                rates.max(),
                rates.count());

        double currentLoad = load;
        MainRun main = null;
        for (int attempt = 0; attempt <= MAX_LOAD_REDUCTIONS; attempt++) {
            main = mainRun(out, v, work, sustainable, currentLoad);
            if (!main.queueing || main.failedCorrectness()) {
                break;
            }
            out.printf(
                    Locale.ROOT,
                    "  the queueing attempt was still checked: lost=%d duplicated=%d served_wrong=%d%n",
                    main.lost,
                    main.duplicated,
                    main.wrong);
            if (attempt < MAX_LOAD_REDUCTIONS) {
                currentLoad *= LOAD_STEP;
                out.printf(
                        Locale.ROOT,
                        "QUEUEING at load %.2f: its latency is not steady state; running again at" + " load %.2f%n",
                        currentLoad / LOAD_STEP,
                        currentLoad);
            }
        }

        List<Double> all = new ArrayList<>(before);
        all.add(rateRound(out, v, work, "after"));
        Rounds.Spread allRates = Rounds.Spread.of(all);
        out.printf(
                Locale.ROOT,
                "sustainable_rate after the main run=%.1f/s; all rounds median=%.1f/s min=%.1f"
                        + " max=%.1f; offered %.1f/s = %.2f of the all-rounds median%n",
                all.get(all.size() - 1),
                allRates.median(),
                allRates.min(),
                allRates.max(),
                main.rate,
                main.rate / allRates.median());

        main.print(out);
        if (main.queueing) {
            out.printf(
                    Locale.ROOT,
                    "FAILED: the job queued at load %.2f (%s); no figures of a queueing run are"
                            + " reported as steady state. Run on a quieter machine or with a lower --load.%n",
                    main.load,
                    main.queueReason);
            out.flush();
            return main.failedCorrectness() ? 1 : 2;
        }
        out.printf(
                Locale.ROOT,
                "swap_lost=%d swap_duplicated=%d served_wrong=%d swap_ms=%d rollback_ms=%d" + " p99_ratio=%.2f%n",
                main.lost,
                main.duplicated,
                main.wrong,
                main.inForceMs("bench-deploy-v2"),
                main.inForceMs("bench-rollback"),
                main.p99Ratio);
        out.flush();
        return main.failedCorrectness() ? 1 : 0;
    }

    private Versions versions(Path roots) throws Exception {
        ModelBundle builtIn =
                BundleLoader.builder().roots(ModelRoots.allowAll()).build().load("default:int8");
        String base = builtIn.version();
        List<String> versions = List.of(base, base + "-v2", base + "-v3");
        List<Path> dirs = new ArrayList<>();
        for (int i = 0; i < versions.size(); i++) {
            dirs.add(copyAsNewVersion(builtIn, roots.resolve("v" + (i + 1)), versions.get(i)));
        }
        return new Versions(roots, builtIn.id(), List.copyOf(dirs), versions);
    }

    /** The bundle's files (every one the manifest lists) under a new version string. */
    static Path copyAsNewVersion(ModelBundle bundle, Path target, String version) throws Exception {
        Files.createDirectories(target);
        ModelManifest m = bundle.manifest();
        Set<String> files = new LinkedHashSet<>(m.sha256().keySet());
        files.add(m.model());
        files.add(m.tokenizer());
        for (String file : files) {
            Path to = target.resolve(file);
            Files.createDirectories(to.getParent());
            Files.copy(bundle.directory().resolve(file), to);
        }
        m.withVersion(version).write(target);
        return target;
    }

    private StreamExecutionEnvironment environment(Path work) {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                work.resolve("checkpoints").toUri().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(PARALLELISM, conf);
        env.setMaxParallelism(MAX_PARALLELISM);
        env.enableCheckpointing(CHECKPOINT_INTERVAL_MS);
        env.getConfig().enableObjectReuse();
        env.setBufferTimeout(BUFFER_TIMEOUT.toMillis());
        return env;
    }

    /** The job shape of every round: only the event rate and the commands differ. */
    private void runJob(
            String name,
            Versions v,
            Path work,
            List<String> texts,
            long events,
            Double rate,
            List<ModelCommand> commands,
            long[] offsetsMillis)
            throws Exception {
        StreamExecutionEnvironment env = environment(work);
        DataStream<BenchEvent> stream = BenchCommand.source(env, texts, events, rate);
        List<ModelCommand> planned = List.copyOf(commands);
        GeneratorFunction<Long, ModelCommand> emit = i -> {
            ModelCommand c = planned.get(i.intValue());
            Collector.COMMAND_MILLIS.put(c.commandId, System.currentTimeMillis());
            return c;
        };
        DataStream<ModelCommand> control = env.fromSource(
                        new DataGeneratorSource<>(
                                emit, planned.size(), new Schedule(offsetsMillis), SlmScoring.COMMAND_TYPE),
                        WatermarkStrategy.noWatermarks(),
                        "bench-commands")
                .setParallelism(1);
        ScoredStream<BenchEvent> scored = SlmScoring.<BenchEvent>builder()
                .text(e -> e.text)
                .model(v.dirs().get(0).toUri().toString())
                .modelRoots(v.roots().toString())
                .executionProvider(ExecutionProvider.CPU)
                .intraOpThreads(INTRA_OP_THREADS)
                .maxBatchSize(batchSize)
                .maxInFlight(IN_FLIGHT)
                .maxWait(MAX_WAIT)
                .groupByLength(groupByLength)
                .controlStream(control)
                .build()
                .apply(stream.keyBy(e -> e.account));
        scored.results().map(new RecordResult()).sinkTo(new DiscardingSink<>());
        scored.audit().map(new RecordAudit()).sinkTo(new DiscardingSink<>());
        scored.deadLetters().map(new RecordDeadLetter()).sinkTo(new DiscardingSink<>());
        Collector.reset();
        env.execute(name);
    }

    private ModelCommand noop(Versions v, String id) {
        // Row 15: PROMOTE of a version never deployed is rejected and changes nothing.
        return ModelCommand.of(id, ModelCommand.Action.PROMOTE, v.modelId(), "no-such-version");
    }

    /** One round of the sustainable rate: the job shape unthrottled; also checked for loss and routing. */
    private double rateRound(PrintStream out, Versions v, Path work, String round) throws Exception {
        List<String> texts = BenchCommand.texts(rateEvents);
        runJob(
                "bench-swap-rate-" + round,
                v,
                work,
                texts,
                rateEvents,
                null,
                List.of(noop(v, "bench-rate-noop")),
                new long[] {0});
        List<Result> results = new ArrayList<>(Collector.RESULTS);
        results.sort(Comparator.comparingLong(Result::resultNanos));
        long distinct = results.stream().mapToLong(Result::index).distinct().count();
        long off = results.stream()
                .filter(r -> r.epoch() != 0
                        || !"active".equals(r.variant())
                        || !v.versions().get(0).equals(r.version()))
                .count();
        double rate = 0;
        if (results.size() >= 10) {
            Result from = results.get(results.size() / 5);
            Result to = results.get(results.size() * 9 / 10);
            double span = Math.max(1e-9, (to.resultNanos() - from.resultNanos()) / 1e9);
            rate = (results.size() * 9 / 10 - results.size() / 5) / span;
        }
        long[] batches = results.stream().mapToLong(Result::batchSize).sorted().toArray();
        long[] inference =
                results.stream().mapToLong(Result::inferenceMicros).sorted().toArray();
        out.printf(
                Locale.ROOT,
                "  round %-8s %8.1f/s  batch p50=%.0f  inference p50=%.1f ms  results=%d lost=%d"
                        + " duplicated=%d not_v1=%d dead_letters=%d%n",
                round,
                rate,
                BenchCommand.percentile(batches, 0.5),
                BenchCommand.percentile(inference, 0.5) / 1000,
                results.size(),
                rateEvents - distinct,
                results.size() - distinct,
                off,
                Collector.DEAD_LETTERS.size());
        if (distinct != rateEvents || results.size() != distinct || off > 0 || !Collector.DEAD_LETTERS.isEmpty()) {
            out.println("  WARNING: the rate round lost, duplicated or misrouted events; see the counts above");
        }
        return rate;
    }

    private MainRun mainRun(PrintStream out, Versions v, Path work, double sustainable, double currentLoad)
            throws Exception {
        double rate = sustainable * currentLoad;
        int events = (int) Math.round(rate * seconds);
        int distinctTexts = Math.min(events, 20_000);
        List<String> texts = BenchCommand.texts(distinctTexts);
        List<String> accounts = BenchCommand.accounts(distinctTexts);
        String v2 = v.versions().get(1);
        String v3 = v.versions().get(2);
        List<ModelCommand> commands = List.of(
                noop(v, "bench-noop"),
                ModelCommand.deploy("bench-deploy-v2", v.dirs().get(1).toUri().toString(), ModelCommand.Role.ACTIVE),
                ModelCommand.deploy("bench-canary-v3", v.dirs().get(2).toUri().toString(), ModelCommand.Role.CANARY)
                        .percent(CANARY_PERCENT),
                ModelCommand.of("bench-promote-v3", ModelCommand.Action.PROMOTE, v.modelId(), v3),
                ModelCommand.of("bench-rollback", ModelCommand.Action.ROLLBACK, null, null));
        List<String> deployedVersion = List.of("", v2, v3, "", "");
        Semantics semantics = new Semantics(v.versions().get(0));
        for (int i = 0; i < commands.size(); i++) {
            semantics.apply(commands.get(i), deployedVersion.get(i));
        }
        long spacing = seconds * 1000L / (commands.size() + 2);
        long[] offsets = new long[commands.size()];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = (i + 2) * spacing;
        }
        out.printf(
                Locale.ROOT,
                "main run: load=%.2f target_rate=%.1f/s events=%d seconds=%d commands at %s s%n",
                currentLoad,
                rate,
                events,
                seconds,
                describeOffsets(offsets));
        runJob("bench-swap", v, work, texts, events, rate, commands, offsets);
        MainRun run = new MainRun(
                v,
                semantics,
                commands,
                accounts,
                events,
                rate,
                currentLoad,
                new ArrayList<>(Collector.RESULTS),
                new ArrayList<>(Collector.AUDIT),
                new ArrayList<>(Collector.DEAD_LETTERS),
                new HashMap<>(Collector.COMMAND_MILLIS));
        run.analyse();
        run.printQueueing(out);
        return run;
    }

    private static String describeOffsets(long[] offsets) {
        StringBuilder b = new StringBuilder();
        for (long o : offsets) {
            b.append(b.length() == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.1f", o / 1000.0));
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ checking and figures

    /** The analysis of one main run. */
    static final class MainRun {
        final Versions v;
        final Semantics sem;
        final List<ModelCommand> commands;
        final List<String> accounts;
        final int events;
        final double rate;
        final double load;
        final List<Result> results;
        final List<Audit> audit;
        final List<DeadLetter> deadLetters;
        final Map<String, Long> emitted;

        long lost;
        long duplicated;
        long wrong;
        long keptPrevious;
        long subtaskMismatch;
        final List<String> problems = new ArrayList<>();
        final Map<String, Long> wrongBreakdown = new TreeMap<>();
        final List<String> wrongExamples = new ArrayList<>();
        final Map<String, Long> byServed = new TreeMap<>();
        final Map<Long, Long> keptByEpoch = new TreeMap<>();
        /** Per epoch and subtask: READY timestamp (epoch ms), Long.MAX_VALUE when none came. */
        long[][] ready;
        /** Per subtask, per version: its LOADED and RELEASED audit records there, in timestamp order. */
        final List<Map<String, List<Audit>>> loads = new ArrayList<>();

        final Map<String, Timing> timings = new LinkedHashMap<>();
        final List<Row> rows = new ArrayList<>();
        final Map<String, long[]> commandWindows = new LinkedHashMap<>();
        /** Median of the per-command ratios (window p99 / adjacent stretches p99): the last line's p99_ratio. */
        double p99Ratio;
        /** The per-command ratios: median and range over the commands; null when no command was emitted. */
        Rounds.Spread p99Spread;

        final List<String> commandRatios = new ArrayList<>();
        /** The union of the +-1 s windows over steady state (before the commands). */
        double p99RatioUnion;

        double p99RatioExtended;
        double p99RatioBetween;
        boolean queueing;
        String queueReason = "";
        String queueLine = "";

        MainRun(
                Versions v,
                Semantics sem,
                List<ModelCommand> commands,
                List<String> accounts,
                int events,
                double rate,
                double load,
                List<Result> results,
                List<Audit> audit,
                List<DeadLetter> deadLetters,
                Map<String, Long> emitted) {
            this.v = v;
            this.sem = sem;
            this.commands = commands;
            this.accounts = accounts;
            this.events = events;
            this.rate = rate;
            this.load = load;
            this.results = results;
            this.audit = audit;
            this.deadLetters = deadLetters;
            this.emitted = emitted;
            audit.sort(Comparator.comparingLong(Audit::timestamp));
        }

        /** When a command was in force everywhere, and its parts, in ms after the source emitted it. */
        record Timing(
                long emittedMillis,
                long accepted,
                long[] readyPerSubtask,
                long lastPrevious,
                long firstNew,
                long inForce,
                long inForceOwnEpoch,
                long lastLocalRecord) {}

        boolean failedCorrectness() {
            return lost > 0 || duplicated > 0 || wrong > 0 || !problems.isEmpty();
        }

        long inForceMs(String commandId) {
            Timing t = timings.get(commandId);
            return t == null ? -1 : t.inForce();
        }

        String key(long index) {
            return accounts.get((int) (index % accounts.size()));
        }

        void analyse() {
            checkAccounting();
            checkAudit();
            checkRouting();
            computeTimings();
            computeLatency();
        }

        private void checkAccounting() {
            int[] seen = new int[events];
            long outOfRange = 0;
            for (Result r : results) {
                if (r.index() < 0 || r.index() >= events) {
                    outOfRange++;
                } else {
                    seen[(int) r.index()]++;
                }
            }
            for (int count : seen) {
                if (count == 0) {
                    lost++;
                } else {
                    duplicated += count - 1;
                }
            }
            if (outOfRange > 0) {
                problems.add(outOfRange + " results for events the source never created");
            }
            if (!deadLetters.isEmpty()) {
                Map<String, Long> reasons = new TreeMap<>();
                deadLetters.forEach(d -> reasons.merge(d.reason() + ": " + d.message(), 1L, Long::sum));
                problems.add(
                        deadLetters.size() + " events went to the dead-letter output (counted as lost): " + reasons);
            }
        }

        private void checkAudit() {
            int epochs = (int) sem.lastEpoch() + 1;
            ready = new long[epochs][PARALLELISM];
            for (long[] row : ready) {
                java.util.Arrays.fill(row, Long.MAX_VALUE);
            }
            for (ModelCommand c : commands) {
                List<Audit> decisions = audit.stream()
                        .filter(a -> a.commandLevel() && c.commandId.equals(a.commandId()))
                        .toList();
                String expected = sem.expectedOutcome.get(c.commandId);
                if (decisions.size() != 1) {
                    problems.add(c.commandId + ": " + decisions.size() + " command-level audit records, expected one ("
                            + expected + ")");
                    continue;
                }
                Audit d = decisions.get(0);
                String got = d.outcome() + (d.reasonCode() == null ? "" : "/" + d.reasonCode());
                if (!got.equals(expected)) {
                    problems.add(c.commandId + ": " + got + " but the semantics say " + expected + ": " + d);
                }
                Long epoch = sem.epochOf.get(c.commandId);
                long expectedEpoch = epoch != null ? epoch : epochBefore(c);
                if (d.epoch() != expectedEpoch) {
                    problems.add(c.commandId + ": audit epoch " + d.epoch() + ", expected " + expectedEpoch);
                }
                List<Audit> readies = audit.stream()
                        .filter(a -> ModelAudit.READY.equals(a.outcome()) && c.commandId.equals(a.commandId()))
                        .toList();
                if (epoch == null) {
                    if (!readies.isEmpty()) {
                        problems.add(c.commandId + " was rejected but has READY records: " + readies);
                    }
                    continue;
                }
                for (int s = 0; s < PARALLELISM; s++) {
                    int subtask = s;
                    List<Audit> mine =
                            readies.stream().filter(a -> a.subtask() == subtask).toList();
                    if (mine.size() != 1) {
                        problems.add(c.commandId + ": " + mine.size() + " READY records from subtask " + s
                                + ", expected one");
                    }
                    if (!mine.isEmpty()) {
                        ready[epoch.intValue()][s] = mine.get(0).timestamp();
                    }
                }
            }
            for (Audit a : audit) {
                if (ModelAudit.LOAD_FAILED.equals(a.outcome())) {
                    problems.add("load failed: " + a);
                }
            }
            loads.clear();
            for (int s = 0; s < PARALLELISM; s++) {
                loads.add(new HashMap<>());
            }
            for (Audit a : audit) { // sorted by timestamp
                if ((ModelAudit.LOADED.equals(a.outcome()) || ModelAudit.RELEASED.equals(a.outcome()))
                        && a.subtask() != null
                        && a.subtask() >= 0
                        && a.subtask() < PARALLELISM
                        && a.version() != null) {
                    loads.get(a.subtask())
                            .computeIfAbsent(a.version(), k -> new ArrayList<>())
                            .add(a);
                }
            }
            // The routing check reads these records: every deployed version must have been LOADED on
            // every subtask (the initial one is loaded in open(), before any event, without a record).
            for (ModelCommand c : commands) {
                Long epoch = sem.epochOf.get(c.commandId);
                if (epoch == null || c.actionValue() != ModelCommand.Action.DEPLOY) {
                    continue;
                }
                String version = sem.byEpoch.get(epoch.intValue()).stream()
                        .filter(r -> r.commandId().equals(c.commandId))
                        .map(Rule::version)
                        .findFirst()
                        .orElse(null);
                for (int s = 0; s < PARALLELISM; s++) {
                    if (version != null
                            && loads.get(s).getOrDefault(version, List.of()).stream()
                                    .noneMatch(a -> ModelAudit.LOADED.equals(a.outcome()))) {
                        problems.add(c.commandId + ": no LOADED record of " + version + " from subtask " + s);
                    }
                }
            }
        }

        /**
         * Whether {@code version} was certainly loaded on {@code subtask} at every moment of
         * [{@code from}, {@code to}] (epoch ms): its newest {@code LOADED} there strictly before
         * {@code from} (the initial version counts as loaded from the start) with no {@code RELEASED}
         * at or after that {@code LOADED} up to {@code to}. Records in the same millisecond as a bound
         * may lie on either side of it, so they count in the operator's favour (not loaded).
         */
        boolean loadedThroughout(int subtask, String version, long from, long to) {
            List<Audit> records = loads.get(subtask).getOrDefault(version, List.of());
            boolean loaded = version.equals(sem.byEpoch.get(0).get(0).version());
            long lastLoad = Long.MIN_VALUE;
            for (Audit a : records) {
                if (ModelAudit.LOADED.equals(a.outcome()) && a.timestamp() < from) {
                    loaded = true;
                    lastLoad = Math.max(lastLoad, a.timestamp());
                }
            }
            if (!loaded) {
                return false;
            }
            for (Audit a : records) {
                if (ModelAudit.RELEASED.equals(a.outcome()) && a.timestamp() >= lastLoad && a.timestamp() <= to) {
                    return false;
                }
            }
            return true;
        }

        /** The epoch in force when a rejected command arrived: that of the last accepted command before it. */
        private long epochBefore(ModelCommand rejected) {
            long epoch = 0;
            for (ModelCommand c : commands) {
                if (c == rejected) {
                    return epoch;
                }
                if (sem.epochOf.containsKey(c.commandId)) {
                    epoch = sem.epochOf.get(c.commandId);
                }
            }
            return epoch;
        }

        private void checkRouting() {
            for (Result r : results) {
                String key = key(r.index());
                int subtask = KeyGroupRangeAssignment.assignKeyToParallelOperator(key, MAX_PARALLELISM, PARALLELISM);
                if (subtask != r.subtask()) {
                    subtaskMismatch++;
                }
                Served got = new Served(r.version(), r.variant());
                byServed.merge(v.shortName(got), 1L, Long::sum);
                if (r.epoch() < 0 || r.epoch() > sem.lastEpoch()) {
                    wrong(r, key, got, null, "epoch " + r.epoch() + " was never in force");
                    continue;
                }
                Served want = sem.target(r.epoch(), key);
                int subtask0 = r.subtask();
                if (subtask0 < 0 || subtask0 >= PARALLELISM) {
                    wrong(r, key, got, want, "subtask " + subtask0 + " does not exist");
                    continue;
                }
                long t = r.createdMillis();
                int lastReady = lastReadyBefore(subtask0, t);
                if (r.epoch() < lastReady) {
                    wrong(r, key, got, want, "epoch older than READY");
                    continue;
                }
                if (got.equals(want)) {
                    continue;
                }
                // Waiting for the target's load: the event was routed at some moment a between its
                // creation and its result; if want's version was not loaded on the subtask at a, the key
                // was served as the rules of the subtask's last READY at a serve it (docs/model-versions.md).
                // j can be that last READY at a only between its own READY and the next epoch's READY.
                boolean matches = false;
                boolean kept = false;
                for (int j = lastReady; j < r.epoch() && !kept; j++) {
                    if (!sem.target(j, key).equals(got)) {
                        continue;
                    }
                    long from = Math.max(t, j == 0 ? Long.MIN_VALUE : ready[j][subtask0]);
                    long to = Math.min(r.resultMillis(), nextReadyAfter(j, subtask0));
                    if (from > to) {
                        continue; // j was not READY on the subtask before the result, or already superseded
                    }
                    matches = true;
                    kept = !loadedThroughout(subtask0, want.version(), from, to);
                }
                if (kept) {
                    keptPrevious++;
                    keptByEpoch.merge(r.epoch(), 1L, Long::sum);
                } else if (matches) {
                    wrong(
                            r,
                            key,
                            got,
                            want,
                            "kept an older target although " + v.shortName(want.version())
                                    + " was loaded on the subtask");
                } else {
                    wrong(
                            r,
                            key,
                            got,
                            want,
                            "not the target of the subtask's last READY (epoch " + lastReady
                                    + " or later) while the event was in flight");
                }
            }
            if (subtaskMismatch > 0) {
                problems.add(subtaskMismatch + " results came from another subtask than the key's key group says");
            }
        }

        /** The earliest READY on {@code subtask} of an epoch newer than {@code epoch}; MAX_VALUE if none. */
        long nextReadyAfter(int epoch, int subtask) {
            long next = Long.MAX_VALUE;
            for (int i = epoch + 1; i < ready.length; i++) {
                next = Math.min(next, ready[i][subtask]);
            }
            return next;
        }

        /**
         * The newest epoch READY on {@code subtask} strictly before {@code millis} (epoch 0, the initial
         * model, is ready from the start).
         */
        int lastReadyBefore(int subtask, long millis) {
            for (int j = ready.length - 1; j >= 1; j--) {
                if (ready[j][subtask] < millis) {
                    return j;
                }
            }
            return 0;
        }

        private void wrong(Result r, String key, Served got, Served want, String why) {
            wrong++;
            String k = String.format(
                    Locale.ROOT,
                    "epoch=%d subtask=%d served=%s expected=%s (%s)",
                    r.epoch(),
                    r.subtask(),
                    v.shortName(got),
                    want == null ? "-" : v.shortName(want),
                    why);
            wrongBreakdown.merge(k, 1L, Long::sum);
            if (wrongExamples.size() < 5) {
                wrongExamples.add(String.format(
                        Locale.ROOT,
                        "event %d key %s subtask %d epoch %d served %s expected" + " %s created %d result %d: %s",
                        r.index(),
                        key,
                        r.subtask(),
                        r.epoch(),
                        v.shortName(got),
                        want == null ? "-" : v.shortName(want),
                        r.createdMillis(),
                        r.resultMillis(),
                        why));
            }
        }

        private void computeTimings() {
            for (ModelCommand c : commands) {
                Long epochBoxed = sem.epochOf.get(c.commandId);
                Long at = emitted.get(c.commandId);
                if (epochBoxed == null || at == null) {
                    continue;
                }
                long e = epochBoxed;
                long accepted = audit.stream()
                        .filter(a -> a.commandLevel() && c.commandId.equals(a.commandId()))
                        .mapToLong(Audit::timestamp)
                        .findFirst()
                        .orElse(Long.MAX_VALUE);
                long[] readyMs = new long[PARALLELISM];
                long readyMax = 0;
                for (int s = 0; s < PARALLELISM; s++) {
                    readyMs[s] = ready[(int) e][s] == Long.MAX_VALUE ? -1 : ready[(int) e][s] - at;
                    readyMax = Math.max(readyMax, ready[(int) e][s]);
                }
                long lastPrevious = Long.MIN_VALUE;
                long lastPreviousOwnEpoch = Long.MIN_VALUE;
                long firstNew = Long.MAX_VALUE;
                for (Result r : results) {
                    if (r.epoch() < e || r.epoch() > sem.lastEpoch()) {
                        continue;
                    }
                    String key = key(r.index());
                    Served previous = sem.target(e - 1, key);
                    Served now = sem.target(e, key);
                    if (previous.equals(now)) {
                        continue;
                    }
                    Served got = new Served(r.version(), r.variant());
                    // Served by the previous target and not what its own epoch says (a later command may
                    // have made the previous target right again, as ROLLBACK does).
                    if (got.equals(previous) && !got.equals(sem.target(r.epoch(), key))) {
                        lastPrevious = Math.max(lastPrevious, r.resultMillis());
                        if (r.epoch() == e) {
                            lastPreviousOwnEpoch = Math.max(lastPreviousOwnEpoch, r.resultMillis());
                        }
                    } else if (r.epoch() == e && got.equals(now)) {
                        firstNew = Math.min(firstNew, r.resultMillis());
                    }
                }
                long lastLocal = audit.stream()
                        .filter(a -> !a.commandLevel() && a.epoch() == e)
                        .mapToLong(Audit::timestamp)
                        .max()
                        .orElse(at);
                long inForce = readyMax == Long.MAX_VALUE ? -1 : Math.max(readyMax, lastPrevious) - at;
                long inForceOwnEpoch = readyMax == Long.MAX_VALUE ? -1 : Math.max(readyMax, lastPreviousOwnEpoch) - at;
                timings.put(
                        c.commandId,
                        new Timing(
                                at,
                                accepted == Long.MAX_VALUE ? -1 : accepted - at,
                                readyMs,
                                lastPrevious == Long.MIN_VALUE ? -1 : lastPrevious - at,
                                firstNew == Long.MAX_VALUE ? -1 : firstNew - at,
                                inForce,
                                inForceOwnEpoch,
                                lastLocal - at));
            }
        }

        private void computeLatency() {
            long firstCreated =
                    results.stream().mapToLong(Result::createdMillis).min().orElse(0);
            long firstCommand = commands.stream()
                    .map(c -> emitted.get(c.commandId))
                    .filter(java.util.Objects::nonNull)
                    .mapToLong(Long::longValue)
                    .min()
                    .orElse(Long.MAX_VALUE);
            long steadyFrom = firstCreated + WARM_UP_MS;
            long steadyTo = firstCommand - WINDOW_MS;
            List<long[]> around = new ArrayList<>();
            List<long[]> extended = new ArrayList<>();
            for (ModelCommand c : commands) {
                Long at = emitted.get(c.commandId);
                if (at == null) {
                    problems.add(c.commandId + " was never emitted by the control source");
                    continue;
                }
                around.add(new long[] {at - WINDOW_MS, at + WINDOW_MS});
                Timing t = timings.get(c.commandId);
                long end = at + WINDOW_MS;
                if (t != null) {
                    end = Math.max(end, at + Math.max(t.inForce(), t.lastLocalRecord()) + WINDOW_MS);
                }
                extended.add(new long[] {at - WINDOW_MS, end});
            }
            Row steady = row("steady state (before the commands)", List.of(new long[] {steadyFrom, steadyTo}));
            Row aroundRow = row("around the commands (+-1 s, union)", around);
            Row extendedRow = row("until each change settled, +1 s", extended);
            // The stretches between the settled windows, after warm-up: steady state interleaved with the
            // commands, so a host that got busier during the run shows as a difference between the two rows.
            long lastCreated =
                    results.stream().mapToLong(Result::createdMillis).max().orElse(steadyFrom);
            List<Result> between = results.stream()
                    .filter(r -> r.createdMillis() >= steadyFrom
                            && extended.stream().noneMatch(w -> r.createdMillis() >= w[0] && r.createdMillis() < w[1]))
                    .toList();
            long[] betweenLatency =
                    between.stream().mapToLong(Result::latencyMicros).sorted().toArray();
            double betweenSeconds = (lastCreated - steadyFrom - unionMillis(extended)) / 1000.0;
            Row betweenRow = new Row(
                    "between the settled windows",
                    between.size() / Math.max(1e-9, betweenSeconds),
                    BenchCommand.percentile(betweenLatency, 0.5) / 1000,
                    BenchCommand.percentile(betweenLatency, 0.99) / 1000,
                    "source to result (" + between.size() + " events)");
            rows.add(steady);
            rows.add(betweenRow);
            rows.add(aroundRow);
            rows.add(extendedRow);
            for (int i = 0; i < around.size() && i < commands.size(); i++) {
                rows.add(row("  around " + commands.get(i).commandId, List.of(around.get(i))));
                commandWindows.put(commands.get(i).commandId, around.get(i));
            }
            p99RatioUnion = Rounds.ratio(aroundRow.p99Ms(), steady.p99Ms());
            p99RatioExtended = Rounds.ratio(extendedRow.p99Ms(), steady.p99Ms());
            p99RatioBetween = Rounds.ratio(aroundRow.p99Ms(), betweenRow.p99Ms());
            computeCommandRatios(steady, steadyFrom, lastCreated, around, extended);

            // Queueing: latency far above what a batch needs, or the source held back below the offered rate.
            long[] inference = inWindows(List.of(new long[] {steadyFrom, steadyTo})).stream()
                    .mapToLong(Result::inferenceMicros)
                    .sorted()
                    .toArray();
            double inferenceP50 = BenchCommand.percentile(inference, 0.5) / 1000;
            double limit = QUEUE_FACTOR * inferenceP50 + MAX_WAIT.toMillis() + BUFFER_TIMEOUT.toMillis();
            double delivered = steady.eventsPerSecond() / rate;
            List<Result> steadyResults = inWindows(List.of(new long[] {steadyFrom, steadyTo}));
            long mid = steadyFrom + (steadyTo - steadyFrom) / 2;
            double firstHalf = p50(
                    steadyResults.stream().filter(r -> r.createdMillis() < mid).toList());
            double secondHalf = p50(
                    steadyResults.stream().filter(r -> r.createdMillis() >= mid).toList());
            queueLine = String.format(
                    Locale.ROOT,
                    "queueing check: steady p50 %.1f ms (first half %.1f, second half"
                            + " %.1f) vs limit %.1f ms (%.0f x per-batch inference p50 %.1f ms + max-wait %d ms + buffer"
                            + " timeout %d ms);"
                            + " delivered %.1f/s = %.2f of offered (min %.2f)",
                    steady.p50Ms(),
                    firstHalf,
                    secondHalf,
                    limit,
                    QUEUE_FACTOR,
                    inferenceP50,
                    MAX_WAIT.toMillis(),
                    BUFFER_TIMEOUT.toMillis(),
                    steady.eventsPerSecond(),
                    delivered,
                    MIN_DELIVERED_SHARE);
            queueLine += String.format(
                    Locale.ROOT,
                    "; steady batch size p50 %.0f, wait in the operator for a batch" + " p50 %.1f ms",
                    BenchCommand.percentile(
                            steadyResults.stream()
                                    .mapToLong(Result::batchSize)
                                    .sorted()
                                    .toArray(),
                            0.5),
                    BenchCommand.percentile(
                                    steadyResults.stream()
                                            .mapToLong(Result::queueWaitMicros)
                                            .sorted()
                                            .toArray(),
                                    0.5)
                            / 1000);
            if (steadyTo - steadyFrom < 2000 || steadyResults.size() < 100) {
                queueing = true;
                queueReason = "too little steady state before the first command to judge: raise --seconds";
            } else if (Math.max(steady.p50Ms(), Math.max(firstHalf, secondHalf)) > limit) {
                queueing = true;
                queueReason = String.format(
                        Locale.ROOT,
                        "steady p50 %.1f ms (halves %.1f, %.1f) > %.1f ms",
                        steady.p50Ms(),
                        firstHalf,
                        secondHalf,
                        limit);
            } else if (delivered < MIN_DELIVERED_SHARE) {
                queueing = true;
                queueReason = String.format(Locale.ROOT, "delivered only %.2f of the offered rate", delivered);
            } else if (secondHalf > MAX_P50_GROWTH * firstHalf) {
                queueing = true;
                queueReason = String.format(Locale.ROOT, "steady p50 grew from %.1f to %.1f ms", firstHalf, secondHalf);
            }
        }

        /**
         * Per command: the p99 of its +-1 s window over the p99 of the steady stretches right before and
         * right after it (between the settled windows; the first command's "before" is steady state),
         * so that each ratio compares with the host as it was at that moment; {@code p99_ratio} is the
         * median over the commands, printed with its range.
         */
        private void computeCommandRatios(
                Row steady, long steadyFrom, long lastCreated, List<long[]> around, List<long[]> extended) {
            List<long[]> stretches = new ArrayList<>();
            long from = steadyFrom;
            for (int i = 0; i < around.size(); i++) {
                stretches.add(new long[] {from, around.get(i)[0]});
                from = extended.get(i)[1];
            }
            stretches.add(new long[] {from, lastCreated + 1});
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < around.size() && i < commands.size(); i++) {
                List<long[]> next = List.of(stretches.get(i), stretches.get(i + 1));
                Row window = row("around", List.of(around.get(i)));
                Row adjacent = row("adjacent", next);
                long adjacentEvents = inWindows(next).size();
                // A change that took longer to settle than the spacing of the commands leaves no
                // stretch next to it: compare with steady state then, and say so.
                String against = "the stretches before and after it";
                if (adjacentEvents < MIN_ADJACENT_EVENTS) {
                    adjacent = steady;
                    adjacentEvents = inWindows(List.of(new long[] {steadyFrom, around.get(0)[0]}))
                            .size();
                    against = "steady state (too little between it and its neighbours)";
                }
                double ratio = Rounds.ratio(window.p99Ms(), adjacent.p99Ms());
                ratios.add(ratio);
                commandRatios.add(String.format(
                        Locale.ROOT,
                        "  %-18s p99 %6.1f ms / %6.1f ms = %.2f  against %s (%d events)",
                        commands.get(i).commandId,
                        window.p99Ms(),
                        adjacent.p99Ms(),
                        ratio,
                        against,
                        adjacentEvents));
            }
            p99Spread = ratios.isEmpty() ? null : Rounds.Spread.of(ratios);
            p99Ratio = p99Spread == null ? 0 : p99Spread.median();
        }

        private double p50(List<Result> rs) {
            return BenchCommand.percentile(
                            rs.stream()
                                    .mapToLong(Result::latencyMicros)
                                    .sorted()
                                    .toArray(),
                            0.5)
                    / 1000;
        }

        private List<Result> inWindows(List<long[]> windows) {
            List<Result> out = new ArrayList<>();
            for (Result r : results) {
                for (long[] w : windows) {
                    if (r.createdMillis() >= w[0] && r.createdMillis() < w[1]) {
                        out.add(r);
                        break;
                    }
                }
            }
            return out;
        }

        private Row row(String name, List<long[]> windows) {
            List<Result> in = inWindows(windows);
            long[] lat = in.stream().mapToLong(Result::latencyMicros).sorted().toArray();
            double seconds = unionMillis(windows) / 1000.0;
            return new Row(
                    name,
                    in.size() / Math.max(1e-9, seconds),
                    BenchCommand.percentile(lat, 0.5) / 1000,
                    BenchCommand.percentile(lat, 0.99) / 1000,
                    "source to result (" + in.size() + " events)");
        }

        private static long unionMillis(List<long[]> windows) {
            List<long[]> sorted = new ArrayList<>(windows);
            sorted.sort(Comparator.comparingLong(w -> w[0]));
            long total = 0;
            long coveredTo = Long.MIN_VALUE;
            for (long[] w : sorted) {
                long from = Math.max(w[0], coveredTo);
                if (w[1] > from) {
                    total += w[1] - from;
                }
                coveredTo = Math.max(coveredTo, w[1]);
            }
            return total;
        }

        void printQueueing(PrintStream out) {
            out.println(queueLine + (queueing ? ": QUEUEING (" + queueReason + ")" : ": not queueing"));
        }

        void print(PrintStream out) {
            out.println("expected routing by rule epoch (docs/model-versions.md; keys of this run):");
            Set<String> keys = new LinkedHashSet<>(accounts);
            for (int e = 0; e <= sem.lastEpoch(); e++) {
                Map<String, Long> share = new TreeMap<>();
                for (String k : keys) {
                    share.merge(v.shortName(sem.target(e, k)), 1L, Long::sum);
                }
                StringBuilder b = new StringBuilder();
                for (Map.Entry<String, Long> s : share.entrySet()) {
                    b.append(String.format(
                            Locale.ROOT,
                            " %s=%d keys (%.1f%%)",
                            s.getKey(),
                            s.getValue(),
                            100.0 * s.getValue() / keys.size()));
                }
                out.printf(Locale.ROOT, "  epoch %d after %-17s%s%n", e, sem.commandOfEpoch.get(e), b);
            }
            out.println("audit trail (ms after the first command was emitted):");
            long t0 = emitted.values().stream().mapToLong(Long::longValue).min().orElse(0);
            for (Audit a : audit) {
                out.printf(Locale.ROOT, "  %+7d %s%n", a.timestamp() - t0, describe(a));
            }
            BenchCommand.printTable(out, rows);
            out.println("p99 per command: its +-1 s window / the steady stretches right before and after it:");
            commandRatios.forEach(out::println);
            if (p99Spread != null) {
                out.println(Rounds.describe("p99_ratio", p99Spread, "%.2f", "commands"));
            }
            out.printf(
                    Locale.ROOT,
                    "p99 ratios of the unions: +-1 s windows / steady %.2f, until settled +1 s / steady %.2f,"
                            + " +-1 s windows / between the settled windows %.2f%n",
                    p99RatioUnion,
                    p99RatioExtended,
                    p99RatioBetween);
            out.printf(
                    Locale.ROOT,
                    "%-18s %8s %9s %9s %9s %10s %9s %11s %9s %11s%n",
                    "command (ms after",
                    "accepted",
                    "ready s0",
                    "ready s1",
                    "first new",
                    "last prev",
                    "in force",
                    "own epoch",
                    "settled",
                    "(emitted)");
            for (ModelCommand c : commands) {
                Timing t = timings.get(c.commandId);
                Long at = emitted.get(c.commandId);
                if (t == null) {
                    out.printf(
                            Locale.ROOT,
                            "%-18s %s%n",
                            c.commandId,
                            "rejected as planned: changes nothing"
                                    + (at == null ? "" : String.format(Locale.ROOT, " (emitted at +%d ms)", at - t0)));
                    continue;
                }
                out.printf(
                        Locale.ROOT,
                        "%-18s %8d %9d %9d %9d %10d %9d %11d %9d %+11d%n",
                        c.commandId,
                        t.accepted(),
                        t.readyPerSubtask()[0],
                        t.readyPerSubtask()[1],
                        t.firstNew(),
                        t.lastPrevious(),
                        t.inForce(),
                        t.inForceOwnEpoch(),
                        t.lastLocalRecord(),
                        at - t0);
            }
            out.println(
                    "  in force = max(READY on both subtasks, last result with rule epoch >= the command's served by"
                            + " the previous target and wrong for its own epoch); own epoch = the same counting only results"
                            + " of the command's own epoch; settled = last per-subtask audit record of the epoch (loads, READY,"
                            + " releases); -1 = none");
            out.printf(
                    Locale.ROOT,
                    "events=%d scored=%d lost=%d duplicated=%d dead_letters=%d served:%s%n",
                    events,
                    results.size(),
                    lost,
                    duplicated,
                    deadLetters.size(),
                    describe(byServed));
            out.printf(
                    Locale.ROOT,
                    "routing: %d as the rule epoch says, %d as a rule log READY on their subtask while"
                            + " the new version loaded there (by epoch:%s), %d wrong; key->subtask mismatches %d%n",
                    results.size() - keptPrevious - wrong,
                    keptPrevious,
                    describe(keptByEpoch),
                    wrong,
                    subtaskMismatch);
            if (wrong > 0) {
                out.println("served_wrong breakdown:");
                wrongBreakdown.forEach((k, n) -> out.printf(Locale.ROOT, "  %6d %s%n", n, k));
                wrongExamples.forEach(x -> out.println("  e.g. " + x));
            }
            if (p99Ratio > TARGET_P99_RATIO) {
                printWorstWindow(out);
            }
            for (String p : problems) {
                out.println("PROBLEM: " + p);
            }
            long swap = inForceMs("bench-deploy-v2");
            long rollback = inForceMs("bench-rollback");
            out.printf(
                    Locale.ROOT,
                    "targets: lost=0 %s, duplicated=0 %s, served_wrong=0 %s, swap_ms<=%d %s,"
                            + " rollback_ms<=%d %s, p99_ratio<=%.1f %s%n",
                    yes(lost == 0),
                    yes(duplicated == 0),
                    yes(wrong == 0),
                    TARGET_IN_FORCE_MS,
                    yes(swap >= 0 && swap <= TARGET_IN_FORCE_MS),
                    TARGET_IN_FORCE_MS,
                    yes(rollback >= 0 && rollback <= TARGET_IN_FORCE_MS),
                    TARGET_P99_RATIO,
                    yes(p99Ratio <= TARGET_P99_RATIO));
        }

        /** Where the latency went: the window with the highest p99, in 200 ms steps of event creation. */
        private void printWorstWindow(PrintStream out) {
            String worst = null;
            double worstP99 = -1;
            for (Map.Entry<String, long[]> w : commandWindows.entrySet()) {
                double p99 = row("", List.of(w.getValue())).p99Ms();
                if (p99 > worstP99) {
                    worstP99 = p99;
                    worst = w.getKey();
                }
            }
            if (worst == null) {
                return;
            }
            long[] w = commandWindows.get(worst);
            long at = emitted.get(worst);
            out.printf(
                    Locale.ROOT,
                    "p99_ratio above %.1f: latency around %s by event creation (ms after the command"
                            + " was emitted), 200 ms steps:%n",
                    TARGET_P99_RATIO,
                    worst);
            out.printf(
                    Locale.ROOT,
                    "  %7s %7s %8s %8s %9s %14s  %s%n",
                    "from",
                    "events",
                    "p50 ms",
                    "max ms",
                    "batch p50",
                    "inference p50",
                    "audit records made in the step");
            for (long from = w[0]; from < w[1]; from += 200) {
                long f = from;
                List<Result> in = inWindows(List.of(new long[] {from, from + 200}));
                long[] lat =
                        in.stream().mapToLong(Result::latencyMicros).sorted().toArray();
                StringBuilder records = new StringBuilder();
                audit.stream()
                        .filter(a -> a.timestamp() >= f && a.timestamp() < f + 200)
                        .forEach(a -> records.append(records.length() == 0 ? "" : "; ")
                                .append(describe(a).replaceAll(" \\(.*\\)$", "")));
                out.printf(
                        Locale.ROOT,
                        "  %+7d %7d %8.1f %8.1f %9.0f %14.1f  %s%n",
                        from - at,
                        in.size(),
                        BenchCommand.percentile(lat, 0.5) / 1000,
                        lat.length == 0 ? 0 : lat[lat.length - 1] / 1000.0,
                        BenchCommand.percentile(
                                in.stream()
                                        .mapToLong(Result::batchSize)
                                        .sorted()
                                        .toArray(),
                                0.5),
                        BenchCommand.percentile(
                                        in.stream()
                                                .mapToLong(Result::inferenceMicros)
                                                .sorted()
                                                .toArray(),
                                        0.5)
                                / 1000,
                        records);
            }
        }

        private String describe(Audit a) {
            String s = a.toString();
            for (int i = 0; i < v.versions().size(); i++) {
                s = s.replace(" " + v.versions().get(i) + " ", " v" + (i + 1) + " ");
            }
            return s;
        }

        private static String yes(boolean met) {
            return met ? "met" : "NOT MET";
        }

        private static String describe(Map<?, Long> counts) {
            StringBuilder b = new StringBuilder();
            counts.forEach((k, n) -> b.append(' ').append(k).append('=').append(n));
            return b.length() == 0 ? " none" : b.toString();
        }
    }
}
