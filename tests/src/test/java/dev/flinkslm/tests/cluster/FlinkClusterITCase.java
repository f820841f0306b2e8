package dev.flinkslm.tests.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The harness itself: processes start, a SIGKILLed TaskManager is noticed, a new one joins, close() stops all. */
class FlinkClusterITCase {

    @Test
    void startsKillsReplacesAndStopsProcesses() throws Exception {
        Path repoRoot = FlinkConfigFile.repoRoot();
        Path workDir = repoRoot.resolve("tests/target/cluster-it/harness-" + System.currentTimeMillis());
        List<ProcessHandle> started = new ArrayList<>();
        try (FlinkCluster cluster = FlinkCluster.builder(repoRoot, workDir)
                .taskManagers(2)
                .slotsPerTaskManager(2)
                .start()) {
            assertThat(cluster.rest().overview().path("slots-total").asInt()).isEqualTo(4);
            assertThat(cluster.rest().overview().path("flink-version").asText()).isEqualTo("2.2.1");
            assertThat(cluster.restUrl()).startsWith("http://127.0.0.1:");

            FlinkCluster.TaskManager victim = cluster.taskManagers().get(0);
            long t0 = System.nanoTime();
            cluster.killTaskManager(victim);
            long detectedMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(victim.process().isAlive()).isFalse();
            assertThat(cluster.rest().taskManagerIds()).doesNotContain(victim.resourceId());
            assertThat(detectedMs)
                    .as("killed TaskManager noticed by the JobManager (ms)")
                    .isLessThan(Duration.ofSeconds(30).toMillis());

            FlinkCluster.TaskManager fresh = cluster.startTaskManager();
            assertThat(cluster.rest().taskManagerIds()).contains(fresh.resourceId());
            assertThat(cluster.rest().overview().path("taskmanagers").asInt()).isEqualTo(2);
            assertThat(cluster.taskManagerLog(fresh)).contains("Successful registration at resource manager");

            cluster.taskManagers().forEach(tm -> started.add(tm.process().toHandle()));
        }
        assertThat(started).isNotEmpty().allSatisfy(p -> assertThat(p.isAlive()).isFalse());
    }
}
