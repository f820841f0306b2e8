package dev.flinkslm.bench;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** A {@code bench} command run in this JVM with its standard output captured (and echoed for the log). */
record CapturedRun(int exitCode, String output) {

    static CapturedRun of(String... args) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = new CommandLine(new BenchCommand()).execute(args);
        } finally {
            System.setOut(previous);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        previous.println(output);
        return new CapturedRun(code, output);
    }
}
