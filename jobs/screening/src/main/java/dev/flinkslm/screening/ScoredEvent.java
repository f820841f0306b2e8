package dev.flinkslm.screening;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The result of scoring one {@link FinancialEvent}: the winning label, its probability, every
 * label's probability in model output order, which model produced it, and timings.
 *
 * <p>JSON form ({@link ScreeningSchemas#scoredEvents()}):
 *
 * <pre>{@code
 * {"eventId":"e-1","accountId":"ACC-104","eventTime":"2026-03-01T09:30:00Z","kind":"PAYMENT",
 *  "label":"structuring","score":0.81,
 *  "labelScores":{"clear":0.1,"sanctions":0.02,"structuring":0.81,"fraud":0.05,"market_abuse":0.02},
 *  "modelId":"compliance-minilm","modelVersion":"3","variant":"active","ruleEpoch":4,
 *  "queueWaitMs":4,"inferenceMs":11,"scoredAt":"2026-03-01T09:30:00.020Z","windows":1,"truncated":false}
 * }</pre>
 *
 * <pre>{@code
 * ScoredEvent s = ScoredEvent.of(event, new String[] {"clear", "fraud"}, new double[] {0.2, 0.8}, 1,
 *         "compliance-minilm", "3", "active", 1, false, 4, 11, System.currentTimeMillis());
 * }</pre>
 *
 * <p>Label scores are stored as two parallel arrays ({@link #labels}, {@link #probabilities}) so
 * that Flink serializes them with built-in array serializers and their order survives; use
 * {@link #labelScores()} for a map view. A Flink POJO.
 *
 * <p>Threading: a mutable value object, confined to one thread at a time.
 */
@PublicEvolving
public class ScoredEvent implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Variant name of results of the active model version. */
    public static final String VARIANT_ACTIVE = "active";
    /** Variant name of results of a canary model version. */
    public static final String VARIANT_CANARY = "canary";

    public String eventId;
    public String accountId;
    /** Epoch milliseconds. */
    public long eventTime;
    /** Upper-case kind name, e.g. PAYMENT. */
    public String kind;
    /** The model's answer (chosen by the scoring operator; for a windowed text, by the window rule). */
    public String label;
    /** Probability of {@link #label}. */
    public double score;
    /** Label names in model output order. */
    public String[] labels;
    /** Probabilities, parallel to {@link #labels}. */
    public double[] probabilities;
    /**
     * The scoring model's label meaning "nothing found" (null: {@code clear}, the built-in model's). Not in
     * the JSON layout.
     */
    public String negativeLabel;
    /**
     * A multi-label model's own threshold per label, parallel to {@link #labels} (NaN for the negative label),
     * or null. Not in the JSON layout.
     */
    public double[] modelThresholds;

    public String modelId;
    public String modelVersion;
    /** e.g. {@link #VARIANT_ACTIVE} or {@link #VARIANT_CANARY}. */
    public String variant;
    /**
     * Epoch of the rules of live model versions that routed the event: the number of model commands
     * accepted before it was routed (0 for a job with one fixed model). Together with
     * {@link #modelVersion} it says which command put the version in place.
     */
    public long ruleEpoch;
    /** Time the event waited for a batch, ms. */
    public long queueWaitMs;
    /** Time of the model run of the event's batch, ms. */
    public long inferenceMs;
    /** Epoch milliseconds. */
    public long scoredAt;
    /** Windows of the text that were scored (1 for a text within the model's window). */
    public int windows = 1;
    /**
     * Whether the text was longer than the windows scored ({@code slm.text.max-windows}): the event was
     * not screened whole, and {@link AlertPolicy} raises an alert for review whatever its scores.
     */
    public boolean truncated;

    public ScoredEvent() {}

    /**
     * Builds a result for {@code event} from the scoring operator's answer: {@link #label} and
     * {@link #score} are those of {@code labelIndex}, the label the operator chose (the arg-max is
     * computed once, by the model runtime; for a text scored in several windows the aggregated
     * probabilities need not sum to 1).
     *
     * <p>Every probability must be a finite number in [0, 1]. The scoring operator validates model
     * output and dead-letters bad rows, so a violation here is a bug and fails loudly: a broken
     * model must never turn an alert into a clear.
     *
     * @throws IllegalArgumentException if the arrays are empty or of different lengths, a label is
     *     null, {@code labelIndex} is out of range, or a probability is not a finite number in [0, 1]
     */
    public static ScoredEvent of(
            FinancialEvent event,
            String[] labels,
            double[] probabilities,
            int labelIndex,
            String modelId,
            String modelVersion,
            String variant,
            int windows,
            boolean truncated,
            long queueWaitMs,
            long inferenceMs,
            long scoredAt) {
        if (labels == null || probabilities == null || labels.length == 0 || labels.length != probabilities.length) {
            throw new IllegalArgumentException("labels and probabilities must be non-empty and of equal length, got "
                    + (labels == null ? "null" : labels.length) + " labels and "
                    + (probabilities == null ? "null" : probabilities.length) + " probabilities");
        }
        for (int i = 0; i < probabilities.length; i++) {
            double p = probabilities[i];
            if (!(p >= 0.0 && p <= 1.0)) { // also false for NaN
                throw new IllegalArgumentException("probability of label " + labels[i] + " is " + p + " for event "
                        + event.eventId + " (model " + modelId + "@" + modelVersion + "); probabilities must be finite"
                        + " and in [0,1], the scoring operator should have dead-lettered this row");
            }
            if (labels[i] == null) {
                throw new IllegalArgumentException(
                        "label " + i + " is null (model " + modelId + "@" + modelVersion + ")");
            }
        }
        ScoredEvent s = new ScoredEvent();
        s.eventId = event.eventId;
        s.accountId = event.accountId;
        s.eventTime = event.eventTime;
        s.kind = event.kindName != null ? event.kindName : (event.kind == null ? null : event.kind.name());
        s.labels = labels.clone();
        s.probabilities = probabilities.clone();
        if (labelIndex < 0 || labelIndex >= labels.length) {
            throw new IllegalArgumentException("label index " + labelIndex + " is outside the " + labels.length
                    + " labels (model " + modelId + "@" + modelVersion + ")");
        }
        s.label = labels[labelIndex];
        s.score = probabilities[labelIndex];
        s.windows = Math.max(1, windows);
        s.truncated = truncated;
        s.modelId = modelId;
        s.modelVersion = modelVersion;
        s.variant = variant;
        s.queueWaitMs = queueWaitMs;
        s.inferenceMs = inferenceMs;
        s.scoredAt = scoredAt;
        return s;
    }

    /** A copy whose {@link #label} and {@link #score} are those of {@code other} (one of the labels). */
    public ScoredEvent withLabel(String other) {
        int index = java.util.Arrays.asList(labels).indexOf(other);
        if (index < 0) {
            throw new IllegalArgumentException(
                    "label " + other + " is not one of " + java.util.Arrays.toString(labels));
        }
        ScoredEvent copy = new ScoredEvent();
        copy.eventId = eventId;
        copy.accountId = accountId;
        copy.eventTime = eventTime;
        copy.kind = kind;
        copy.labels = labels.clone();
        copy.probabilities = probabilities.clone();
        copy.label = other;
        copy.score = probabilities[index];
        copy.modelId = modelId;
        copy.modelVersion = modelVersion;
        copy.variant = variant;
        copy.ruleEpoch = ruleEpoch;
        copy.negativeLabel = negativeLabel;
        copy.modelThresholds = modelThresholds == null ? null : modelThresholds.clone();
        copy.queueWaitMs = queueWaitMs;
        copy.inferenceMs = inferenceMs;
        copy.scoredAt = scoredAt;
        copy.windows = windows;
        copy.truncated = truncated;
        return copy;
    }

    /** Label to probability in model output order (a fresh copy). */
    public Map<String, Double> labelScores() {
        Map<String, Double> map = new LinkedHashMap<>();
        if (labels != null && probabilities != null) {
            for (int i = 0; i < Math.min(labels.length, probabilities.length); i++) {
                map.put(labels[i], probabilities[i]);
            }
        }
        return map;
    }

    /** Probability of {@code label}, or NaN if the model has no such label. */
    public double probabilityOf(String label) {
        if (labels != null) {
            for (int i = 0; i < labels.length; i++) {
                if (labels[i].equals(label)) {
                    return probabilities[i];
                }
            }
        }
        return Double.NaN;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ScoredEvent)) {
            return false;
        }
        ScoredEvent that = (ScoredEvent) o;
        return eventTime == that.eventTime
                && Double.compare(score, that.score) == 0
                && queueWaitMs == that.queueWaitMs
                && inferenceMs == that.inferenceMs
                && scoredAt == that.scoredAt
                && Objects.equals(eventId, that.eventId)
                && Objects.equals(accountId, that.accountId)
                && Objects.equals(kind, that.kind)
                && Objects.equals(label, that.label)
                && Arrays.equals(labels, that.labels)
                && Arrays.equals(probabilities, that.probabilities)
                && Objects.equals(modelId, that.modelId)
                && Objects.equals(modelVersion, that.modelVersion)
                && Objects.equals(variant, that.variant)
                && ruleEpoch == that.ruleEpoch
                && windows == that.windows
                && truncated == that.truncated;
    }

    @Override
    public int hashCode() {
        return Objects.hash(eventId, modelId, modelVersion, label);
    }

    @Override
    public String toString() {
        return "ScoredEvent{eventId=" + eventId + ", label=" + label + ", score=" + score + ", model=" + modelId + "@"
                + modelVersion + " (" + variant + ")}";
    }
}
