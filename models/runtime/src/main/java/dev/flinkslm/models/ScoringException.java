package dev.flinkslm.models;

import java.util.Objects;

/**
 * A batch could not be scored.
 *
 * <p>{@link Kind#INFERENCE_FAILED}: tokenization or ONNX Runtime failed; retrying may help.
 * {@link Kind#OUTPUT_INVALID}: the model answered, but a row of its output is not a probability
 * distribution over the labels (NaN, infinite, outside [0, 1], not summing to 1, wrong width or
 * row count). No prediction of such a batch may be used: there is no default label. The message
 * names the row and what was wrong, never the text.
 */
public class ScoringException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why a batch has no predictions. */
    public enum Kind {
        /** Tokenization or inference failed (a runtime problem; retrying may help). */
        INFERENCE_FAILED,
        /** The model's output failed validation (a model problem; retrying the same input will not help). */
        OUTPUT_INVALID
    }

    private final Kind kind;

    public ScoringException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public ScoringException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /** An {@link Kind#INFERENCE_FAILED} failure. */
    public ScoringException(String message, Throwable cause) {
        this(Kind.INFERENCE_FAILED, message, cause);
    }

    /** An {@link Kind#INFERENCE_FAILED} failure. */
    public ScoringException(String message) {
        this(Kind.INFERENCE_FAILED, message);
    }

    public Kind kind() {
        return kind;
    }
}
