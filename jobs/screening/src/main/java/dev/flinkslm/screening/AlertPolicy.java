package dev.flinkslm.screening;

import dev.flinkslm.models.compliance.ComplianceLabels;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.util.Collector;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides which {@link ScoredEvent}s become {@link Alert}s: an event alerts when a label other than
 * {@link ComplianceLabels#CLEAR} has a probability of at least that label's threshold (a per-label override, or the
 * default threshold); the alert names the most probable such label. An event whose text was too long
 * to be screened whole ({@link ScoredEvent#truncated}) always alerts, for review.
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
     * The label an event alerts on: of the labels other than the model's negative label ({@code clear} for
     * the built-in model) whose probability reached their threshold, the most probable; null when there is
     * none. A label's threshold is its override in {@link ScreeningOptions#ALERT_LABEL_THRESHOLDS}, else a
     * multi-label model's own threshold for it, else the default. Each label is judged on its own
     * probability, so a text scored in several windows (whose aggregated probabilities do not sum to 1)
     * alerts on a finding in any window even if the negative label has the highest aggregate.
     *
     * @throws IllegalStateException when a probability is not finite: a NaN would fail every threshold
     *     and pass as "no alert"; such a row must never reach the policy
     */
    public String alertingLabel(ScoredEvent scored) {
        if (!Double.isFinite(scored.score)) {
            throw new IllegalStateException("score of event " + scored.eventId + " is " + scored.score + " (model "
                    + scored.modelId + "@" + scored.modelVersion + "); a non-finite score must be dead-lettered"
                    + " by the scoring operator, never evaluated as no alert");
        }
        String negative = scored.negativeLabel != null ? scored.negativeLabel : ComplianceLabels.CLEAR;
        String best = null;
        double bestScore = -1;
        if (scored.labels != null && scored.probabilities != null) {
            for (int i = 0; i < Math.min(scored.labels.length, scored.probabilities.length); i++) {
                String label = scored.labels[i];
                double p = scored.probabilities[i];
                if (!Double.isFinite(p)) {
                    throw new IllegalStateException("probability of " + label + " for event " + scored.eventId + " is "
                            + p + "; it must be dead-lettered by the scoring operator");
                }
                if (!negative.equals(label) && p >= thresholdFor(scored, i) && p > bestScore) {
                    best = label;
                    bestScore = p;
                }
            }
        } else if (scored.label != null
                && !negative.equals(scored.label)
                && scored.score >= thresholdFor(scored, scored.label)) {
            best = scored.label;
        }
        return best;
    }

    /** {@link #thresholdFor(ScoredEvent, int)} of a label by name (the default's rules when it is not listed). */
    double thresholdFor(ScoredEvent scored, String label) {
        int i = scored.labels == null
                ? -1
                : java.util.Arrays.asList(scored.labels).indexOf(label);
        return i < 0 ? thresholdFor(label) : thresholdFor(scored, i);
    }

    /** The threshold of label {@code i} of {@code scored}: override, else the model's own, else the default. */
    double thresholdFor(ScoredEvent scored, int i) {
        Double override = thresholds.get(scored.labels[i]);
        if (override != null) {
            return override;
        }
        if (scored.modelThresholds != null
                && i < scored.modelThresholds.length
                && Double.isFinite(scored.modelThresholds[i])) {
            return scored.modelThresholds[i];
        }
        return defaultThreshold;
    }

    /** Whether {@code scored} raises an alert: a label reached its threshold, or the text was truncated. */
    public boolean shouldAlert(ScoredEvent scored) {
        return alertingLabel(scored) != null || scored.truncated;
    }

    /**
     * An alert for {@code scored} raised at {@code now}, or null when none is due. A score alert
     * carries the alerting label and its probability; a text that was not screened whole (truncated)
     * and did not alert on a score is an alert for review ({@link Alert#TRUNCATED}), never a clear.
     */
    public Alert evaluate(ScoredEvent scored, long now) {
        String label = alertingLabel(scored);
        if (label != null) {
            ScoredEvent view = label.equals(scored.label) ? scored : scored.withLabel(label);
            return new Alert(view, Alert.SCORE, thresholdFor(scored, label), now);
        }
        if (scored.truncated) {
            return new Alert(scored, Alert.TRUNCATED, thresholdFor(scored, scored.label), now);
        }
        return null;
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
        private double defaultThreshold = ScreeningOptions.ALERT_THRESHOLD.defaultValue();
        private final Map<String, Double> thresholds = new LinkedHashMap<>();
        private final Set<String> labels = new LinkedHashSet<>(ComplianceLabels.ALL);
        private final List<String> errors = new ArrayList<>();
        private boolean ownLabels;

        private Builder() {}

        /**
         * Reads {@link ScreeningOptions#ALERT_THRESHOLD} and
         * {@link ScreeningOptions#ALERT_LABEL_THRESHOLDS}.
         */
        public Builder configure(ReadableConfig config) {
            defaultThreshold(config.get(ScreeningOptions.ALERT_THRESHOLD));
            List<String> own = config.get(ScreeningOptions.ALERT_LABELS);
            if (!own.isEmpty()) {
                ownLabels(own);
            }
            for (Map.Entry<String, String> e :
                    config.get(ScreeningOptions.ALERT_LABEL_THRESHOLDS).entrySet()) {
                try {
                    threshold(e.getKey().trim(), Double.parseDouble(e.getValue().trim()));
                } catch (NumberFormatException ex) {
                    errors.add("threshold of label '" + e.getKey() + "' is '" + e.getValue()
                            + "', not a number; write e.g. " + ScreeningOptions.ALERT_LABEL_THRESHOLDS.key()
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

        /** The labels the model can produce (default {@link ComplianceLabels#ALL}). */
        public Builder labels(Collection<String> modelLabels) {
            labels.clear();
            labels.addAll(modelLabels);
            return this;
        }

        /**
         * The labels of a model other than the built-in one (its negative label comes with each scored event);
         * per-label thresholds are checked against them.
         */
        public Builder ownLabels(Collection<String> modelLabels) {
            ownLabels = true;
            return labels(modelLabels);
        }

        public AlertPolicy build() {
            List<String> problems = new ArrayList<>(errors);
            if (!inUnitInterval(defaultThreshold)) {
                problems.add("default threshold " + defaultThreshold + " is outside [0,1]; set "
                        + ScreeningOptions.ALERT_THRESHOLD.key() + " to a probability such as 0.5");
            }
            if (!ownLabels && !labels.contains(ComplianceLabels.CLEAR)) {
                problems.add("labels " + labels + " lack '" + ComplianceLabels.CLEAR
                        + "'; the model's labels must include it");
            }
            for (Map.Entry<String, Double> e : thresholds.entrySet()) {
                String label = e.getKey();
                if (!ownLabels && ComplianceLabels.CLEAR.equals(label)) {
                    problems.add("a threshold for '" + ComplianceLabels.CLEAR
                            + "' makes no sense: it never alerts; remove it");
                } else if (!labels.contains(label)) {
                    problems.add("unknown label '" + label + "'; known labels are " + labels
                            + (ownLabels
                                    ? ""
                                    : " (for a model of your own, list its labels in "
                                            + ScreeningOptions.ALERT_LABELS.key() + ")"));
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
