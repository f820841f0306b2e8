package dev.flinkslm.models;

import java.io.Serializable;

/**
 * How a text longer than the model's window is split into overlapping windows.
 *
 * <pre>{@code
 * EncodedInput all = session.encode(text, WindowOptions.defaults());   // up to 16 windows, 32 tokens overlap
 * EncodedInput first = session.encode(text, WindowOptions.single());   // first window only, truncated flag set when cut
 * }</pre>
 *
 * <p>{@code stride} is the number of content tokens two consecutive windows share, so that a phrase
 * cut at a window boundary still appears whole in one window. When more than one window is
 * allowed it must be smaller than the model's content window ({@code maxSequenceLength - 2} for a
 * BERT-style tokenizer); that part is checked when the options are used with a model ({@link
 * ScoringSession#encode(String, WindowOptions)} throws {@link IllegalArgumentException}), and
 * {@link #defaultsFor(int)} gives options that fit. Windows are made by the tokenizer itself
 * (HuggingFace truncation with a stride and overflowing encodings), so each window carries the
 * special tokens its post-processor adds. Immutable; serialisable for operator configuration.
 *
 * @param stride content tokens shared by consecutive windows, {@code >= 0}
 * @param maxWindows most windows scored per text, {@code >= 1}; a text that needs more is marked
 *     {@link EncodedInput#truncated()}
 */
public record WindowOptions(int stride, int maxWindows) implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Default overlap between windows, in tokens. */
    public static final int DEFAULT_STRIDE = 32;

    /** Default most windows per text (with MiniLM's 128-token window: about 1,500 tokens of text). */
    public static final int DEFAULT_MAX_WINDOWS = 16;

    public WindowOptions {
        if (stride < 0) {
            throw new IllegalArgumentException("window stride must be >= 0 tokens, was " + stride);
        }
        if (maxWindows < 1) {
            throw new IllegalArgumentException("maxWindows must be >= 1, was " + maxWindows
                    + "; use WindowOptions.single() to score the first window only");
        }
    }

    /** {@value #DEFAULT_STRIDE} tokens of overlap, at most {@value #DEFAULT_MAX_WINDOWS} windows. */
    public static WindowOptions defaults() {
        return new WindowOptions(DEFAULT_STRIDE, DEFAULT_MAX_WINDOWS);
    }

    /**
     * The defaults adapted to a model: {@link #defaults()} when they fit, else the same number of
     * windows with the stride lowered to half the content window, or {@link #single()} for a model
     * whose window holds no content token besides the special ones.
     */
    public static WindowOptions defaultsFor(int maxSequenceLength) {
        int content = maxSequenceLength - 2;
        if (content < 1) {
            return single();
        }
        return new WindowOptions(Math.min(DEFAULT_STRIDE, content / 2), DEFAULT_MAX_WINDOWS);
    }

    /** The first window only (the pre-window behaviour), with {@link EncodedInput#truncated()} set when the text was cut. */
    public static WindowOptions single() {
        return new WindowOptions(0, 1);
    }

    public WindowOptions withStride(int value) {
        return new WindowOptions(value, maxWindows);
    }

    public WindowOptions withMaxWindows(int value) {
        return new WindowOptions(stride, value);
    }

    /**
     * These options as they apply to a model of window {@code maxSequenceLength} scored in runs of at most {@code
     * maxRows} rows and {@code maxTokens} padded tokens: the number of windows is capped so that one text's windows
     * fit one run (a longer text is marked {@link EncodedInput#truncated()}, never scored beyond the caps), and a
     * stride that does not fit the model's content window is lowered to half of it (so a short-window model still
     * scores long texts instead of failing every one).
     */
    public WindowOptions fittedTo(int maxSequenceLength, int maxRows, long maxTokens) {
        int content = maxSequenceLength - 2;
        int fitting = (int) Math.max(1, Math.min(maxRows, maxTokens / Math.max(1, maxSequenceLength)));
        WindowOptions capped = withMaxWindows(Math.max(1, Math.min(maxWindows, fitting)));
        if (capped.maxWindows() == 1 || capped.stride() < content) {
            return capped;
        }
        return content < 1 ? single() : capped.withStride(content / 2);
    }

    /**
     * Checks the stride against a model's maximum sequence length.
     *
     * @throws IllegalArgumentException when consecutive windows could not advance
     */
    public void requireFits(int maxSequenceLength) {
        if (maxWindows > 1 && stride >= maxSequenceLength - 2) {
            throw new IllegalArgumentException("window stride " + stride + " must be smaller than the model's "
                    + "content window of " + (maxSequenceLength - 2) + " tokens (maxSequenceLength "
                    + maxSequenceLength + " minus 2 special tokens); choose a smaller stride");
        }
    }
}
