package dev.flinkslm.models;

/** A batch could not be scored (tokenization or inference failed). Retrying may help. */
public class ScoringException extends Exception {

    private static final long serialVersionUID = 1L;

    public ScoringException(String message, Throwable cause) {
        super(message, cause);
    }

    public ScoringException(String message) {
        super(message);
    }
}
