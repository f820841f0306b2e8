package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.util.Collector;

/**
 * Decides which {@link ScoredEvent}s become {@link Alert}s: the winning label must not be
 * {@link #CLEAR} and its score must be at least the label's threshold (a per-label override, or
 * the default threshold).
 *
 * <pre>{@code
 * AlertPolicy policy = AlertPolicy.builder()
 *         .defaultThreshold(0.6)
 *         .threshold("sanctions", 0.35)   // screen sanctions more aggressively
 *         .build();
 * DataStream<Alert> alerts = scored.flatMap(policy.asFunction()).name("alerts");
 * }</pre>
 *
 * <p>{@link Builder#build()} rejects thresholds outside [0,1], overrides for labels the model does
 * not have, and an override for {@code clear}. Events with a label unknown to the policy (a newer
 * model) use the default threshold.
 *
 * <p>Threading: immutable and serializable; safe to share.
 */
@PublicEvolving
public final class AlertPolicy implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The label meaning "nothing suspicious"; never alerts. */
    public static final String CLEAR = "clear";

    /** Labels of the default compliance model, in output order. */
    public static final List<String> DEFAULT_LABELS =
            List.of(CLEAR, "sanctions", "structuring", "fraud", "market_abuse");

    private final double defaultThreshold;
    private final Map<String, Double> thresholds;
    private final Set<String> labels;

    private AlertPolicy(double defaultThreshold, Map<String, Double> thresholds, Set<String> labels) {
        this.defaultThreshold = defaultThreshold;
        this.thresholds = Collections.unmodifiableMap(new LinkedHashMap<>(thresholds));
        this.labels = Collections.unmodifiableSet(new LinkedHashSet<>(labels));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Default threshold 0.5, no overrides, default labels. */
    public static AlertPolicy defaults() {
        return builder().build();
    }

    public double defaultThreshold() {
        return defaultThreshold;
    }

    /** The threshold that applies to {@code label}. */
    public double thresholdFor(String label) {
        return thresholds.getOrDefault(label, defaultThreshold);
    }

    /** The per-label overrides. */
    public Map<String, Double> overrides() {
        return thresholds;
    }

    /**
     * Whether {@code scored} raises an alert.
     *
     * @throws IllegalStateException if the score is not finite: a NaN would compare false with
     *     every threshold and pass as "no alert"; such a row must never reach the policy
     */
    public boolean shouldAlert(ScoredEvent scored) {
        if (!Double.isFinite(scored.score)) {
            throw new IllegalStateException("score of event " + scored.eventId + " is " + scored.score + " (model "
                    + scored.modelId + "@" + scored.modelVersion + "); a non-finite score must be dead-lettered"
                    + " by the scoring operator, never evaluated as no alert");
        }
        return scored.label != null
                && !CLEAR.equals(scored.label)
                && scored.score >= thresholdFor(scored.label);
    }

    /** An alert for {@code scored} raised at {@code now}, or null when none is due. */
    public Alert evaluate(ScoredEvent scored, long now) {
        return shouldAlert(scored) ? new Alert(scored, thresholdFor(scored.label), now) : null;
    }

    /** {@link #evaluate(ScoredEvent, long)} at the current wall-clock time. */
    public Alert evaluate(ScoredEvent scored) {
        return evaluate(scored, System.currentTimeMillis());
    }

    /** A Flink function emitting the alerts of a stream of scored events. */
    public FlatMapFunction<ScoredEvent, Alert> asFunction() {
        AlertPolicy policy = this;
        return new FlatMapFunction<>() {
            private static final long serialVersionUID = 1L;

            @Override
            public void flatMap(ScoredEvent value, Collector<Alert> out) {
                Alert alert = policy.evaluate(value);
                if (alert != null) {
                    out.collect(alert);
                }
            }
        };
    }

    @Override
    public String toString() {
        return "AlertPolicy{default=" + defaultThreshold + ", overrides=" + thresholds + "}";
    }

    /**
     * Builder of {@link AlertPolicy}. Threading: not thread-safe.
     */
    public static final class Builder {
        private double defaultThreshold = ConnectorOptions.ALERT_THRESHOLD.defaultValue();
        private final Map<String, Double> thresholds = new LinkedHashMap<>();
        private final Set<String> labels = new LinkedHashSet<>(DEFAULT_LABELS);
        private final List<String> errors = new ArrayList<>();

        private Builder() {}

        /**
         * Reads {@link ConnectorOptions#ALERT_THRESHOLD} and
         * {@link ConnectorOptions#ALERT_LABEL_THRESHOLDS}.
         */
        public Builder configure(ReadableConfig config) {
            defaultThreshold(config.get(ConnectorOptions.ALERT_THRESHOLD));
            for (Map.Entry<String, String> e : config.get(ConnectorOptions.ALERT_LABEL_THRESHOLDS).entrySet()) {
                try {
                    threshold(e.getKey().trim(), Double.parseDouble(e.getValue().trim()));
                } catch (NumberFormatException ex) {
                    errors.add("threshold of label '" + e.getKey() + "' is '" + e.getValue()
                            + "', not a number; write e.g. " + ConnectorOptions.ALERT_LABEL_THRESHOLDS.key()
                            + "=fraud:0.7");
                }
            }
            return this;
        }

        public Builder defaultThreshold(double threshold) {
            this.defaultThreshold = threshold;
            return this;
        }

        public Builder threshold(String label, double threshold) {
            thresholds.put(label, threshold);
            return this;
        }

        /** The labels the model can produce (default {@link #DEFAULT_LABELS}). */
        public Builder labels(Collection<String> modelLabels) {
            labels.clear();
            labels.addAll(modelLabels);
            return this;
        }

        public AlertPolicy build() {
            List<String> problems = new ArrayList<>(errors);
            if (!inUnitInterval(defaultThreshold)) {
                problems.add("default threshold " + defaultThreshold + " is outside [0,1]; set "
                        + ConnectorOptions.ALERT_THRESHOLD.key() + " to a probability such as 0.5");
            }
            if (!labels.contains(CLEAR)) {
                problems.add("labels " + labels + " lack '" + CLEAR + "'; the model's labels must include it");
            }
            for (Map.Entry<String, Double> e : thresholds.entrySet()) {
                String label = e.getKey();
                if (CLEAR.equals(label)) {
                    problems.add("a threshold for '" + CLEAR + "' makes no sense: it never alerts; remove it");
                } else if (!labels.contains(label)) {
                    problems.add("unknown label '" + label + "'; known labels are " + labels);
                }
                if (e.getValue() == null || !inUnitInterval(e.getValue())) {
                    problems.add("threshold " + e.getValue() + " of label '" + label + "' is outside [0,1]");
                }
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("Invalid alert policy: " + String.join("; ", problems));
            }
            return new AlertPolicy(defaultThreshold, thresholds, labels);
        }

        private static boolean inUnitInterval(double v) {
            return v >= 0.0 && v <= 1.0; // false for NaN
        }
    }
}
