package dev.flinkslm.tests.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.tests.cluster.jobs.NativeProbeJob;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Native libraries across job submissions on one session cluster. Every submission gets a new
 * user-code class loader; DJL's libtokenizers.so may be loaded only once per JVM. With the ORT/DJL
 * jars in the cluster's lib and {@code ai.onnxruntime.;ai.djl.} parent-first (the production
 * layout, docker/conf), a cancelled job submitted again works; without the jars in lib, the same
 * resubmission fails, which shows the check can fail.
 */
class NativeLibraryResubmitITCase {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final Pattern LOAD = Pattern.compile(
            "flink-slm-probe model-loaded job=(\\S+) model=\\S+ pid=(\\d+) ortLoader=(\\S+) djlLoader=(\\S+) ortEnv=(\\d+)");

    private static Path repoRoot;
    private static Path jobJar;

    @BeforeAll
    static void buildJobJar() {
        repoRoot = FlinkConfigFile.repoRoot();
        jobJar = JobJars.withTestJobs(repoRoot, repoRoot.resolve("tests/target/cluster-it/flink-slm-native-probe.jar"));
    }

    private static FlinkCluster cluster(String name, boolean nativeLibsInLib) throws Exception {
        return FlinkCluster.builder(
                        repoRoot,
                        repoRoot.resolve("tests/target/cluster-it/" + name + "-" + System.currentTimeMillis()))
                .taskManagers(2)
                .slotsPerTaskManager(2)
                .nativeLibsOnClasspath(nativeLibsInLib)
                .start();
    }

    @Test
    void cancelledJobResubmittedToTheSameClusterLoadsNativesAgain() throws Exception {
        try (FlinkCluster cluster = cluster("native-resubmit", true)) {
            FlinkRestClient rest = cluster.rest();
            String jarId = rest.uploadJar(jobJar);

            String first = runUntilCheckpointed(rest, jarId);
            rest.cancel(first, TIMEOUT);
            String second = runUntilCheckpointed(rest, jarId);
            assertThat(rest.exceptionCount(second))
                    .as("failures of the resubmitted job: %s", rest.rootException(second))
                    .isZero();
            rest.cancel(second, TIMEOUT);

            List<String[]> loads = loads(cluster);
            for (String job : List.of(first, second)) {
                for (Path log : cluster.allTaskManagerLogs()) {
                    assertThat(loads)
                            .as(
                                    "model loads of job %s in %s (one per TaskManager JVM, shared by its 2 slots)",
                                    job, log)
                            .filteredOn(l -> l[0].equals(log.toString()) && l[1].equals(job))
                            .hasSize(1);
                }
            }
            assertThat(loads)
                    .as("ORT and DJL come from the cluster lib, not from the job jar")
                    .allSatisfy(l -> assertThat(l[3] + "," + l[4]).isEqualTo("AppClassLoader,AppClassLoader"));
            for (Path log : cluster.allTaskManagerLogs()) {
                assertThat(loads)
                        .as("one OrtEnvironment per TaskManager JVM across both jobs (%s)", log)
                        .filteredOn(l -> l[0].equals(log.toString()))
                        .extracting(l -> l[5])
                        .containsOnly(loads.stream()
                                .filter(l -> l[0].equals(log.toString()))
                                .findFirst()
                                .orElseThrow()[5]);
            }
        }
    }

    @Test
    void withoutNativeJarsInLibTheResubmissionFails() throws Exception {
        try (FlinkCluster cluster = cluster("native-control", false)) {
            FlinkRestClient rest = cluster.rest();
            String jarId = rest.uploadJar(jobJar);
            String first = runUntilCheckpointed(rest, jarId);
            assertThat(loads(cluster))
                    .allSatisfy(l -> assertThat(l[4]).as("DJL from the job jar").isNotEqualTo("AppClassLoader"));
            rest.cancel(first, TIMEOUT);

            String second = rest.runJar(jarId, NativeProbeJob.class.getName(), List.of(), null);
            FlinkRestClient.waitUntil(
                    "a failure of the resubmitted job", TIMEOUT, () -> rest.exceptionCount(second) > 0);
            assertThat(rest.rootException(second)).contains("already loaded in another classloader");
            rest.cancel(second, TIMEOUT);
        }
    }

    private static String runUntilCheckpointed(FlinkRestClient rest, String jarId) throws InterruptedException {
        String jobId = rest.runJar(jarId, NativeProbeJob.class.getName(), List.of(), null);
        rest.waitForAllTasksRunning(jobId, TIMEOUT);
        // Two checkpoints: every task has opened (loaded its models) and is processing.
        rest.waitForCompletedCheckpoints(jobId, 2, TIMEOUT);
        return jobId;
    }

    /** {log, job, pid, ortLoader, djlLoader, ortEnv} per model-load line in all TaskManager logs. */
    private static List<String[]> loads(FlinkCluster cluster) {
        List<String[]> loads = new ArrayList<>();
        for (Path log : cluster.allTaskManagerLogs()) {
            try {
                for (String line : Files.readAllLines(log)) {
                    Matcher m = LOAD.matcher(line);
                    if (m.find()) {
                        loads.add(
                                new String[] {log.toString(), m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
                                });
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return loads;
    }
}
