package dev.flinkslm.bench;

import dev.flinkslm.bench.BenchCommand.BenchEvent;
import dev.flinkslm.bench.BenchCommand.Row;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.EncodedText;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelRoots;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.operators.SlmScoring;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ways of scoring that {@code bench throughput} and {@code bench latency} compare, on one
 * model and one operator configuration: the plain-Java ceiling (tokenizer and session batch loop),
 * the {@code SlmScoring} operator in an embedded Flink job, a naive per-record map in the same
 * job shape, and (throughput) Flink SQL's ML_PREDICT with the onnx-slm provider. Each job records
 * every result in {@link Recorder}.
 *
 * <pre>{@code
 * Approaches a = new Approaches(bundle, OperatorSettings.defaults(), 5L);
 * a.runOperator(texts, 2000, 200.0, true); // 200 events/s, latency from creation in the source
 * }</pre>
 *
 * <p>Runs one embedded job at a time on the calling thread; not for use inside a Flink cluster.
 */
@Internal
final class Approaches {

    /** Threads per operator batch and per ceiling worker: the operator's two batches share both cores. */
    static final int INTRA_OP_THREADS = 1;

    /**
     * How the operator is configured: explicit settings, or (when not {@code explicit}) whatever the
     * operator ships with, in which case the builder is left alone and the ceiling uses the shipped
     * defaults read from {@link ScoringOptions}.
     */
    record OperatorSettings(int batchSize, int inFlight, Duration maxWait, boolean groupByLength, boolean explicit) {

        static OperatorSettings defaults() {
            return new OperatorSettings(
                    ScoringOptions.MAX_BATCH_SIZE.defaultValue(),
                    ScoringOptions.MAX_IN_FLIGHT.defaultValue(),
                    ScoringOptions.MAX_WAIT.defaultValue(),
                    ScoringOptions.GROUP_BY_LENGTH.defaultValue(),
                    false);
        }

        static OperatorSettings of(int batchSize, int inFlight, Duration maxWait, boolean groupByLength) {
            return new OperatorSettings(batchSize, inFlight, maxWait, groupByLength, true);
        }

        SlmScoring.Builder<BenchEvent> applyTo(SlmScoring.Builder<BenchEvent> builder) {
            return explicit
                    ? builder.maxBatchSize(batchSize)
                            .maxInFlight(inFlight)
                            .maxWait(maxWait)
                            .groupByLength(groupByLength)
                    : builder;
        }

        String describe() {
            return String.format(
                    Locale.ROOT,
                    "%s batch=%d in_flight=%d max_wait_ms=%d group_by_length=%s",
                    explicit ? "operator settings:" : "operator defaults:",
                    batchSize,
                    inFlight,
                    maxWait.toMillis(),
                    groupByLength);
        }
    }

    private final ModelBundle bundle;
    private final OperatorSettings settings;
    private ExecutionProvider provider = ExecutionProvider.CPU;
    /** Operator subtasks in the operator jobs (the source runs with as many); 1 by default. */
    private int subtasks = 1;
    /** Flink's network buffer timeout in ms, the same for every job; null = Flink's default. */
    private final Long bufferTimeoutMillis;
    /** Over every job run so far: events the source offered, distinct events scored, results beyond one per event. */
    private long offered;

    private long scored;
    private long duplicated;

    Approaches(ModelBundle bundle, OperatorSettings settings, Long bufferTimeoutMillis) {
        this.bundle = bundle;
        this.settings = settings;
        this.bufferTimeoutMillis = bufferTimeoutMillis;
    }

    /** The execution provider of every approach (CPU by default); CUDA falls back to CPU without a device. */
    Approaches provider(ExecutionProvider value) {
        this.provider = value;
        return this;
    }

    /** Subtasks of the operator jobs; the ceiling then uses as many threads as all of them together. */
    Approaches subtasks(int value) {
        this.subtasks = value;
        return this;
    }

    private RuntimeOptions runtime() {
        return RuntimeOptions.cpu().withProvider(provider).withIntraOpThreads(INTRA_OP_THREADS);
    }

    static ModelBundle load(String uri) throws Exception {
        return BundleLoader.builder().roots(ModelRoots.allowAll()).build().load(uri);
    }

    ModelBundle bundle() {
        return bundle;
    }

    OperatorSettings settings() {
        return settings;
    }

    /**
     * Once before the rounds, so that no approach pays for first-use costs. Returns the provider the
     * session really runs on (CPU when CUDA was asked for but is not available).
     */
    ExecutionProvider warmUp(List<String> texts) throws Exception {
        try (SessionCache.Lease lease = SessionCache.shared().acquire(bundle, runtime())) {
            lease.session().scoreTexts(texts.subList(0, Math.min(64, texts.size())));
            return lease.session().executionProvider();
        }
    }

    /**
     * Ceiling, operator and naive map, all unthrottled, interleaved for {@code rounds} rounds; one
     * line per run as it finishes.
     */
    Rounds.Results<Row> saturated(PrintStream out, List<String> texts, int rounds) throws Exception {
        return saturated(out, texts, rounds, false, false);
    }

    /**
     * As {@link #saturated(PrintStream, List, int)}, with up to two more approaches in this order: with
     * {@code sql} the same texts through Flink SQL's ML_PREDICT with the onnx-slm provider, and with
     * {@code coalesced} the operator with the TaskManager's batch dispatcher on, so that its subtasks'
     * batches run jointly.
     */
    Rounds.Results<Row> saturated(PrintStream out, List<String> texts, int rounds, boolean sql, boolean coalesced)
            throws Exception {
        List<Rounds.Approach<Row>> approaches = new ArrayList<>(List.of(
                round -> progress(out, round, ceiling(texts)),
                round -> {
                    runOperator(texts, texts.size(), null, false);
                    return progress(out, round, operatorRow("queue wait + inference per record"));
                },
                round -> {
                    runNaive(texts, texts.size(), null, false);
                    return progress(out, round, naiveRow("per record"));
                }));
        if (sql) {
            approaches.add(round -> {
                runSql(texts, texts.size());
                return progress(out, round, rowFromRecorder(SQL_ROW, "created to result"));
            });
        }
        if (coalesced) {
            approaches.add(round -> {
                runOperator(texts, texts.size(), null, false, true);
                return progress(
                        out,
                        round,
                        rowFromRecorder("SlmScoring operator, dispatcher on", "queue wait + inference per record"));
            });
        }
        return Rounds.interleave(rounds, approaches);
    }

    static Row progress(PrintStream out, int round, Row row) {
        out.printf(
                Locale.ROOT,
                "  round %d %-34s %8.1f events/s  p50 %.1f ms  p99 %.1f ms%n",
                round,
                row.name(),
                row.eventsPerSecond(),
                row.p50Ms(),
                row.p99Ms());
        out.flush();
        return row;
    }

    static Row operatorRow(String note) {
        return rowFromRecorder("SlmScoring operator (Flink job)", note);
    }

    static Row naiveRow(String note) {
        return rowFromRecorder("naive per-record map (Flink job)", note);
    }

    /**
     * Tokenize + score in batches on {@code inFlight} threads sharing one session: what the operator
     * can reach with its batch size, in-flight batches and length grouping.
     */
    Row ceiling(List<String> texts) throws Exception {
        int inFlight = settings.inFlight() * subtasks;
        int batchSize = settings.batchSize();
        try (SessionCache.Lease lease = SessionCache.shared().acquire(bundle, runtime())) {
            ScoringSession session = lease.session();
            ExecutorService pool = Executors.newFixedThreadPool(inFlight);
            try {
                ConcurrentLinkedQueue<Long> batchMicros = new ConcurrentLinkedQueue<>();
                long start = System.nanoTime();
                // Tokenize (part of the measured work), then form batches the way the operator does.
                List<Future<EncodedText>> encodedFutures = new ArrayList<>();
                for (String text : texts) {
                    encodedFutures.add(pool.submit(() -> session.encode(text)));
                }
                Map<Integer, List<EncodedText>> buckets = new TreeMap<>();
                for (Future<EncodedText> f : encodedFutures) {
                    EncodedText e = f.get();
                    int bucket = settings.groupByLength() ? ScoringConfig.lengthBucket(e.length()) : 0;
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
                long[] lat =
                        batchMicros.stream().mapToLong(Long::longValue).sorted().toArray();
                return new Row(
                        "ceiling (plain Java, " + inFlight + " threads)",
                        texts.size() / seconds,
                        BenchCommand.percentile(lat, 0.5) / 1000,
                        BenchCommand.percentile(lat, 0.99) / 1000,
                        "per batch");
            } finally {
                pool.shutdown();
            }
        }
    }

    /**
     * {@code count} events through the operator, at {@code rate} events/s (null: unthrottled). Latency
     * per result: from the event's creation in the source when {@code endToEnd}, else the operator's
     * own queue wait + inference.
     */
    void runOperator(List<String> texts, long count, Double rate, boolean endToEnd) throws Exception {
        runOperator(texts, count, rate, endToEnd, null);
    }

    /** As above; {@code coalesce} sets the batch dispatcher on or off (null: the operator's default). */
    void runOperator(List<String> texts, long count, Double rate, boolean endToEnd, Boolean coalesce) throws Exception {
        StreamExecutionEnvironment env = localEnvironment();
        env.setParallelism(subtasks);
        DataStream<BenchEvent> events = BenchCommand.source(env, texts, count, rate);
        SlmScoring.Builder<BenchEvent> builder = SlmScoring.<BenchEvent>builder()
                .text(e -> e.text)
                .model(bundle.uri().toString())
                .modelRoots(bundle.directory().getParent().toString())
                .executionProvider(provider)
                .intraOpThreads(INTRA_OP_THREADS);
        if (coalesce != null) {
            builder.coalesce(coalesce);
        }
        settings.applyTo(builder)
                .build()
                .apply(events)
                .results()
                .map(new RecordScored(endToEnd))
                .sinkTo(new DiscardingSink<>());
        execute(env, "bench-operator", count);
    }

    static final String SQL_ROW = "SQL ML_PREDICT (onnx-slm, async)";

    /**
     * The same texts as a table through {@code ML_PREDICT} with the {@code onnx-slm} provider: rows of
     * all concurrent calls of the TaskManager scored in joint runs by its batch dispatcher, with as
     * many dispatcher threads as the operator jobs have inference threads in all, the operator's batch
     * size as the joint-run cap, and room for four batches per thread in flight. Unthrottled; latency
     * from each event's creation in the source to its result.
     */
    void runSql(List<String> texts, long count) throws Exception {
        StreamExecutionEnvironment env = localEnvironment();
        env.setParallelism(subtasks);
        DataStream<org.apache.flink.types.Row> events = BenchCommand.source(env, texts, count, null)
                .map(e -> org.apache.flink.types.Row.of(e.index, e.text, e.createdNanos))
                .returns(
                        Types.ROW_NAMED(new String[] {"idx", "text", "created"}, Types.LONG, Types.STRING, Types.LONG));
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
        tEnv.createTemporaryView("events", events);
        int threads = settings.inFlight() * subtasks;
        tEnv.executeSql(String.format(
                Locale.ROOT,
                "CREATE TEMPORARY MODEL bench INPUT (text STRING) OUTPUT (label STRING) WITH ('provider' = 'onnx-slm',"
                        + " 'model' = '%s', 'model-roots' = '%s', 'runtime.provider' = '%s',"
                        + " 'runtime.intra-op-threads' = '%d', 'batch.max-size' = '%d', 'dispatcher.threads' = '%d')",
                sqlLiteral(bundle.uri().toString()),
                sqlLiteral(bundle.directory().getParent().toString()),
                provider,
                INTRA_OP_THREADS,
                settings.batchSize(),
                threads));
        Table scored = tEnv.sqlQuery(String.format(
                Locale.ROOT,
                "SELECT idx, created, label FROM ML_PREDICT(TABLE events, MODEL bench, DESCRIPTOR(text),"
                        + " MAP['output-mode', 'ALLOW_UNORDERED', 'max-concurrent-operations', '%d'])",
                settings.batchSize() * settings.inFlight() * 4));
        tEnv.toDataStream(scored).map(new RecordRow()).sinkTo(new DiscardingSink<>());
        execute(env, "bench-sql", count);
    }

    private static String sqlLiteral(String s) {
        return s.replace("'", "''");
    }

    /** Records each ML_PREDICT result: its index and the time from the event's creation. */
    static final class RecordRow implements MapFunction<org.apache.flink.types.Row, Long> {
        @Override
        public Long map(org.apache.flink.types.Row r) {
            long now = System.nanoTime();
            long index = (Long) r.getFieldAs("idx");
            long created = (Long) r.getFieldAs("created");
            Recorder.record(index, (now - created) / 1000, now);
            return index;
        }
    }

    /** The same job shape with the naive per-record map in place of the operator. */
    void runNaive(List<String> texts, long count, Double rate, boolean endToEnd) throws Exception {
        StreamExecutionEnvironment env = localEnvironment();
        BenchCommand.source(env, texts, count, rate)
                .map(new NaiveScoring(bundle.uri().toString(), provider))
                .returns(SlmScoring.scoredType(TypeInformation.of(BenchEvent.class)))
                .map(new RecordScored(endToEnd))
                .sinkTo(new DiscardingSink<>());
        execute(env, "bench-naive", count);
    }

    private void execute(StreamExecutionEnvironment env, String name, long count) throws Exception {
        Recorder.reset();
        env.execute(name);
        long distinct =
                Recorder.SAMPLES.stream().mapToLong(s -> s[0]).distinct().count();
        offered += count;
        scored += distinct;
        duplicated += Recorder.SAMPLES.size() - distinct;
    }

    /** Prints whether every event offered to a job so far was scored exactly once; returns that. */
    boolean printAccounting(PrintStream out) {
        boolean complete = offered == scored && duplicated == 0;
        out.printf(
                Locale.ROOT,
                "scored every offered event: %s (%d of %d scored, %d duplicated)%n",
                complete ? "yes" : "NO",
                scored,
                offered,
                duplicated);
        return complete;
    }

    private StreamExecutionEnvironment localEnvironment() {
        // slots for the widest job: the operator jobs with 'subtasks' subtasks
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(subtasks, new Configuration());
        env.getConfig().enableObjectReuse();
        if (bufferTimeoutMillis != null) {
            env.setBufferTimeout(bufferTimeoutMillis);
        }
        return env;
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

        /** Sample: index, latency micros, result nanos. */
        static void record(long index, long latencyMicros, long now) {
            FIRST.compareAndSet(0, now);
            LAST.set(now);
            SAMPLES.add(new long[] {index, latencyMicros, now});
        }
    }

    /** Events/s from the first to the last result, and the latency percentiles of all results. */
    static Row rowFromRecorder(String name, String note) {
        List<long[]> samples = new ArrayList<>(Recorder.SAMPLES);
        long[] lat = samples.stream().mapToLong(s -> s[1]).sorted().toArray();
        double seconds = Math.max(1e-9, (Recorder.LAST.get() - Recorder.FIRST.get()) / 1e9);
        // first-to-last result spans n-1 intervals
        double rate = (samples.size() - 1) / seconds;
        return new Row(
                name, rate, BenchCommand.percentile(lat, 0.5) / 1000, BenchCommand.percentile(lat, 0.99) / 1000, note);
    }

    /**
     * Right after the scoring step (operator or naive map), chained: records each result's latency,
     * end to end from the event's creation in the source, or the scoring step's own figure.
     */
    static final class RecordScored implements MapFunction<Scored<BenchEvent>, Long> {
        private final boolean endToEnd;

        RecordScored(boolean endToEnd) {
            this.endToEnd = endToEnd;
        }

        @Override
        public Long map(Scored<BenchEvent> s) {
            long now = System.nanoTime();
            long micros = endToEnd ? (now - s.element.createdNanos) / 1000 : s.queueWaitMicros + s.inferenceMicros;
            Recorder.record(s.element.index, micros, now);
            return s.element.index;
        }
    }

    /** What users write first: one session call per record, emitted as a {@link Scored} like the operator's. */
    static final class NaiveScoring extends RichMapFunction<BenchEvent, Scored<BenchEvent>> {
        private final String uri;
        private final ExecutionProvider provider;
        private transient SessionCache.Lease lease;
        private transient Scored<BenchEvent> out;

        NaiveScoring(String uri, ExecutionProvider provider) {
            this.uri = uri;
            this.provider = provider;
        }

        @Override
        public void open(OpenContext context) throws Exception {
            // Give the single caller both cores: the best a per-record call can do here.
            lease = SessionCache.shared()
                    .acquire(
                            load(uri),
                            RuntimeOptions.cpu().withProvider(provider).withIntraOpThreads(2));
            out = new Scored<>();
            out.batchSize = 1;
        }

        @Override
        public Scored<BenchEvent> map(BenchEvent e) throws Exception {
            long t0 = System.nanoTime();
            lease.session().scoreTexts(List.of(e.text));
            // Object reuse is on and the next map is chained: one instance serves every record.
            out.element = e;
            out.inferenceMicros = (System.nanoTime() - t0) / 1000;
            return out;
        }

        @Override
        public void close() {
            if (lease != null) {
                lease.close();
            }
        }
    }
}
