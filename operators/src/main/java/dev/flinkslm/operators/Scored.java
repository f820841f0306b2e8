package dev.flinkslm.operators;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A scored element: the original element, the model's answer and which model version gave it.
 *
 * <p>A Flink POJO (public fields, no-arg constructor) with explicit type information, so it is
 * serialised without Kryo.
 *
 * @param <IN> the scored element type
 */
@PublicEvolving
public class Scored<IN> {

    /** The element as it arrived. */
    public IN element;
    /** The top label. */
    public String label;
    /** Index of the top label in {@link #labels}. */
    public int labelIndex;
    /** Probability of the top label. */
    public float score;
    /**
     * Probability of every label, in the order of {@link #labels}. For a text of several windows,
     * each label's maximum over the windows (the manifest's negative label: its minimum), which no
     * longer sums to 1.
     */
    public float[] probabilities;
    /** The model's labels. */
    public String[] labels;
    /** The model's label meaning "nothing found" (its manifest's {@code negativeLabel}), or null. */
    public String negativeLabel;
    /**
     * A multi-label model's threshold per label, parallel to {@link #labels} (NaN for the negative label); null
     * for a model whose labels exclude each other.
     */
    public float[] thresholds;
    /** Model id of the version that scored the element. */
    public String modelId;
    /** Version that scored the element. */
    public String modelVersion;
    /** Role of that version for the element's key: {@code active}, {@code canary} or {@code shadow}. */
    public String variant;
    /**
     * Epoch of the rule log of live model versions that routed the element (0 without a control
     * stream): with the audit trail it says which commands were in force.
     */
    public long ruleEpoch;
    /** Windows of the text that were scored: more than 1 for a text longer than the model's window. */
    public int windows;
    /**
     * Whether the text had more windows than {@code slm.text.max-windows} and its end was not scored.
     * A truncated result is never silent: it is flagged here and counted in {@code truncatedRecords}.
     */
    public boolean truncated;
    /** Time from arrival at the operator until its batch was submitted, in microseconds. */
    public long queueWaitMicros;
    /** Duration of the batch's inference run, in microseconds. */
    public long inferenceMicros;
    /** Number of elements in the batch. */
    public int batchSize;

    public Scored() {}

    /** Label to probability, in label order. */
    public Map<String, Float> scores() {
        Map<String, Float> map = new LinkedHashMap<>();
        for (int i = 0; i < labels.length; i++) {
            map.put(labels[i], probabilities[i]);
        }
        return map;
    }

    @Override
    public String toString() {
        return "Scored{" + label + "=" + score + ", model=" + modelId + ":" + modelVersion + "/" + variant
                + ", probabilities=" + Arrays.toString(probabilities) + "}";
    }
}
