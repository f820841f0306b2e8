package dev.flinkslm.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.tests.cluster.JobJars;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The deployable jar as a user runs it, in its own JVM: {@code --version} names the project version and the commit
 * the jar was built from, and the Quickstart's run logs no warning or error.
 */
class DeployableJarITCase {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /**
     * WARN or ERROR lines a Quickstart run may print, each with the reason it is accepted. None today: the
     * embedded cluster's start-up warnings (delegation tokens, the web UI's log file) are configured away.
     */
    private static final List<Pattern> ALLOWED = List.of();

    /** Runs {@code java -jar flink-slm.jar ARGS} and returns its output (stdout and stderr); fails on a non-zero exit. */
    private static String run(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                JobJars.deployable(ROOT).toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    @Timeout(180)
    void theQuickstartLogsNoWarningOrError() throws Exception {
        String out = run("screen", "--max-events", "300");
        assertThat(out).contains("== screening summary (finished) ==").contains("inputs:         300");
        List<String> unexpected = out.lines()
                .filter(l -> l.matches("^\\S+ (WARN|ERROR) .*"))
                .filter(l -> ALLOWED.stream().noneMatch(a -> a.matcher(l).find()))
                .toList();
        assertThat(unexpected).as("WARN and ERROR lines of the Quickstart").isEmpty();
    }

    @Test
    @Timeout(60)
    void theDeployableJarSaysItsVersionAndCommit() throws Exception {
        String out = run("--version");
        assertThat(out).matches("flink-slm \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit [0-9a-f]{10}(-dirty)?\\)");
        // the commit of this checkout, from which the build made the jar
        Process git = new ProcessBuilder("git", "rev-parse", "--short=10", "HEAD")
                .directory(ROOT.toFile())
                .redirectErrorStream(true)
                .start();
        String head = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(git.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("(commit " + head);
    }
}
