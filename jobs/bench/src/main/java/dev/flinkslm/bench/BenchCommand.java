package dev.flinkslm.bench;

import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.screening.SyntheticEventGenerator;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench throughput|latency|swap}: every approach measured in the same run on this machine, in
 * interleaved rounds ({@link Rounds}), so the printed ratios compare like with like even on a noisy host.
 */
@Internal
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks that print their figures.",
        subcommands = {BenchCommand.Throughput.class, BenchLatency.class, BenchSwap.class})
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

    /**
     * Per approach of interleaved rounds: events/s as median (min-max) and the medians of p50 and p99;
     * the names and notes are the first round's.
     */
    static void printRoundsTable(PrintStream out, Rounds.Results<Row> results, int approaches) {
        out.printf(
                Locale.ROOT,
                "%-34s %26s %10s %10s  %s%n",
                "approach (median of " + results.rounds() + " rounds)",
                "events/s median (range)",
                "p50 ms",
                "p99 ms",
                "latency measured as");
        for (int i = 0; i < approaches; i++) {
            Row first = results.of(i).get(0);
            out.printf(
                    Locale.ROOT,
                    "%-34s %26s %10.1f %10.1f  %s%n",
                    first.name,
                    results.spread(i, Row::eventsPerSecond).format("%.1f"),
                    results.spread(i, Row::p50Ms).median(),
                    results.spread(i, Row::p99Ms).median(),
                    first.note);
        }
    }

    @Command(
            name = "throughput",
            mixinStandardHelpOptions = true,
            description = {
                "Ceiling (tokenizer + session loop, plain Java) vs the operator in a Flink job vs a naive per-record"
                        + " map, on the same texts and model, interleaved for --rounds rounds (ceiling, operator,"
                        + " naive, ceiling, ...); figures are medians with their min-max range.",
                "Last line: operator_vs_ceiling=<r> batched_vs_naive=<r> (medians of the per-round ratios)."
            })
    static final class Throughput implements java.util.concurrent.Callable<Integer> {
        static final int CEILING = 0;
        static final int OPERATOR = 1;
        static final int NAIVE = 2;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(
                names = "--events",
                defaultValue = "4000",
                description = "Texts per approach and round (default: ${DEFAULT-VALUE}).")
        int events;

        @CommandLine.Mixin
        Rounds.RoundsOption roundsOption;

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
                // without a fallback value picocli inverts a negatable option whose default is true
                fallbackValue = "true",
                negatable = true,
                description = "Batch texts of similar token length together, in the operator and the ceiling"
                        + " alike (default: ${DEFAULT-VALUE}).")
        boolean groupByLength = true;

        @Option(
                names = "--provider",
                defaultValue = "CPU",
                description = "ONNX Runtime execution provider of every approach: ${COMPLETION-CANDIDATES}"
                        + " (default: ${DEFAULT-VALUE}). CUDA needs the gpu build and a device; without one the"
                        + " session falls back to CPU with a warning, and the header says which provider ran.")
        ExecutionProvider provider;

        @Option(
                names = "--subtasks",
                defaultValue = "1",
                description = "Operator subtasks in one TaskManager (the ceiling uses subtasks x in-flight threads)"
                        + " (default: ${DEFAULT-VALUE}).")
        int subtasks;

        @Option(
                names = "--sql",
                defaultValue = "true",
                // without a fallback value picocli inverts a negatable option whose default is true
                fallbackValue = "true",
                negatable = true,
                description = "Include the SQL approach: the same texts through ML_PREDICT with the onnx-slm"
                        + " provider, its rows scored in joint runs by the batch dispatcher; prints sql_vs_operator"
                        + " (default: ${DEFAULT-VALUE}).")
        boolean sql = true;

        @Option(
                names = "--coalesce",
                description = "Add a fourth approach: the operator with the TaskManager's batch dispatcher on"
                        + " (slm.dispatcher.enabled), so that its subtasks' batches run jointly;"
                        + " prints coalesced_vs_operator.")
        boolean coalesce;

        @Override
        public Integer call() throws Exception {
            if (subtasks < 1 || subtasks > 16) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--subtasks must be between 1 and 16, was " + subtasks);
            }
            int rounds = roundsOption.rounds();
            PrintStream out = System.out;
            List<String> texts = texts(events);
            Approaches approaches = new Approaches(
                            Approaches.load(model),
                            Approaches.OperatorSettings.of(batchSize, inFlight, Duration.ofMillis(50), groupByLength),
                            null)
                    .provider(provider)
                    .subtasks(subtasks);
            ModelBundle bundle = approaches.bundle();
            out.printf(
                    Locale.ROOT,
                    "model=%s:%s events=%d rounds=%d batch=%d in_flight=%d subtasks=%d group_by_length=%s"
                            + " provider=%s (runs on %s) cores=%d%n",
                    bundle.id(),
                    bundle.version(),
                    events,
                    rounds,
                    batchSize,
                    inFlight,
                    subtasks,
                    groupByLength,
                    provider,
                    approaches.warmUp(texts),
                    Runtime.getRuntime().availableProcessors());
            Rounds.Results<Row> results = approaches.saturated(out, texts, rounds, sql, coalesce);
            int sqlIndex = NAIVE + 1;
            int coalescedIndex = sql ? sqlIndex + 1 : sqlIndex;
            printRoundsTable(out, results, coalescedIndex + (coalesce ? 1 : 0));
            Map<String, Rounds.Spread> ratios = new LinkedHashMap<>();
            ratios.put("operator_vs_ceiling", results.ratio(OPERATOR, CEILING, Row::eventsPerSecond));
            ratios.put("batched_vs_naive", results.ratio(OPERATOR, NAIVE, Row::eventsPerSecond));
            if (sql) {
                ratios.put("sql_vs_operator", results.ratio(sqlIndex, OPERATOR, Row::eventsPerSecond));
            }
            if (coalesce) {
                ratios.put("coalesced_vs_operator", results.ratio(coalescedIndex, OPERATOR, Row::eventsPerSecond));
            }
            ratios.forEach((key, spread) -> out.println(Rounds.describe(key, spread, "%.3f", "rounds")));
            boolean complete = approaches.printAccounting(out);
            out.println(Rounds.lastLine(ratios, "%.3f"));
            out.flush();
            return complete ? 0 : 1;
        }
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
}
