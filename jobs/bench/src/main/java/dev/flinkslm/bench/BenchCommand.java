package dev.flinkslm.bench;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.EncodedText;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelRoots;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoredStream;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.SlmScoring;
import dev.flinkslm.screening.SyntheticEventGenerator;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
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
import java.time.Duration;
import java.util.ArrayList;
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
@Internal
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks that print their figures.",
        subcommands = {BenchCommand.Throughput.class, BenchSwap.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

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
        /** Creation time on the wall clock (epoch ms), comparable with audit record timestamps. */
        public long createdMillis;

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
        SyntheticEventGenerator generator =
                SyntheticEventGenerator.builder().seed(42).build();
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(generator.generate(i).text);
        }
        return out;
    }

    /** The account of each of the first {@code n} generated events: event {@code i} is keyed by {@code accounts(n).get(i % n)}. */
    static List<String> accounts(int n) {
        SyntheticEventGenerator generator =
                SyntheticEventGenerator.builder().seed(42).build();
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(generator.generate(i).accountId);
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
        out.printf(
                Locale.ROOT,
                "%-34s %12s %10s %10s  %s%n",
                "approach",
                "events/s",
                "p50 ms",
                "p99 ms",
                "latency measured as");
        for (Row r : rows) {
            out.printf(
                    Locale.ROOT,
                    "%-34s %12.1f %10.1f %10.1f  %s%n",
                    r.name,
                    r.eventsPerSecond,
                    r.p50Ms,
                    r.p99Ms,
                    r.note);
        }
    }

    @Command(
            name = "throughput",
            mixinStandardHelpOptions = true,
            description =
                    "Ceiling (tokenizer + session loop, plain Java) vs the operator in a Flink job vs a naive"
                            + " per-record map, on the same texts and model. Last line: operator_vs_ceiling=<r> batched_vs_naive=<r>.")
    static final class Throughput implements java.util.concurrent.Callable<Integer> {
        @Option(
                names = "--events",
                defaultValue = "4000",
                description = "Texts per approach (default: ${DEFAULT-VALUE}).")
        int events;

        @Option(
                names = "--batch-size",
                defaultValue = "32",
                description = "Operator batch size (default: ${DEFAULT-VALUE}).")
        int batchSize;

        @Option(
                names = "--in-flight",
                defaultValue = "2",
                description = "Operator in-flight batches = inference threads (default: ${DEFAULT-VALUE}).")
        int inFlight;

        @Option(
                names = "--model",
                defaultValue = "default:int8",
                description = "Bundle URI (default: ${DEFAULT-VALUE}).")
        String model;

        @Option(
                names = "--group-by-length",
                defaultValue = "true",
                negatable = true,
                description = "Batch texts of similar token length together, in the operator and the ceiling"
                        + " alike (default: ${DEFAULT-VALUE}).")
        boolean groupByLength = true;

        @Override
        public Integer call() throws Exception {
            PrintStream out = System.out;
            List<String> texts = texts(events);
            ModelBundle bundle =
                    BundleLoader.builder().roots(ModelRoots.allowAll()).build().load(model);
            RuntimeOptions runtime = RuntimeOptions.cpu().withIntraOpThreads(1);
            out.printf(
                    Locale.ROOT,
                    "model=%s:%s events=%d batch=%d in_flight=%d group_by_length=%s cores=%d%n",
                    bundle.id(),
                    bundle.version(),
                    events,
                    batchSize,
                    inFlight,
                    groupByLength,
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
            out.printf(
                    Locale.ROOT,
                    "operator_vs_ceiling=%.3f batched_vs_naive=%.3f%n",
                    operator.eventsPerSecond / ceiling.eventsPerSecond,
                    operator.eventsPerSecond / naive.eventsPerSecond);
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
                    int bucket = groupByLength ? ScoringConfig.lengthBucket(e.length()) : 0;
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
                long[] lat =
                        batchMicros.stream().mapToLong(Long::longValue).sorted().toArray();
                return new Row(
                        "ceiling (plain Java, " + inFlight + " threads)",
                        texts.size() / seconds,
                        percentile(lat, 0.5) / 1000,
                        percentile(lat, 0.99) / 1000,
                        "per batch");
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
            source(env, texts, null)
                    .map(new NaiveScoring(bundle.uri().toString()))
                    .sinkTo(new DiscardingSink<>());
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
        ArrayList<String> accounts = new ArrayList<>(accounts(texts.size()));
        ArrayList<String> textList = new ArrayList<>(texts);
        GeneratorFunction<Long, BenchEvent> fn = i -> {
            BenchEvent e = new BenchEvent();
            e.index = i;
            e.text = textList.get((int) (i % textList.size()));
            e.account = accounts.get((int) (i % accounts.size()));
            e.createdNanos = System.nanoTime();
            e.createdMillis = System.currentTimeMillis();
            return e;
        };
        DataGeneratorSource<BenchEvent> source = rate == null
                ? new DataGeneratorSource<>(fn, count, TypeInformation.of(BenchEvent.class))
                : new DataGeneratorSource<>(
                        fn, count, RateLimiterStrategy.perSecond(rate), TypeInformation.of(BenchEvent.class));
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
            ModelBundle bundle =
                    BundleLoader.builder().roots(ModelRoots.allowAll()).build().load(uri);
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
}
