package dev.flinkslm.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;

/** The JVM options of {@code java ... -jar flink-slm.jar} that the job's JVM gets too. */
class LauncherTest {

    @Test
    void sizesGcOutOfMemoryHandlingAndPropertiesAreForwarded() {
        List<String> options = List.of(
                "-Xmx4g",
                "-Xms1g",
                "-Xmn256m",
                "-Xss2m",
                "-XX:MaxHeapSize=4g",
                "-XX:MaxDirectMemorySize=1g",
                "-XX:MaxRAMPercentage=75.0",
                "-XX:+UnlockExperimentalVMOptions",
                "-XX:+UseEpsilonGC",
                "-XX:-UseParallelGC",
                "-XX:MaxGCPauseMillis=50",
                "-XX:+ExitOnOutOfMemoryError",
                "-ea",
                "-Dflinkslm.cache.dir=/home/u/My Cache",
                "-Djava.io.tmpdir=/data/tmp");
        assertThat(Launcher.forwardedJvmOptions(options)).containsExactlyElementsOf(options);
        assertThat(Launcher.notForwarded(options)).isEmpty();
    }

    @Test
    void whatWouldClashBetweenTwoJvmsStaysWithTheLauncherAndIsNamed() {
        List<String> clashing = List.of(
                "-javaagent:/opt/jmx_prometheus_javaagent.jar=9404:/etc/jmx.yaml",
                "-agentpath:/opt/profiler.so",
                "-agentlib:jdwp=transport=dt_socket,server=y,address=5005",
                "-Xrunjdwp:transport=dt_socket",
                "-Dcom.sun.management.jmxremote.port=19999",
                "-Dcom.sun.management.jmxremote.rmi.port=19998",
                "-Xlog:gc:file=gc.log",
                "-XX:HeapDumpPath=/tmp/dump.hprof",
                "-XX:StartFlightRecording=filename=rec.jfr",
                "-D" + FlinkSlmCli.PARENT_PID_PROPERTY + "=42");
        List<String> setAnyway = List.of(
                "-Dlog4j.configurationFile=/etc/log4j2.properties",
                "-Dlog4j2.configurationFile=/etc/log4j2.properties",
                "--add-opens=java.base/java.lang=ALL-UNNAMED");
        List<String> all = new java.util.ArrayList<>(clashing);
        all.addAll(setAnyway);
        assertThat(Launcher.forwardedJvmOptions(all)).isEmpty();
        assertThat(Launcher.notForwarded(all)).containsExactlyElementsOf(clashing);
    }
}
