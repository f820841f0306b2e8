package dev.flinkslm.bench;

import dev.flinkslm.bench.Approaches.OperatorSettings;
import dev.flinkslm.bench.Approaches.Recorder;
import dev.flinkslm.bench.BenchCommand.Row;
import dev.flinkslm.models.ModelBundle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bench latency}: end-to-end latency of the operator with its shipped defaults against a naive
 * per-record map, at 10 %, 50 % and 90 % of the rate the operator's job shape sustains, and the
 * saturated throughput of both against the plain-Java ceiling.
 *
 * <p>Job shape, identical for every job: embedded local environment at parallelism 1, object reuse,
 * network buffer timeout 5 ms (the screening job's default), the rate-limited generator source, the
 * scoring step (the operator with default settings, or the naive map), a recording map chained right
 * after it and a discarding sink. Latency is from the event's creation in the source to the recording
 * map (same JVM, {@code System.nanoTime}).
 *
 * <p>Steps: (a) the sustainable rate, the operator job unthrottled in rounds (median events/s from the
 * first to the last result), unless {@code --rate} gives it; (b) per load, interleaved rounds of
 * operator and naive map at that offered rate for {@code --seconds}, the first seconds left out of the
 * statistics, each run flagged when it queued; (c) ceiling, operator and naive map unthrottled in
 * interleaved rounds ({@link Approaches#saturated}). Every ratio is the median of per-round ratios.
 *
 * <p>Runs embedded jobs one at a time in this JVM; not for use inside a Flink cluster.
 */
@Command(
        name = "latency",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Measures the sustainable rate of a parallelism-1 job with the scoring operator at its default settings,"
                    + " then at 10%%, 50%% and 90%% of it the end-to-end p50/p99 (source to result) of the operator"
                    + " and of a naive per-record map in interleaved rounds, then the saturated throughput of both"
                    + " against the plain-Java ceiling.",
            "Last line: low_load_p99_vs_naive=<r> mid_load_p99_vs_naive=<r> saturated_vs_ceiling=<r> (medians of"
                    + " per-round ratios). Targets on 2 cores: <= 1.5, <= 2.0, >= 0.90.",
            "Exit code 0 when every offered event was scored exactly once (whether the targets were met or not), 1"
                    + " otherwise."
        })
final class BenchLatency implements Callable<Integer> {

    /** The screening job's default: a latency-sensitive job flushes network buffers every 5 ms. */
    static final long BUFFER_TIMEOUT_MS = 5;

    /** Shares of the sustainable rate offered; the p99 ratios of the first two go into the last line. */
    static final double[] LOADS = {0.1, 0.5, 0.9};

    static final String LOW_KEY = "low_load_p99_vs_naive";
    static final String MID_KEY = "mid_load_p99_vs_naive";
    static final String SATURATED_KEY = "saturated_vs_ceiling";
    /** Targets on the 2-core machine: the p99 ratios at most, the saturated ratio at least. */
    static final double TARGET_LOW = 1.5;

    static final double TARGET_MID = 2.0;
    static final double TARGET_SATURATED = 0.90;

    /** Results of events created in the first stretch of a run (job start, JIT, first batches) are left out. */
    static final long MAX_WARM_UP_MS = 1500;
    /** ... but never more than this share of a short run. */
    static final double MAX_WARM_UP_SHARE = 0.25;
    /** Achieved below this share of the offered rate: the source was held back, the run queued. */
    static final double MIN_ACHIEVED_SHARE = 0.95;
    /** p50 of the second half above this factor times the first half's (and by more than MIN_GROWTH_MS): queueing. */
    static final double MAX_P50_GROWTH = 2.0;

    static final double MIN_GROWTH_MS = 10;
    /** Fewer results after warm-up than this give no halves to compare. */
    static final int MIN_SAMPLES_FOR_GROWTH = 20;

    static final int OPERATOR = 0;
    static final int NAIVE = 1;

    @CommandLine.Mixin
    Rounds.RoundsOption roundsOption;

    private int rounds;

    @Option(
            names = "--seconds",
            defaultValue = "10",
            description = "Length of each run at a given load; the first min(1.5 s, a quarter) is warm-up and left out"
                    + " (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(
            names = "--events",
            defaultValue = "2000",
            description = "Events per unthrottled run: the sustainable-rate rounds and the saturated rounds"
                    + " (default: ${DEFAULT-VALUE}).")
    int events;

    @Option(
            names = "--rate",
            description = "Sustainable rate in events/s to take the loads of; skips measuring it (step a).")
    Double rate;

    @Option(names = "--model", defaultValue = "default:int8", description = "Bundle URI (default: ${DEFAULT-VALUE}).")
    String model;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One run at an offered rate, after warm-up. */
    record LatencyRun(
            String name,
            double offeredRate,
            long offered,
            long scored,
            long duplicated,
            long measured,
            double achievedRate,
            double p50Ms,
            double p99Ms,
            double firstHalfP50Ms,
            double secondHalfP50Ms,
            double behindScheduleMs,
            String queueReason) {

        boolean queueing() {
            return !queueReason.isEmpty();
        }

        /**
         * From samples {index, latency micros from creation, result nanos}: p50/p99 of the events created
         * after {@code warmUpMillis} of the schedule, the rate they were delivered at, and whether the run queued.
         * Latency counts from an event's scheduled creation time at the offered rate, or from its
         * creation when that was earlier: a source held back by a busy scoring step creates events late,
         * and their wait belongs to their latency (no coordinated omission). p50/p99 are NaN without
         * samples.
         */
        static LatencyRun of(String name, double offeredRate, long offered, List<long[]> samples, long warmUpMillis) {
            long scored = samples.stream().mapToLong(s -> s[0]).distinct().count();
            long firstCreated =
                    samples.stream().mapToLong(LatencyRun::createdNanos).min().orElse(0);
            long lastCreated =
                    samples.stream().mapToLong(LatencyRun::createdNanos).max().orElse(0);
            // A source held back by a busy scoring step creates its events late, and their latency from
            // creation hides that wait: how late the last event was created says how long it was.
            double behindMs = Math.max(0, (lastCreated - firstCreated) / 1e6 - (offered - 1) * 1000.0 / offeredRate);
            // Warm-up by schedule, not by creation: a source that starts late (the model still loading)
            // creates its first events in a burst, which must not swallow the whole run.
            long firstMeasured = (long) Math.ceil(warmUpMillis * offeredRate / 1000.0);
            List<long[]> measured =
                    samples.stream().filter(s -> s[0] >= firstMeasured).toList();
            long origin = scheduleOrigin(samples, offeredRate);
            long[] lat = sortedLatencies(measured, origin, offeredRate);
            double achieved = 0;
            if (measured.size() >= 2) {
                long first = measured.stream().mapToLong(s -> s[2]).min().orElse(0);
                long last = measured.stream().mapToLong(s -> s[2]).max().orElse(0);
                achieved = (measured.size() - 1) / Math.max(1e-9, (last - first) / 1e9);
            }
            // Halves of the measured stretch by schedule: a p50 that grows from one to the other is a queue.
            long mid = firstMeasured + (offered - firstMeasured) / 2;
            double firstHalf = p50Ms(measured.stream().filter(s -> s[0] < mid).toList(), origin, offeredRate);
            double secondHalf = p50Ms(measured.stream().filter(s -> s[0] >= mid).toList(), origin, offeredRate);
            String reason = "";
            if (measured.size() >= 2 && achieved < MIN_ACHIEVED_SHARE * offeredRate) {
                reason = String.format(
                        Locale.ROOT, "achieved %.3f of the offered rate", Rounds.ratio(achieved, offeredRate));
            } else if (measured.size() >= MIN_SAMPLES_FOR_GROWTH
                    && secondHalf > MAX_P50_GROWTH * firstHalf
                    && secondHalf - firstHalf > MIN_GROWTH_MS) {
                reason = String.format(Locale.ROOT, "p50 grew from %.1f to %.1f ms", firstHalf, secondHalf);
            }
            return new LatencyRun(
                    name,
                    offeredRate,
                    offered,
                    scored,
                    samples.size() - scored,
                    measured.size(),
                    achieved,
                    lat.length == 0 ? Double.NaN : BenchCommand.percentile(lat, 0.5) / 1000,
                    lat.length == 0 ? Double.NaN : BenchCommand.percentile(lat, 0.99) / 1000,
                    firstHalf,
                    secondHalf,
                    behindMs,
                    reason);
        }

        private static long createdNanos(long[] sample) {
            return sample[2] - sample[1] * 1000;
        }

        private static double p50Ms(List<long[]> samples, long origin, double rate) {
            return BenchCommand.percentile(sortedLatencies(samples, origin, rate), 0.5) / 1000;
        }

        /** Latency micros of each sample from min(creation, scheduled creation), sorted. */
        private static long[] sortedLatencies(List<long[]> samples, long origin, double rate) {
            return samples.stream()
                    .mapToLong(s -> {
                        long scheduled = origin + (long) (s[0] * 1e9 / rate);
                        return (s[2] - Math.min(createdNanos(s), scheduled)) / 1000;
                    })
                    .sorted()
                    .toArray();
        }

        /** When event 0 was due: the creation of the lowest-index event, less its index's share of the schedule. */
        private static long scheduleOrigin(List<long[]> samples, double rate) {
            long[] first = samples.stream()
                    .min(java.util.Comparator.comparingLong(s -> s[0]))
                    .orElse(null);
            return first == null ? 0 : createdNanos(first) - (long) (first[0] * 1e9 / rate);
        }
    }

    @Override
    public Integer call() throws Exception {
        rounds = roundsOption.rounds();
        if (seconds < 1) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--seconds must be at least 1, was " + seconds);
        }
        if (events < 10) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--events must be at least 10, was " + events);
        }
        if (rate != null && !(rate > 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rate must be positive, was " + rate);
        }
        PrintStream out = System.out;
        Approaches approaches = new Approaches(Approaches.load(model), OperatorSettings.defaults(), BUFFER_TIMEOUT_MS);
        ModelBundle bundle = approaches.bundle();
        long warmUpMillis = Math.min(MAX_WARM_UP_MS, Math.round(seconds * 1000 * MAX_WARM_UP_SHARE));
        out.printf(
                Locale.ROOT,
                "model=%s:%s %s buffer_timeout_ms=%d parallelism=1 rounds=%d seconds=%d warm_up_ms=%d events=%d"
                        + " cores=%d%n",
                bundle.id(),
                bundle.version(),
                approaches.settings().describe(),
                BUFFER_TIMEOUT_MS,
                rounds,
                seconds,
                warmUpMillis,
                events,
                Runtime.getRuntime().availableProcessors());
        List<String> texts = BenchCommand.texts(events);
        approaches.warmUp(texts);

        double sustainable = sustainableRate(out, approaches, texts);
        List<Rounds.Spread> p99Ratios = new ArrayList<>();
        for (double load : LOADS) {
            p99Ratios.add(atLoad(out, approaches, texts, load, sustainable * load, warmUpMillis));
        }
        Map<String, Rounds.Spread> last = new LinkedHashMap<>();
        last.put(LOW_KEY, p99Ratios.get(0));
        last.put(MID_KEY, p99Ratios.get(1));

        out.println("saturated: ceiling, operator (defaults) and naive map unthrottled, " + events
                + " events each, interleaved rounds");
        Rounds.Results<Row> saturated = approaches.saturated(out, texts, rounds);
        BenchCommand.printRoundsTable(out, saturated, 3);
        Rounds.Spread vsCeiling = saturated.ratio(
                BenchCommand.Throughput.OPERATOR, BenchCommand.Throughput.CEILING, Row::eventsPerSecond);
        Rounds.Spread naiveVsCeiling =
                saturated.ratio(BenchCommand.Throughput.NAIVE, BenchCommand.Throughput.CEILING, Row::eventsPerSecond);
        out.println(Rounds.describe(SATURATED_KEY, vsCeiling, "%.3f", "rounds"));
        out.println(Rounds.describe("naive_vs_ceiling", naiveVsCeiling, "%.3f", "rounds"));
        last.put(SATURATED_KEY, vsCeiling);

        boolean complete = approaches.printAccounting(out);
        out.println(complete ? targets(last) : "targets: not judged: not every offered event was scored exactly once");
        out.println(Rounds.lastLine(last, "%.3f"));
        out.flush();
        return complete ? 0 : 1;
    }

    private double sustainableRate(PrintStream out, Approaches approaches, List<String> texts) throws Exception {
        if (rate != null) {
            out.printf(Locale.ROOT, "sustainable rate: %.1f events/s from --rate (not measured)%n", rate);
            return rate;
        }
        out.printf(
                Locale.ROOT,
                "sustainable rate: the operator job unthrottled, %d events, events/s from the first to the last result%n",
                texts.size());
        Rounds.Results<Row> r = Rounds.interleave(rounds, List.of(round -> {
            approaches.runOperator(texts, texts.size(), null, true);
            return Approaches.progress(out, round, Approaches.operatorRow("source to result"));
        }));
        Rounds.Spread sustainable = r.spread(0, Row::eventsPerSecond);
        out.println(Rounds.describe("sustainable_rate", sustainable, "%.1f", "rounds"));
        return sustainable.median();
    }

    /** Operator and naive map at {@code offered} events/s in interleaved rounds; returns the p99 ratio. */
    private Rounds.Spread atLoad(
            PrintStream out, Approaches approaches, List<String> texts, double load, double offered, long warmUpMillis)
            throws Exception {
        long count = Math.max(1, Math.round(offered * seconds));
        out.printf(
                Locale.ROOT,
                "load %.0f%%: offered %.1f events/s, %d events (%d s) per run, events created in the first %d ms left"
                        + " out%n",
                load * 100,
                offered,
                count,
                seconds,
                warmUpMillis);
        Rounds.Results<LatencyRun> r = Rounds.interleave(
                rounds,
                List.of(
                        round -> {
                            approaches.runOperator(texts, count, offered, true);
                            return progress(
                                    out, round, run("SlmScoring operator (defaults)", offered, count, warmUpMillis));
                        },
                        round -> {
                            approaches.runNaive(texts, count, offered, true);
                            return progress(out, round, run("naive per-record map", offered, count, warmUpMillis));
                        }));
        printLoadTable(out, r);
        Rounds.Spread p99Ratio = r.ratio(OPERATOR, NAIVE, LatencyRun::p99Ms);
        out.println(Rounds.describe(
                String.format(Locale.ROOT, "p99_vs_naive at %.0f%%", load * 100), p99Ratio, "%.3f", "rounds"));
        return p99Ratio;
    }

    private static LatencyRun run(String name, double offered, long count, long warmUpMillis) {
        return LatencyRun.of(name, offered, count, new ArrayList<>(Recorder.SAMPLES), warmUpMillis);
    }

    private static LatencyRun progress(PrintStream out, int round, LatencyRun run) {
        out.printf(
                Locale.ROOT,
                "  round %d %-32s achieved %7.1f/s  p50 %7.1f ms  p99 %7.1f ms  halves p50 %.1f/%.1f ms  behind"
                        + " schedule %.0f ms  scored %d/%d%s%n",
                round,
                run.name(),
                run.achievedRate(),
                run.p50Ms(),
                run.p99Ms(),
                run.firstHalfP50Ms(),
                run.secondHalfP50Ms(),
                run.behindScheduleMs(),
                run.scored(),
                run.offered(),
                run.queueing() ? "  QUEUEING: " + run.queueReason() : "");
        out.flush();
        return run;
    }

    static void printLoadTable(PrintStream out, Rounds.Results<LatencyRun> r) {
        out.printf(
                Locale.ROOT,
                "%-34s %22s %22s %12s %12s  %s%n",
                "approach (median of " + r.rounds() + " rounds)",
                "p50 ms median (range)",
                "p99 ms median (range)",
                "achieved/s",
                "behind ms",
                "queueing runs");
        for (int i = 0; i < 2; i++) {
            List<LatencyRun> runs = r.of(i);
            long queueing = runs.stream().filter(LatencyRun::queueing).count();
            out.printf(
                    Locale.ROOT,
                    "%-34s %22s %22s %12.1f %12.0f  %s%n",
                    runs.get(0).name(),
                    r.spread(i, LatencyRun::p50Ms).format("%.1f"),
                    r.spread(i, LatencyRun::p99Ms).format("%.1f"),
                    r.spread(i, LatencyRun::achievedRate).median(),
                    r.spread(i, LatencyRun::behindScheduleMs).median(),
                    queueing == 0
                            ? "none"
                            : queueing + " of " + runs.size()
                                    + " QUEUEING (the step could not keep up; latency counts from each event's scheduled"
                                    + " time)");
        }
    }

    /** Whether each target was met by its median. */
    static String targets(Map<String, Rounds.Spread> last) {
        return String.format(
                Locale.ROOT,
                "targets: %s<=%.1f %s, %s<=%.1f %s, %s>=%.2f %s",
                LOW_KEY,
                TARGET_LOW,
                met(last.get(LOW_KEY).median() <= TARGET_LOW, last.get(LOW_KEY)),
                MID_KEY,
                TARGET_MID,
                met(last.get(MID_KEY).median() <= TARGET_MID, last.get(MID_KEY)),
                SATURATED_KEY,
                TARGET_SATURATED,
                met(last.get(SATURATED_KEY).median() >= TARGET_SATURATED, last.get(SATURATED_KEY)));
    }

    private static String met(boolean met, Rounds.Spread figure) {
        return Double.isNaN(figure.median()) ? "NOT MET (a round had no results)" : met ? "met" : "NOT MET";
    }
}
