package dev.flinkslm.jobs;

import dev.flinkslm.connectors.SyntheticEventGenerator;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.EncodedText;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.ModelRoots;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoredStream;
import dev.flinkslm.operators.SlmScoring;
import dev.flinkslm.operators.versions.ModelCommand;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench throughput|swap}: measured in one run on this machine, so the printed ratios compare
 * like with like even on a noisy host.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks that print their figures.",
        subcommands = {BenchCommand.Throughput.class, BenchCommand.Swap.class})
final class BenchCommand implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** One benchmark event: the text to score plus when it was created. */
    public static final class BenchEvent {
        public long index;
        public String account;
        public String text;
        public long createdNanos;

        public BenchEvent() {}
    }

    /** In-JVM collector for the embedded benchmark jobs (one job at a time). */
    static final class Recorder {
        static final ConcurrentLinkedQueue<long[]> SAMPLES = new ConcurrentLinkedQueue<>();
        static final AtomicLong FIRST = new AtomicLong();
        static final AtomicLong LAST = new AtomicLong();

        static void reset() {
            SAMPLES.clear();
            FIRST.set(0);
            LAST.set(0);
        }

        /** Sample: index, latency micros, emit nanos, version code. */
        static void record(long index, long latencyMicros, long versionCode) {
            long now = System.nanoTime();
            FIRST.compareAndSet(0, now);
            LAST.set(now);
            SAMPLES.add(new long[] {index, latencyMicros, now, versionCode});
        }
    }

    static List<String> texts(int n) {
        SyntheticEventGenerator generator = SyntheticEventGenerator.builder().seed(42).build();
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(generator.generate(i).text);
        }
        return out;
    }

    static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int idx = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
        return sorted[idx];
    }

    record Row(String name, double eventsPerSecond, double p50Ms, double p99Ms, String note) {}

    static void printTable(PrintStream out, List<Row> rows) {
        out.printf(Locale.ROOT, "%-34s %12s %10s %10s  %s%n", "approach", "events/s", "p50 ms", "p99 ms", "latency measured as");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-34s %12.1f %10.1f %10.1f  %s%n", r.name, r.eventsPerSecond, r.p50Ms, r.p99Ms, r.note);
        }
    }

    @Command(name = "throughput", mixinStandardHelpOptions = true,
            description = "Ceiling (tokenizer + session loop, plain Java) vs the operator in a Flink job vs a naive"
                    + " per-record map, on the same texts and model. Last line: operator_vs_ceiling=<r> batched_vs_naive=<r>.")
    static final class Throughput implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--events", defaultValue = "4000", description = "Texts per approach (default: ${DEFAULT-VALUE}).")
        int events;

        @Option(names = "--batch-size", defaultValue = "32", description = "Operator batch size (default: ${DEFAULT-VALUE}).")
        int batchSize;

        @Option(names = "--in-flight", defaultValue = "2",
                description = "Operator in-flight batches = inference threads (default: ${DEFAULT-VALUE}).")
        int inFlight;

        @Option(names = "--model", defaultValue = "default:int8", description = "Bundle URI (default: ${DEFAULT-VALUE}).")
        String model;

        @Option(names = "--group-by-length", defaultValue = "true", negatable = true,
                description = "Batch texts of similar token length together, in the operator and the ceiling"
                        + " alike (default: ${DEFAULT-VALUE}).")
        boolean groupByLength = true;

        @Override
        public Integer call() throws Exception {
            PrintStream out = System.out;
            List<String> texts = texts(events);
            ModelBundle bundle = BundleLoader.builder().roots(ModelRoots.allowAll()).build().load(model);
            RuntimeOptions runtime = RuntimeOptions.cpu().withIntraOpThreads(1);
            out.printf(Locale.ROOT, "model=%s:%s events=%d batch=%d in_flight=%d group_by_length=%s cores=%d%n",
                    bundle.id(), bundle.version(), events, batchSize, inFlight, groupByLength,
                    Runtime.getRuntime().availableProcessors());

            // Warm-up so that no approach pays for first-use costs.
            try (SessionCache.Lease lease = SessionCache.shared().acquire(bundle, runtime)) {
                lease.session().scoreTexts(texts.subList(0, Math.min(64, texts.size())));
            }
            Row ceiling = ceiling(bundle, runtime, texts);
            Row operator = operator(bundle, texts);
            Row naive = naive(bundle, texts);
            List<Row> rows = List.of(ceiling, operator, naive);
            printTable(out, rows);
            out.printf(Locale.ROOT, "operator_vs_ceiling=%.3f batched_vs_naive=%.3f%n",
                    operator.eventsPerSecond / ceiling.eventsPerSecond, operator.eventsPerSecond / naive.eventsPerSecond);
            out.flush();
            return 0;
        }

        /** Tokenize + score in batches on {@code inFlight} threads sharing one session: what the operator can reach. */
        private Row ceiling(ModelBundle bundle, RuntimeOptions runtime, List<String> texts) throws Exception {
            try (SessionCache.Lease lease = SessionCache.shared().acquire(bundle, runtime)) {
                ScoringSession session = lease.session();
                ExecutorService pool = Executors.newFixedThreadPool(inFlight);
                ConcurrentLinkedQueue<Long> batchMicros = new ConcurrentLinkedQueue<>();
                long start = System.nanoTime();
                // Tokenize (part of the measured work), then form batches the way the operator does.
                List<Future<EncodedText>> encodedFutures = new ArrayList<>();
                for (String text : texts) {
                    encodedFutures.add(pool.submit(() -> session.encode(text)));
                }
                Map<Integer, List<EncodedText>> buckets = new java.util.TreeMap<>();
                for (Future<EncodedText> f : encodedFutures) {
                    EncodedText e = f.get();
                    int bucket = groupByLength ? dev.flinkslm.operators.internal.ScoringCore.lengthBucket(e.length()) : 0;
                    buckets.computeIfAbsent(bucket, k -> new ArrayList<>()).add(e);
                }
                List<List<EncodedText>> batches = new ArrayList<>();
                for (List<EncodedText> bucket : buckets.values()) {
                    for (int i = 0; i < bucket.size(); i += batchSize) {
                        batches.add(bucket.subList(i, Math.min(bucket.size(), i + batchSize)));
                    }
                }
                AtomicLong next = new AtomicLong();
                List<Future<?>> workers = new ArrayList<>();
                for (int t = 0; t < inFlight; t++) {
                    workers.add(pool.submit(() -> {
                        for (long b; (b = next.getAndIncrement()) < batches.size(); ) {
                            long t0 = System.nanoTime();
                            session.score(batches.get((int) b));
                            batchMicros.add((System.nanoTime() - t0) / 1000);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : workers) {
                    f.get();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                pool.shutdown();
                long[] lat = batchMicros.stream().mapToLong(Long::longValue).sorted().toArray();
                return new Row("ceiling (plain Java, " + inFlight + " threads)", texts.size() / seconds,
                        percentile(lat, 0.5) / 1000, percentile(lat, 0.99) / 1000, "per batch");
            }
        }

        private Row operator(ModelBundle bundle, List<String> texts) throws Exception {
            StreamExecutionEnvironment env = localEnvironment();
            DataStream<BenchEvent> events = source(env, texts, null);
            ScoredStream<BenchEvent> scored = SlmScoring.<BenchEvent>builder()
                    .text(e -> e.text)
                    .model(bundle.uri().toString())
                    .modelRoots(bundle.directory().getParent().toString())
                    .executionProvider(dev.flinkslm.models.ExecutionProvider.CPU)
                    .intraOpThreads(1)
                    .maxBatchSize(batchSize)
                    .maxInFlight(inFlight)
                    .maxWait(Duration.ofMillis(50))
                    .groupByLength(groupByLength)
                    .build()
                    .apply(events);
            scored.results().map(new RecordScored()).sinkTo(new DiscardingSink<>());
            Recorder.reset();
            env.execute("bench-operator");
            return rowFromRecorder("SlmScoring operator (Flink job)", "queue wait + inference per record");
        }

        private Row naive(ModelBundle bundle, List<String> texts) throws Exception {
            StreamExecutionEnvironment env = localEnvironment();
            source(env, texts, null).map(new NaiveScoring(bundle.uri().toString())).sinkTo(new DiscardingSink<>());
            Recorder.reset();
            env.execute("bench-naive");
            return rowFromRecorder("naive per-record map (Flink job)", "per record");
        }
    }

    static StreamExecutionEnvironment localEnvironment() {
        Configuration conf = new Configuration();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        env.getConfig().enableObjectReuse();
        return env;
    }

    static DataStream<BenchEvent> source(StreamExecutionEnvironment env, List<String> texts, Double rate) {
        return source(env, texts, texts.size(), rate);
    }

    /** {@code count} events cycling over {@code texts}, optionally rate-limited (events per second). */
    static DataStream<BenchEvent> source(StreamExecutionEnvironment env, List<String> texts, long count, Double rate) {
        SyntheticEventGenerator generator = SyntheticEventGenerator.builder().seed(42).build();
        ArrayList<String> accounts = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            accounts.add(generator.generate(i).accountId);
        }
        ArrayList<String> textList = new ArrayList<>(texts);
        GeneratorFunction<Long, BenchEvent> fn = i -> {
            BenchEvent e = new BenchEvent();
            e.index = i;
            e.text = textList.get((int) (i % textList.size()));
            e.account = accounts.get((int) (i % accounts.size()));
            e.createdNanos = System.nanoTime();
            return e;
        };
        DataGeneratorSource<BenchEvent> source = rate == null
                ? new DataGeneratorSource<>(fn, count, TypeInformation.of(BenchEvent.class))
                : new DataGeneratorSource<>(fn, count, RateLimiterStrategy.perSecond(rate),
                        TypeInformation.of(BenchEvent.class));
        return env.fromSource(source, WatermarkStrategy.noWatermarks(), "bench-events");
    }

    static Row rowFromRecorder(String name, String note) {
        List<long[]> samples = new ArrayList<>(Recorder.SAMPLES);
        long[] lat = samples.stream().mapToLong(s -> s[1]).sorted().toArray();
        double seconds = Math.max(1e-9, (Recorder.LAST.get() - Recorder.FIRST.get()) / 1e9);
        // first-to-last result spans n-1 intervals
        double rate = (samples.size() - 1) / seconds;
        return new Row(name, rate, percentile(lat, 0.5) / 1000, percentile(lat, 0.99) / 1000, note);
    }

    /** Records each operator result: latency = queue wait + inference. */
    static final class RecordScored implements MapFunction<Scored<BenchEvent>, Long> {
        @Override
        public Long map(Scored<BenchEvent> s) {
            Recorder.record(s.element.index, s.queueWaitMicros + s.inferenceMicros, 0);
            return s.element.index;
        }
    }

    /** What users write first: one session call per record. */
    static final class NaiveScoring extends RichMapFunction<BenchEvent, Long> {
        private final String uri;
        private transient SessionCache.Lease lease;

        NaiveScoring(String uri) {
            this.uri = uri;
        }

        @Override
        public void open(OpenContext context) throws Exception {
            ModelBundle bundle = BundleLoader.builder().roots(ModelRoots.allowAll()).build().load(uri);
            // Give the single caller both cores: the best a per-record call can do here.
            lease = SessionCache.shared().acquire(bundle, RuntimeOptions.cpu().withIntraOpThreads(2));
        }

        @Override
        public Long map(BenchEvent e) throws Exception {
            long t0 = System.nanoTime();
            lease.session().scoreTexts(List.of(e.text));
            Recorder.record(e.index, (System.nanoTime() - t0) / 1000, 0);
            return e.index;
        }

        @Override
        public void close() {
            if (lease != null) {
                lease.close();
            }
        }
    }

    @Command(name = "swap", mixinStandardHelpOptions = true,
            description = "Runs a keyed job at ~70% of its measured maximum rate, swaps the model for all keys mid-stream"
                    + " and accounts for every event. Last line: swap_lost=<n> swap_duplicated=<n> swap_ms=<ms>"
                    + " p99_ratio=<r>.")
    static final class Swap implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--seconds", defaultValue = "24", description = "Length of the run (default: ${DEFAULT-VALUE}).")
        int seconds;

        @Option(names = "--load", defaultValue = "0.7", description = "Share of the measured maximum rate (default: ${DEFAULT-VALUE}).")
        double load;

        @Option(names = "--batch-size", defaultValue = "32", description = "Operator batch size (default: ${DEFAULT-VALUE}).")
        int batchSize;

        static final AtomicLong COMMAND_NANOS = new AtomicLong();

        @Override
        public Integer call() throws Exception {
            PrintStream out = System.out;
            Path work = Files.createTempDirectory("flink-slm-swap");
            Path roots = work.resolve("models");
            ModelBundle v1 = BundleLoader.builder().roots(ModelRoots.allowAll()).build().load("default:int8");
            Path v2dir = copyAsNewVersion(v1, roots.resolve("v2"), v1.version() + "-swap");
            Path v1dir = copyAsNewVersion(v1, roots.resolve("v1"), v1.version());

            // Maximum rate of this configuration: the operator's own ceiling measured now.
            List<String> probe = texts(1500);
            Throughput t = new Throughput();
            t.batchSize = batchSize;
            t.inFlight = 2;
            ModelBundle v1bundle = BundleLoader.verify(v1dir.toUri(), v1dir, null);
            Row ceiling = t.ceiling(v1bundle, RuntimeOptions.cpu().withIntraOpThreads(1), probe);
            double rate = ceiling.eventsPerSecond * load;
            int events = (int) (rate * seconds);
            List<String> texts = texts(Math.min(events, 20_000));
            out.printf(Locale.ROOT, "max_rate=%.1f/s target_rate=%.1f/s events=%d swap_at=%ds%n",
                    ceiling.eventsPerSecond, rate, events, seconds / 2);

            StreamExecutionEnvironment env = localEnvironment();
            env.enableCheckpointing(2000);
            DataStream<BenchEvent> stream = source(env, texts, events, rate);
            ModelCommand noop = ModelCommand.of("bench-noop", ModelCommand.Action.ROLLBACK, null, null)
                    .keys(List.of("no-such-key"));
            ModelCommand deploy = ModelCommand.deploy("bench-swap", v2dir.toUri().toString(), ModelCommand.Role.ACTIVE);
            List<ModelCommand> commands = List.of(noop, deploy);
            GeneratorFunction<Long, ModelCommand> commandFn = i -> {
                if (i == 1) {
                    COMMAND_NANOS.set(System.nanoTime());
                }
                return commands.get(i.intValue());
            };
            DataStream<ModelCommand> control = env.fromSource(new DataGeneratorSource<>(commandFn, 2,
                    RateLimiterStrategy.perSecond(2.0 / seconds), SlmScoring.COMMAND_TYPE),
                    WatermarkStrategy.noWatermarks(), "bench-commands").setParallelism(1);
            ScoredStream<BenchEvent> scored = SlmScoring.<BenchEvent>builder()
                    .text(e -> e.text)
                    .model(v1dir.toUri().toString())
                    .modelRoots(roots.toString())
                    .executionProvider(dev.flinkslm.models.ExecutionProvider.CPU)
                    .maxBatchSize(batchSize)
                    .maxInFlight(2)
                    .maxWait(Duration.ofMillis(20))
                    .controlStream(control)
                    .build()
                    .apply(stream.keyBy(e -> e.account));
            String newVersion = v1.version() + "-swap";
            scored.results().map(new RecordVersion(newVersion)).sinkTo(new DiscardingSink<>());
            Recorder.reset();
            COMMAND_NANOS.set(0);
            long start = System.nanoTime();
            env.execute("bench-swap");

            List<long[]> samples = new ArrayList<>(Recorder.SAMPLES);
            Map<Long, Integer> seen = new HashMap<>();
            for (long[] s : samples) {
                seen.merge(s[0], 1, Integer::sum);
            }
            long lost = events - seen.size();
            long duplicated = samples.size() - seen.size();
            long command = COMMAND_NANOS.get();
            long lastOld = samples.stream().filter(s -> s[3] == 0).mapToLong(s -> s[2]).max().orElse(command);
            long firstNew = samples.stream().filter(s -> s[3] == 1).mapToLong(s -> s[2]).min().orElse(-1);
            long newCount = samples.stream().filter(s -> s[3] == 1).count();
            double swapMs = Math.max(0, (lastOld - command) / 1e6);
            long windowStart = command - 1_000_000_000L;
            long windowEnd = lastOld + 1_000_000_000L;
            long steadyStart = start + 3_000_000_000L;
            long[] around = samples.stream().filter(s -> s[2] >= windowStart && s[2] <= windowEnd)
                    .mapToLong(s -> s[1]).sorted().toArray();
            long[] steady = samples.stream().filter(s -> s[2] >= steadyStart && s[2] < windowStart)
                    .mapToLong(s -> s[1]).sorted().toArray();
            double p99Around = percentile(around, 0.99) / 1000;
            double p99Steady = percentile(steady, 0.99) / 1000;
            printTable(out, List.of(
                    new Row("steady state (before the command)", steady.length / Math.max(1e-9, (windowStart - steadyStart) / 1e9),
                            percentile(steady, 0.5) / 1000, p99Steady, "source to result"),
                    new Row("around the swap (+-1 s)", around.length / Math.max(1e-9, (windowEnd - windowStart) / 1e9),
                            percentile(around, 0.5) / 1000, p99Around, "source to result")));
            out.printf(Locale.ROOT, "events=%d scored=%d by_new_version=%d first_new_after_command_ms=%.0f%n", events,
                    samples.size(), newCount, firstNew < 0 ? -1 : (firstNew - command) / 1e6);
            out.printf(Locale.ROOT, "swap_lost=%d swap_duplicated=%d swap_ms=%.0f p99_ratio=%.2f%n", lost, duplicated,
                    swapMs, p99Steady == 0 ? 0 : p99Around / p99Steady);
            out.flush();
            dev.flinkslm.models.internal.FileTrees.deleteRecursively(work);
            return lost == 0 && duplicated == 0 && newCount > 0 ? 0 : 1;
        }

        static Path copyAsNewVersion(ModelBundle bundle, Path target, String version) throws Exception {
            Files.createDirectories(target);
            for (String file : bundle.manifest().sha256().keySet()) {
                Files.copy(bundle.directory().resolve(file), target.resolve(file));
            }
            ModelManifest manifest = bundle.manifest().withVersion(version);
            manifest.write(target);
            return target;
        }
    }

    /** Records end-to-end latency and which version scored each event (1 = the new one). */
    static final class RecordVersion implements MapFunction<Scored<BenchEvent>, Long> {
        private final String newVersion;

        RecordVersion(String newVersion) {
            this.newVersion = newVersion;
        }

        @Override
        public Long map(Scored<BenchEvent> s) {
            long latency = (System.nanoTime() - s.element.createdNanos) / 1000;
            Recorder.record(s.element.index, latency, newVersion.equals(s.modelVersion) ? 1 : 0);
            return s.element.index;
        }
    }

    @SuppressWarnings("unused")
    private static String describe(long[] a) {
        return Arrays.toString(a);
    }
}
