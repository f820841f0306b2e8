package dev.flinkslm.models;

import java.util.List;
import java.util.Objects;

/**
 * One text tokenized for scoring: one or more overlapping windows, each at most the model's
 * maximum sequence length with its own special tokens.
 *
 * <p>A text that fits the model's window has exactly one window. A longer text is split into
 * windows that overlap by {@link WindowOptions#stride()} content tokens; every window is scored
 * and the window predictions are aggregated with {@link ScoringSession#combine}. When a text needs
 * more windows than {@link WindowOptions#maxWindows()} allows, only the first windows are kept and
 * {@link #truncated()} is true: the rest of the text was not screened and callers must say so (for
 * example route the event to review) rather than treat it as clear.
 *
 * <pre>{@code
 * EncodedInput input = session.encode(text, WindowOptions.defaults());
 * List<Prediction> perWindow = session.score(input.windows());
 * Prediction whole = session.combine(perWindow);
 * }</pre>
 *
 * <p>Immutable apart from the token arrays inside the windows, which must not be modified.
 *
 * @param windows the windows in text order; never empty
 * @param truncated whether the text needed more windows than allowed and its tail was not scored
 */
public record EncodedInput(List<EncodedText> windows, boolean truncated) {

    public EncodedInput {
        Objects.requireNonNull(windows, "windows");
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("an encoded input has at least one window");
        }
        windows = List.copyOf(windows);
    }

    /** A text that fits in one window and was not cut. */
    public static EncodedInput of(EncodedText window) {
        return new EncodedInput(List.of(window), false);
    }

    /** Number of windows. */
    public int windowCount() {
        return windows.size();
    }

    /** Length in tokens of the longest window (special tokens included). */
    public int maxWindowLength() {
        int max = 0;
        for (EncodedText w : windows) {
            max = Math.max(max, w.length());
        }
        return max;
    }

    /** Tokens this input occupies when its windows are padded to its longest: windowCount * maxWindowLength. */
    public int paddedTokens() {
        return windowCount() * maxWindowLength();
    }

    /** The window at {@code i}, in text order. */
    public EncodedText window(int i) {
        return windows.get(i);
    }
}
