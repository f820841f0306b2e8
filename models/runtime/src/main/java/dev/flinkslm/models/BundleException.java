package dev.flinkslm.models;

import java.util.Objects;

/**
 * A model bundle could not be resolved, verified, loaded or admitted.
 *
 * <p>Every failure carries a {@link Reason} so that callers (the model-version admission logic,
 * the CLI, audit records) can react to the kind of failure without parsing messages. The message
 * names the offending file or field and says what to do about it.
 */
public class BundleException extends Exception {

    private static final long serialVersionUID = 1L;

    /** The kind of failure. */
    public enum Reason {
        /** The bundle URI is outside every configured model root. */
        URI_NOT_ALLOWED,
        /** The URI scheme has no registered fetcher, or the location cannot be read. */
        UNRESOLVABLE_URI,
        /** The manifest or a file it names does not exist. */
        MISSING_FILE,
        /** A file's SHA-256 differs from the manifest, or the manifest differs from the expected digest. */
        CHECKSUM_MISMATCH,
        /** The manifest is not valid JSON or misses required fields. */
        INVALID_MANIFEST,
        /** The manifest declares a format version this runtime does not read. */
        UNSUPPORTED_MANIFEST_VERSION,
        /** ONNX Runtime cannot read the model file. */
        UNREADABLE_MODEL,
        /** The graph lacks a declared input or output, or its type or shape is wrong. */
        INPUT_OUTPUT_MISMATCH,
        /** The number of labels differs from the width of the probability output. */
        LABEL_COUNT_MISMATCH,
        /** The tokenizer file cannot be loaded. */
        TOKENIZER_FAILED,
        /** The requested execution provider cannot be used and fallback is not allowed. */
        PROVIDER_UNAVAILABLE,
        /** Warm-up or golden examples failed. */
        ADMISSION_FAILED,
        /**
         * The model's output for the warm-up batch or the golden examples is not a probability
         * distribution over the labels (NaN, infinite, outside [0, 1], rows not summing to 1).
         */
        MODEL_OUTPUT_INVALID,
        /** The bundle URI or location string is malformed (host in a file: URI, query, fragment, encoded separators). */
        INVALID_URI,
        /** A size or count limit of {@link BundleLimits} was exceeded. */
        LIMIT_EXCEEDED,
        /** The bundle directory holds something its manifest does not list (or an executable, link or special file). */
        UNEXPECTED_FILE,
        /** A bundle file resolves (through a symbolic link) to a location outside the bundle directory or the model roots. */
        FILE_OUTSIDE_BUNDLE,
        /** The ONNX graph uses a feature the loader refuses, such as weights in external data files. */
        UNSUPPORTED_GRAPH
    }

    private final Reason reason;

    public BundleException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public BundleException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }

    /** The message without the reason in front, to raise the same failure again on another thread. */
    public String detail() {
        return super.getMessage();
    }

    @Override
    public String getMessage() {
        return reason + ": " + super.getMessage();
    }
}
