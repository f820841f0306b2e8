package dev.flinkslm.screening;

import dev.flinkslm.connectors.FileResultSink;
import dev.flinkslm.connectors.KafkaResultSink;
import org.apache.flink.annotation.PublicEvolving;

/**
 * The sinks of the screening results, as JSON: scored events, alerts and shadow comparisons, to Kafka (keyed by
 * account id, so one account's results stay ordered in one partition) or to JSON-lines files.
 * Dead letters and audit records use the generic {@link KafkaResultSink#deadLetters()},
 * {@link KafkaResultSink#audit}, {@link FileResultSink#deadLetters} and {@link FileResultSink#audit}.
 *
 * <pre>{@code
 * scored.sinkTo(ScreeningSinks.kafkaScored().configure(conf).build()).name("scored-to-kafka");
 * alerts.sinkTo(ScreeningSinks.fileAlerts("/out").build());          // /out/alerts/part-*.jsonl
 * }</pre>
 *
 * <p>Threading: stateless factory methods; see the builders.
 */
@PublicEvolving
public final class ScreeningSinks {

    /** Subdirectory of scored events under a file output directory. */
    public static final String SCORED_DIR = "scored";
    /** Subdirectory of alerts under a file output directory. */
    public static final String ALERTS_DIR = "alerts";
    /** Subdirectory of shadow comparisons under a file output directory. */
    public static final String SHADOW_DIR = "shadow";

    private ScreeningSinks() {}

    /** Scored events to {@link ScreeningOptions#SCORED_TOPIC}, keyed by account id. */
    public static KafkaResultSink.Builder<ScoredEvent> kafkaScored() {
        return KafkaResultSink.builder(
                ScreeningSchemas.scoredEvents(), "scored", ScreeningOptions.SCORED_TOPIC, s -> s.accountId);
    }

    /** Alerts to {@link ScreeningOptions#ALERTS_TOPIC}, keyed by account id. */
    public static KafkaResultSink.Builder<Alert> kafkaAlerts() {
        return KafkaResultSink.builder(
                ScreeningSchemas.alerts(), "alerts", ScreeningOptions.ALERTS_TOPIC, a -> a.scored.accountId);
    }

    /** Shadow comparisons to {@link ScreeningOptions#SHADOW_TOPIC}, keyed by account id. */
    public static KafkaResultSink.Builder<ShadowComparison> kafkaShadow() {
        return KafkaResultSink.builder(
                ScreeningSchemas.shadowComparisons(), "shadow", ScreeningOptions.SHADOW_TOPIC, c -> c.accountId);
    }

    /** Shadow comparisons into {@code dir/shadow/}. */
    public static FileResultSink.Builder<ShadowComparison> fileShadow(String dir) {
        return FileResultSink.builder(dir, SHADOW_DIR, ScreeningSchemas.shadowComparisons());
    }

    /** Scored events into {@code dir/scored/}. */
    public static FileResultSink.Builder<ScoredEvent> fileScored(String dir) {
        return FileResultSink.builder(dir, SCORED_DIR, ScreeningSchemas.scoredEvents());
    }

    /** Alerts into {@code dir/alerts/}. */
    public static FileResultSink.Builder<Alert> fileAlerts(String dir) {
        return FileResultSink.builder(dir, ALERTS_DIR, ScreeningSchemas.alerts());
    }
}
