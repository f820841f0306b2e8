package dev.flinkslm.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/** The JVM options of {@code java ... -jar flink-slm.jar} that the job's JVM gets too. */
class LauncherTest {

    @Test
    void sizesGcAndPropertiesAreForwarded() {
        List<String> sizes = List.of(
                "-Xmx4g",
                "-Xms1g",
                "-Xss2m",
                "-XX:MaxDirectMemorySize=1g",
                "-XX:MaxRAMPercentage=75.0",
                "-XX:+UseG1GC",
                "-Dflinkslm.cache.dir=/var/cache/flink-slm",
                "-Djava.io.tmpdir=/data/tmp");
        assertThat(Launcher.forwardedJvmOptions(sizes, List.of())).containsExactlyElementsOf(sizes);
    }

    @Test
    void whatWouldClashBetweenTwoJvmsStaysWithTheLauncher() {
        assertThat(Launcher.forwardedJvmOptions(
                        List.of(
                                "-javaagent:/opt/jmx_prometheus_javaagent.jar=9404:/etc/jmx.yaml",
                                "-agentpath:/opt/profiler.so",
                                "-agentlib:jdwp=transport=dt_socket,server=y,address=5005",
                                "-Dcom.sun.management.jmxremote.port=19999",
                                "-Dcom.sun.management.jmxremote.rmi.port=19998",
                                "-Xlog:gc:file=gc.log",
                                "-XX:HeapDumpPath=/tmp/dump.hprof",
                                "-XX:StartFlightRecording=filename=rec.jfr",
                                "-Dlog4j.configurationFile=/etc/log4j2.properties",
                                "-Dlog4j2.configurationFile=/etc/log4j2.properties",
                                "-D" + FlinkSlmCli.PARENT_PID_PROPERTY + "=42",
                                "--add-opens=java.base/java.lang=ALL-UNNAMED"),
                        List.of()))
                .isEmpty();
    }

    @Test
    void optionsFromTheEnvironmentAreNotGivenTwice() {
        List<String> fromEnvironment = Launcher.environmentJvmOptions(
                Map.of("JAVA_TOOL_OPTIONS", " -Xmx2g  -Dfrom.tool=1 ", "JDK_JAVA_OPTIONS", "-Dfrom.jdk=1"));
        assertThat(fromEnvironment).containsExactly("-Xmx2g", "-Dfrom.tool=1", "-Dfrom.jdk=1");
        // the JVM lists the environment's options first, then the command line's
        assertThat(Launcher.forwardedJvmOptions(
                        List.of("-Xmx2g", "-Dfrom.tool=1", "-Dfrom.jdk=1", "-Xmx4g", "-Dmine=1"), fromEnvironment))
                .containsExactly("-Xmx4g", "-Dmine=1");
    }
}
