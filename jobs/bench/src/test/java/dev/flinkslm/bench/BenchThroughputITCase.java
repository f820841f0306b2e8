package dev.flinkslm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.List;

/**
 * {@code bench throughput} as a GPU host would run it, with tiny parameters: CUDA asked for (here
 * the session falls back to CPU and the header says so), two subtasks, the SQL approach
 * (ML_PREDICT with the onnx-slm provider) and the batch dispatcher as the fifth approach.
 */
class BenchThroughputITCase {

    @Test
    void cudaWithTheDispatcherRunsAndFallsBackToCpuWithoutADevice() {
        CapturedRun run = CapturedRun.of(
                "throughput",
                "--provider",
                "CUDA",
                "--model",
                "default:fp32",
                "--subtasks",
                "2",
                "--in-flight",
                "1",
                "--coalesce",
                "--events",
                "60",
                "--rounds",
                "3");
        int code = run.exitCode();
        String output = run.output();
        List<String> lines = output.lines().toList();

        assertThat(code).isZero();
        assertThat(lines.get(0)).containsPattern("subtasks=2 .*provider=CUDA \\(runs on (CPU|CUDA)\\)");
        assertThat(lines.get(0)).contains("compliance-minilm:1.3.0-fp32");
        assertThat(lines.stream().filter(l -> l.startsWith("  round ")).count())
                .as("3 rounds x 5 approaches")
                .isEqualTo(15);
        assertThat(output).contains("SQL ML_PREDICT (onnx-slm, async)");
        // operator, naive map, SQL and operator with the dispatcher: 60 events each per round
        assertThat(output).contains("scored every offered event: yes (720 of 720 scored, 0 duplicated)");
        assertThat(lines.get(lines.size() - 1))
                .matches("operator_vs_ceiling=\\d+\\.\\d{3} batched_vs_naive=\\d+\\.\\d{3}"
                        + " sql_vs_operator=\\d+\\.\\d{3} coalesced_vs_operator=\\d+\\.\\d{3}");
    }

    @Test
    void fewerThanOneSubtaskIsRefused() {
        CommandLine cli = new CommandLine(new BenchCommand());
        cli.setErr(new java.io.PrintWriter(new java.io.StringWriter()));
        assertThat(cli.execute("throughput", "--subtasks", "0")).isEqualTo(2);
    }
}
