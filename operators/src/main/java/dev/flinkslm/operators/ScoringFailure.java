package dev.flinkslm.operators;

import org.apache.flink.annotation.PublicEvolving;

/**
 * An element the operator could not score, with the reason, on the dead-letter side output.
 *
 * @param <IN> the element type
 */
@PublicEvolving
public class ScoringFailure<IN> {

    /** Machine-readable reason codes. */
    public static final String TEXT_MISSING = "TEXT_MISSING";

    public static final String TOKENIZATION_FAILED = "TOKENIZATION_FAILED";
    public static final String INFERENCE_FAILED = "INFERENCE_FAILED";
    public static final String INFERENCE_TIMEOUT = "INFERENCE_TIMEOUT";
    public static final String NO_MODEL = "NO_MODEL";
    /** The model answered with a row that is not a probability distribution (NaN, out of range, wrong width). */
    public static final String MODEL_OUTPUT_INVALID = "MODEL_OUTPUT_INVALID";

    /** The element as it arrived. */
    public IN element;
    /** One of the reason codes above. */
    public String reason;
    /** What went wrong (never contains the element's text). */
    public String message;
    /** The model version that was tried, if any ({@code id:version}). */
    public String model;
    /** Inference attempts made. */
    public int attempts;

    public ScoringFailure() {}

    public ScoringFailure(IN element, String reason, String message, String model, int attempts) {
        this.element = element;
        this.reason = reason;
        this.message = message;
        this.model = model;
        this.attempts = attempts;
    }

    @Override
    public String toString() {
        return "ScoringFailure{" + reason + ": " + message + ", model=" + model + ", attempts=" + attempts + "}";
    }
}
