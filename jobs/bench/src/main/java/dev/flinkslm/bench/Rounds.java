package dev.flinkslm.bench;

import org.apache.flink.annotation.Internal;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Interleaved rounds, the one way every benchmark here measures: approaches A, B, C run as A, B, C,
 * A, B, C, ... so that a host that gets busier or calmer during the benchmark slows every approach
 * alike, and each printed figure is the median over the rounds with its range.
 *
 * <pre>{@code
 * Rounds.Results<Row> r = Rounds.interleave(3, List.of(round -> ceiling(), round -> operator()));
 * Rounds.Spread ratio = r.ratio(1, 0, Row::eventsPerSecond); // per round, then the median
 * out.println(ratio.format("%.3f"));                        // 0.961 (0.806-1.056)
 * }</pre>
 *
 * <p>Not thread-safe; the approaches run one after another on the calling thread.
 */
@Internal
final class Rounds {

    /** Fewer rounds than this give no median worth printing on a noisy host. */
    static final int MIN_ROUNDS = 3;

    private Rounds() {}

    /** One approach, measured once per round. */
    @FunctionalInterface
    interface Approach<T> {
        /** @param round 1-based round number, for the progress lines */
        T run(int round) throws Exception;
    }

    /** Refuses fewer than {@link #MIN_ROUNDS} rounds, with a message that says why and what to pass. */
    /** The {@code --rounds} option of every benchmark that compares approaches: a picocli mixin. */
    static final class RoundsOption {
        @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
        CommandLine.Model.CommandSpec mixee;

        @CommandLine.Option(
                names = "--rounds",
                defaultValue = "3",
                description = "Interleaved rounds of the approaches compared, at least 3 (default: ${DEFAULT-VALUE}).")
        int rounds;

        /** The rounds asked for; fewer than {@link #MIN_ROUNDS} are refused as a usage error of the command. */
        int rounds() {
            requireRounds(mixee, "--rounds", rounds);
            return rounds;
        }
    }

    static void requireRounds(CommandLine.Model.CommandSpec spec, String option, int rounds) {
        if (rounds < MIN_ROUNDS) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    String.format(
                            Locale.ROOT,
                            "%s must be at least %d, was %d: every figure is the median of interleaved rounds"
                                    + " with their min-max range, which needs at least %d of them",
                            option,
                            MIN_ROUNDS,
                            rounds,
                            MIN_ROUNDS));
        }
    }

    /** Runs the approaches round-robin for {@code rounds} rounds: A, B, C, A, B, C, ... */
    static <T> Results<T> interleave(int rounds, List<? extends Approach<? extends T>> approaches) throws Exception {
        if (rounds < 1 || approaches.isEmpty()) {
            throw new IllegalArgumentException(
                    "need at least one round and one approach, got " + rounds + " and " + approaches.size());
        }
        List<List<T>> byRound = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            List<T> figures = new ArrayList<>();
            for (Approach<? extends T> approach : approaches) {
                figures.add(approach.run(round));
            }
            byRound.add(Collections.unmodifiableList(figures));
        }
        return new Results<>(Collections.unmodifiableList(byRound));
    }

    /** What each approach gave in each round. */
    static final class Results<T> {
        private final List<List<T>> byRound;

        Results(List<List<T>> byRound) {
            this.byRound = byRound;
        }

        int rounds() {
            return byRound.size();
        }

        /** Approach {@code approach}'s figures, one per round, in round order. */
        List<T> of(int approach) {
            List<T> out = new ArrayList<>();
            for (List<T> round : byRound) {
                out.add(round.get(approach));
            }
            return out;
        }

        Spread spread(int approach, ToDoubleFunction<? super T> figure) {
            return Spread.of(of(approach), figure);
        }

        /** numerator / denominator within each round (like with like), then median and range over the rounds. */
        Spread ratio(int numerator, int denominator, ToDoubleFunction<? super T> figure) {
            List<Double> ratios = new ArrayList<>();
            for (List<T> round : byRound) {
                ratios.add(Rounds.ratio(
                        figure.applyAsDouble(round.get(numerator)), figure.applyAsDouble(round.get(denominator))));
            }
            return Spread.of(ratios);
        }
    }

    /**
     * NaN when there was nothing to divide by (a run without results): such a figure cannot meet any
     * target, and prints as NaN rather than as a flattering 0.
     */
    static double ratio(double numerator, double denominator) {
        return denominator == 0 || Double.isNaN(denominator) ? Double.NaN : numerator / denominator;
    }

    /** Median and range of one figure over rounds (or over any set of comparable stretches). */
    record Spread(double median, double min, double max, int count) {

        static Spread of(List<Double> values) {
            if (values.isEmpty()) {
                throw new IllegalArgumentException("no values to take the median of");
            }
            if (values.stream().anyMatch(v -> Double.isNaN(v))) {
                // a round without data leaves the figure undetermined, not its median of the others
                return new Spread(Double.NaN, Double.NaN, Double.NaN, values.size());
            }
            List<Double> sorted = new ArrayList<>(values);
            sorted.sort(null);
            int n = sorted.size();
            double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
            return new Spread(median, sorted.get(0), sorted.get(n - 1), n);
        }

        static <T> Spread of(List<T> items, ToDoubleFunction<? super T> figure) {
            return of(items.stream().map(figure::applyAsDouble).toList());
        }

        /** {@code median (min-max)}, each number in {@code numberFormat}, e.g. {@code 0.961 (0.806-1.056)}. */
        String format(String numberFormat) {
            return String.format(
                    Locale.ROOT, numberFormat + " (" + numberFormat + "-" + numberFormat + ")", median, min, max);
        }
    }

    /** The last line of a benchmark: {@code key=median ...} in the order given, medians in {@code numberFormat}. */
    static String lastLine(Map<String, Spread> ratios, String numberFormat) {
        StringBuilder b = new StringBuilder();
        ratios.forEach((key, spread) -> b.append(b.length() == 0 ? "" : " ")
                .append(key)
                .append('=')
                .append(String.format(Locale.ROOT, numberFormat, spread.median())));
        return b.toString();
    }

    /** One line per ratio: {@code key median (min-max) over n <what>}, e.g. {@code ... over 3 rounds}. */
    static String describe(String key, Spread spread, String numberFormat, String what) {
        return String.format(
                Locale.ROOT, "%-24s %s over %d %s", key, spread.format(numberFormat), spread.count(), what);
    }
}
