package dev.flinkslm.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;

/** The JVM options of {@code java ... -jar flink-slm.jar} that the job's JVM gets too. */
class LauncherTest {

    @Test
    void heapPropertiesAndAgentsAreForwardedButNotTheLogConfigurationOrADebugger() {
        assertThat(Launcher.forwardedJvmOptions(List.of(
                        "-Xmx4g",
                        "-Dflinkslm.cache.dir=/var/cache/flink-slm",
                        "-Djava.io.tmpdir=/data/tmp",
                        "-javaagent:/opt/otel.jar",
                        "-XX:+HeapDumpOnOutOfMemoryError",
                        "-Dlog4j.configurationFile=/etc/log4j2.properties",
                        "-agentlib:jdwp=transport=dt_socket,server=y,address=5005",
                        "-D" + FlinkSlmCli.PARENT_PID_PROPERTY + "=42")))
                .containsExactly(
                        "-Xmx4g",
                        "-Dflinkslm.cache.dir=/var/cache/flink-slm",
                        "-Djava.io.tmpdir=/data/tmp",
                        "-javaagent:/opt/otel.jar",
                        "-XX:+HeapDumpOnOutOfMemoryError");
    }
}
