package dev.flinkslm.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The log configuration shipped in the jar ({@code flink-slm-log4j2.properties}) keeps the Kafka
 * clients' reconnect noise out: with an unreachable broker kafka-clients 4.2 logs "Rebootstrapping
 * with [...]" at INFO (Metadata, AdminMetadataManager) in a tight loop, and NetworkClient warns on
 * every failed connection attempt. Flink's metric name collision warnings are filtered for the Kafka sink's two
 * gauges only.
 */
class ShippedLogConfigurationTest {

    @Test
    void kafkaReconnectLoggersAreQuietAndBounded() throws Exception {
        URL url = getClass().getClassLoader().getResource("flink-slm-log4j2.properties");
        assertThat(url).as("shipped log configuration").isNotNull();
        PrintStream err = System.err;
        System.setErr(
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)); // its console appender
        // A context of its own: the JVM-wide one is whatever the test classpath configured.
        LoggerContext ctx = new LoggerContext("shipped-log-config-test", null, url.toURI());
        ctx.start();
        try {
            for (String name : new String[] {
                "org.apache.kafka.clients.Metadata",
                "org.apache.kafka.clients.admin.internals.AdminMetadataManager",
                "org.apache.kafka.clients.NetworkClient",
                "org.apache.kafka.clients.consumer.internals.ConsumerCoordinator"
            }) {
                assertThat(ctx.getLogger(name).isInfoEnabled())
                        .as(name + " at INFO")
                        .isFalse();
            }
            assertThat(ctx.getLogger("org.apache.kafka.clients.NetworkClient").isWarnEnabled())
                    .isTrue();
            assertThat(ctx.getLogger("dev.flinkslm.jobs.ScreenCommand").isInfoEnabled())
                    .isTrue();

            // A burst of connection warnings is cut to the configured burst, errors always pass.
            AtomicInteger seen = count(ctx, "org.apache.kafka.clients.NetworkClient");
            Logger network = ctx.getLogger("org.apache.kafka.clients.NetworkClient");
            for (int i = 0; i < 10_000; i++) {
                network.warn("Connection to node -1 (localhost/127.0.0.1:9) could not be established.");
            }
            assertThat(seen.get()).isBetween(1, 25);
            network.error("a real error");
            assertThat(seen.get()).isBetween(2, 26);

            // Of Flink's metric name collisions only the Kafka sink's two known ones are dropped.
            AtomicInteger collisions = count(ctx, "org.apache.flink.metrics.MetricGroup");
            Logger metrics = ctx.getLogger("org.apache.flink.metrics.MetricGroup");
            String collision = "Name collision: Group already contains a Metric with the name '%s'. Metric will not"
                    + " be reported.[localhost, taskmanager, tm-1, flink-slm-screening, %s, 1]";
            metrics.warn(String.format(collision, "currentSendTime", "kafka-scored: Writer"));
            metrics.warn(String.format(collision, "pendingCommittables", "kafka-audit: Committer"));
            assertThat(collisions.get()).as("the Kafka sink's gauges").isZero();
            metrics.warn(String.format(collision, "numRecordsOut", "kafka-scored: Writer"));
            metrics.warn(String.format(collision, "currentSendTime", "slm-scoring"));
            metrics.warn(String.format(collision, "pendingCommittablesTotal", "kafka-audit: Committer"));
            assertThat(collisions.get()).as("other collisions").isEqualTo(3);
        } finally {
            ctx.stop();
            System.setErr(err);
        }
    }

    /** Counts the events that the logger's configuration lets through to its appenders. */
    private static AtomicInteger count(LoggerContext ctx, String logger) {
        AtomicInteger seen = new AtomicInteger();
        AbstractAppender counter = new AbstractAppender("count-" + logger, null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                seen.incrementAndGet();
            }
        };
        counter.start();
        ctx.getConfiguration().getLoggerConfig(logger).addAppender(counter, Level.ALL, null);
        return seen;
    }
}
