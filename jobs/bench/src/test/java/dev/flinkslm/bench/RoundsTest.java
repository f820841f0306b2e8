package dev.flinkslm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Interleaved rounds: the order they run in, their medians and ranges, per-round ratios, the minimum. */
class RoundsTest {

    @Test
    void approachesRunRoundRobin() throws Exception {
        List<String> order = new ArrayList<>();
        Rounds.Results<String> r = Rounds.interleave(
                3,
                List.<Rounds.Approach<String>>of(
                        round -> record(order, "A" + round),
                        round -> record(order, "B" + round),
                        round -> record(order, "C" + round)));
        assertThat(order).containsExactly("A1", "B1", "C1", "A2", "B2", "C2", "A3", "B3", "C3");
        assertThat(r.rounds()).isEqualTo(3);
        assertThat(r.of(1)).containsExactly("B1", "B2", "B3");
    }

    private static String record(List<String> order, String name) {
        order.add(name);
        return name;
    }

    @Test
    void spreadIsTheMedianWithTheRange() {
        Rounds.Spread odd = Rounds.Spread.of(List.of(30.0, 10.0, 20.0));
        assertThat(odd).isEqualTo(new Rounds.Spread(20.0, 10.0, 30.0, 3));
        Rounds.Spread even = Rounds.Spread.of(List.of(4.0, 1.0, 3.0, 2.0));
        assertThat(even).isEqualTo(new Rounds.Spread(2.5, 1.0, 4.0, 4));
        assertThat(odd.format("%.3f")).isEqualTo("20.000 (10.000-30.000)");
        assertThatThrownBy(() -> Rounds.Spread.of(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    /** Ratios are taken within each round and then summarised, not as a ratio of medians. */
    @Test
    void ratiosAreTakenPerRound() throws Exception {
        double[][] figures = {{10, 20, 30}, {5, 40, 15}};
        Rounds.Results<Double> r = Rounds.interleave(
                3, List.<Rounds.Approach<Double>>of(round -> figures[0][round - 1], round -> figures[1][round - 1]));
        Rounds.Spread ratio = r.ratio(0, 1, Double::doubleValue);
        // per round 2.0, 0.5, 2.0; the ratio of the medians would be 20 / 15
        assertThat(ratio).isEqualTo(new Rounds.Spread(2.0, 0.5, 2.0, 3));
        assertThat(r.spread(1, Double::doubleValue).median()).isEqualTo(15.0);
        assertThat(Rounds.ratio(3, 0)).isNaN();
        assertThat(Rounds.Spread.of(java.util.List.of(1.0, Rounds.ratio(3, 0), 2.0))
                        .median())
                .as("a round without data leaves the figure undetermined")
                .isNaN();
    }

    @Test
    void theLastLineCarriesTheMediansInOrder() {
        Map<String, Rounds.Spread> ratios = new LinkedHashMap<>();
        ratios.put("operator_vs_ceiling", new Rounds.Spread(0.9614, 0.806, 1.056, 3));
        ratios.put("batched_vs_naive", new Rounds.Spread(2.0891, 1.84, 2.19, 3));
        assertThat(Rounds.lastLine(ratios, "%.3f")).isEqualTo("operator_vs_ceiling=0.961 batched_vs_naive=2.089");
        assertThat(Rounds.describe("operator_vs_ceiling", ratios.get("operator_vs_ceiling"), "%.3f", "rounds"))
                .isEqualTo("operator_vs_ceiling      0.961 (0.806-1.056) over 3 rounds");
    }

    @Test
    void fewerThanThreeRoundsAreRefusedByEveryBenchmark() {
        assertRefused(new String[] {"throughput", "--rounds", "2"}, "--rounds must be at least 3, was 2");
        assertRefused(new String[] {"latency", "--rounds", "1"}, "--rounds must be at least 3, was 1");
        assertRefused(new String[] {"swap", "--rate-rounds", "2"}, "--rate-rounds must be at least 3, was 2");
    }

    @Test
    void theNegatableSwitchesOfThroughputDefaultOnAndTurnOff() {
        for (String[] args : new String[][] {
            {},
            {"--sql", "--group-by-length"},
            {"--no-sql"},
            {"--no-group-by-length"},
            {"--no-sql", "--no-group-by-length"}
        }) {
            CommandLine cli = new CommandLine(new BenchCommand());
            List<String> all = new java.util.ArrayList<>(List.of("throughput"));
            all.addAll(List.of(args));
            CommandLine.ParseResult parsed = cli.parseArgs(all.toArray(String[]::new));
            BenchCommand.Throughput t =
                    (BenchCommand.Throughput) parsed.subcommand().commandSpec().userObject();
            List<String> given = List.of(args);
            assertThat(t.sql).as("sql with %s", given).isEqualTo(!given.contains("--no-sql"));
            assertThat(t.groupByLength)
                    .as("group by length with %s", given)
                    .isEqualTo(!given.contains("--no-group-by-length"));
        }
    }

    private static void assertRefused(String[] args, String message) {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new BenchCommand());
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        int code = cli.execute(args);
        assertThat(code).isEqualTo(cli.getCommandSpec().exitCodeOnInvalidInput());
        assertThat(err.toString()).contains(message).contains("median of interleaved rounds");
    }
}
