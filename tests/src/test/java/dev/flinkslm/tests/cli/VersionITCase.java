package dev.flinkslm.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.tests.cluster.JobJars;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code java -jar flink-slm.jar --version} names the project version and the commit the jar was built from. */
class VersionITCase {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    @Timeout(60)
    void theDeployableJarSaysItsVersionAndCommit() throws Exception {
        Process p = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        JobJars.deployable(ROOT).toString(),
                        "--version"))
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
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
