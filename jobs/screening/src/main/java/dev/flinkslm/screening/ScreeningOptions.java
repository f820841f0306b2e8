package dev.flinkslm.screening;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.util.List;
import java.util.Map;

/**
 * Typed options of the screening domain: the topics of its results, the event parser's nesting
 * limit and the alert policy. The generic IO options (servers, input, commands, dead-letter and
 * audit topics, delivery, record size limits) are in {@code dev.flinkslm.connectors.ConnectorOptions};
 * the scoring options in {@code dev.flinkslm.operators.ScoringOptions}. One {@code Configuration}
 * can hold all of them:
 *
 * <pre>{@code
 * Configuration conf = new Configuration();
 * conf.set(ScreeningOptions.ALERT_THRESHOLD, 0.7);
 * conf.set(ScreeningOptions.SCORED_TOPIC, "payments-scored");
 * }</pre>
 *
 * <p>Threading: constants only.
 */
@PublicEvolving
public final class ScreeningOptions {

    private ScreeningOptions() {}

    // ---- Result topics -------------------------------------------------------------------------------

    public static final ConfigOption<String> SCORED_TOPIC = ConfigOptions.key("kafka.topic.scored")
            .stringType()
            .defaultValue("slm-scored")
            .withDescription("Topic for every scored event.");

    public static final ConfigOption<String> ALERTS_TOPIC = ConfigOptions.key("kafka.topic.alerts")
            .stringType()
            .defaultValue("slm-alerts")
            .withDescription("Topic for alerts (scored events above their label's threshold).");

    public static final ConfigOption<String> SHADOW_TOPIC = ConfigOptions.key("kafka.topic.shadow")
            .stringType()
            .defaultValue("slm-shadow")
            .withDescription("Topic for shadow comparisons (a SHADOW version's label and score next to the"
                    + " served one, per event, while a shadow runs).");

    // ---- Parsing ---------------------------------------------------------------------------------------

    public static final ConfigOption<Integer> MAX_NESTING_DEPTH = ConfigOptions.key("events.max-nesting-depth")
            .intType()
            .defaultValue(32)
            .withDescription("Deeper JSON nesting is dead-lettered (TOO_DEEPLY_NESTED) by the tokenizer.");

    // ---- Alerts ----------------------------------------------------------------------------------------

    public static final ConfigOption<Double> ALERT_THRESHOLD = ConfigOptions.key("alerts.threshold")
            .doubleType()
            .defaultValue(0.5)
            .withDescription("Default minimum score in [0,1] of a non-clear label to raise an alert.");

    public static final ConfigOption<Map<String, String>> ALERT_LABEL_THRESHOLDS = ConfigOptions.key(
                    "alerts.label-thresholds")
            .mapType()
            .defaultValue(Map.of())
            .withDescription("Per-label thresholds overriding alerts.threshold (and a multi-label model's own"
                    + " thresholds), e.g. 'sanctions:0.3,fraud:0.7'.");

    public static final ConfigOption<List<String>> ALERT_LABELS = ConfigOptions.key("alerts.labels")
            .stringType()
            .asList()
            .defaultValues()
            .withDescription("The labels of your own model (a model other than the built-in one), against which"
                    + " alerts.label-thresholds is checked; empty: the built-in labels"
                    + " clear,sanctions,structuring,fraud,market_abuse.");
}
