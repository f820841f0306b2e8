package dev.flinkslm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * {@code bench latency} end to end with tiny parameters (embedded Flink jobs, the built-in model):
 * every step runs, every offered event is scored once, and the last line has the documented keys.
 */
class BenchLatencyITCase {

    @Test
    void tinyRunPrintsTheLastLineAndScoresEveryEvent() {
        CapturedRun run =
                CapturedRun.of("latency", "--rounds", "3", "--seconds", "1", "--rate", "200", "--events", "50");
        int code = run.exitCode();
        String output = run.output();
        List<String> lines = output.lines().toList();

        assertThat(code).isZero();
        assertThat(lines.get(lines.size() - 1))
                .matches("low_load_p99_vs_naive=\\d+\\.\\d{3} mid_load_p99_vs_naive=\\d+\\.\\d{3}"
                        + " saturated_vs_ceiling=\\d+\\.\\d{3}");
        assertThat(lines.get(lines.size() - 2))
                .matches("targets: low_load_p99_vs_naive<=1.5 (met|NOT MET), mid_load_p99_vs_naive<=2.0 (met|NOT MET),"
                        + " saturated_vs_ceiling>=0.90 (met|NOT MET)");
        // Per round: 20 + 100 + 180 events at 10/50/90 % of 200/s for 1 s, through operator and naive map
        // (enough that every run has results after its 250 ms warm-up, so every ratio is a number);
        // then 50 events each through operator and naive map unthrottled.
        long offered = 3 * (2 * (20 + 100 + 180) + 2 * 50);
        assertThat(output)
                .contains("scored every offered event: yes (" + offered + " of " + offered + " scored, 0 duplicated)");
        assertThat(output).contains("load 10%: offered 20.0 events/s", "load 50%", "load 90%: offered 180.0 events/s");
        assertThat(lines.stream().filter(l -> l.startsWith("  round ")).count())
                .as("3 rounds x (2 approaches x 3 loads + 3 saturated approaches)")
                .isEqualTo(3 * (2 * 3 + 3));
        assertThat(lines.stream()
                        .filter(l -> l.matches("  round \\d .*scored (\\d+)/\\1.*"))
                        .count())
                .isEqualTo(3 * 2 * 3);
    }
}
