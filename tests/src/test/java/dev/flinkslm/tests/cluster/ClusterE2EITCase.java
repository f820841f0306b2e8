package dev.flinkslm.tests.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The real-cluster end-to-end scenario ({@link ClusterScenario}) with the deployable jar's
 * {@code screen} job and the built-in model: TaskManager SIGKILL + replacement, cancel + resubmit with
 * {@code screen --resume latest}, stop-with-savepoint + restore with {@code screen --resume PATH} (each checked
 * against the path the cluster reports the job restored from), model loads per TaskManager JVM.
 */
class ClusterE2EITCase {

    @Test
    void exactlyOnceAcrossFailoverResubmitAndSavepoint() throws Exception {
        Path repoRoot = FlinkConfigFile.repoRoot();
        Path workDir = repoRoot.resolve("tests/target/cluster-it/e2e-" + System.currentTimeMillis());
        ClusterScenario.Result r =
                new ClusterScenario(repoRoot, workDir, ClusterScenario.screenJob(repoRoot), 3000).run();
        System.out.println("timings ms " + r.timingsMs());
        System.out.println(r.summaryLine());

        assertThat(r.produced())
                .as("3 phases of 3000 events, plus those that showed the canary live")
                .isGreaterThanOrEqualTo(9000);
        assertThat(r.killedMidStream())
                .as("TaskManager killed while events were still being produced")
                .isTrue();
        assertThat(r.lost()).as("events lost").isZero();
        assertThat(r.duplicated()).as("events duplicated").isZero();
        assertThat(r.stateConsistent()).isTrue();
        assertThat(r.resubmit()).as("cancel + resubmit to the same cluster").isTrue();
        assertThat(r.savepoint()).as("stop with savepoint + restore").isTrue();
        // Three jobs; job 1 ran on the two first TaskManagers and then on the survivor and the replacement.
        assertThat(r.modelLoadsPerTaskManagerJob())
                .as("model loads per (TaskManager, job, model)")
                .hasSizeGreaterThanOrEqualTo(6)
                .allSatisfy((key, loads) -> assertThat(loads).as(key).isEqualTo(1));
        assertThat(r.runtimeLoaders())
                .as("ORT loaded from the cluster lib, not the job jar")
                .containsExactly("AppClassLoader");
        assertThat(r.passed()).isTrue();
        assertQuietLogs(workDir.resolve("flink/log"));
    }

    /**
     * The cluster runs with the images' log settings ({@code docker/conf/log4j-cluster.properties}): no metric
     * name collision at all (the Kafka sink's two known ones are filtered, and flink-slm's own names are unique)
     * and no CUDA probe warning per model load.
     */
    private static void assertQuietLogs(Path logDir) throws IOException {
        List<Path> logs;
        try (Stream<Path> files = Files.list(logDir)) {
            logs = files.filter(f -> f.getFileName().toString().endsWith(".log"))
                    .toList();
        }
        assertThat(logs).as("logs in %s", logDir).hasSizeGreaterThanOrEqualTo(3);
        for (Path log : logs) {
            try (Stream<String> lines = Files.lines(log)) {
                assertThat(lines.filter(l -> l.contains("Name collision") || l.contains("CudaUtils")))
                        .as("metric name collisions and CUDA probe warnings in %s", log)
                        .isEmpty();
            }
        }
    }
}
