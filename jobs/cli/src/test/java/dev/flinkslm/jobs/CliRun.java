package dev.flinkslm.jobs;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * One in-process run of the {@code flink-slm} command line with its exit code and what it printed
 * (through picocli's writers; output that a job prints to {@code System.out} is not captured).
 *
 * <pre>{@code
 * CliRun run = CliRun.of("screen", "--max-events", "0");
 * assertThat(run.code()).isEqualTo(2);
 * assertThat(run.err()).contains("--max-events must be at least 1");
 * }</pre>
 *
 * @param code the exit code
 * @param out what the command printed to its standard output writer
 * @param err what it printed to its error writer
 */
public record CliRun(int code, String out, String err) {

    /** Runs {@code flink-slm args...} in this JVM. */
    public static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = FlinkSlmCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** Both outputs, standard output first. */
    public String text() {
        return out + "\n" + err;
    }
}
