package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.compliance.internal.BundleWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Two JVMs resolving the default bundle into the same empty cache at once both succeed with one intact bundle. */
class BundleRaceTest {

    /** Entry point of the racing child JVMs: {@code <cacheRoot>}. */
    public static void main(String[] args) {
        Path dir = DefaultModel.bundleDirectory(Precision.INT8, Path.of(args[0]));
        System.out.println(dir);
    }

    @TempDir
    Path cache;

    @TempDir
    Path logs;

    @Test
    void twoJvmsRaceToTheSameCache() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> procs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            procs.add(new ProcessBuilder(
                            java,
                            "-Xmx512m",
                            "-cp",
                            System.getProperty("java.class.path"),
                            BundleRaceTest.class.getName(),
                            cache.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(logs.resolve("race" + i + ".log").toFile())
                    .start());
        }
        for (Process p : procs) {
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
        }
        Path dir = cache.resolve(BundleWriter.dirName(Precision.INT8));
        assertThat(BundleWriter.isIntact(dir, null, null)).isTrue();
        try (var s = Files.list(cache)) {
            // no temp or stale directories left behind
            assertThat(s.map(p -> p.getFileName().toString()))
                    .containsExactly(dir.getFileName().toString());
        }
    }
}
