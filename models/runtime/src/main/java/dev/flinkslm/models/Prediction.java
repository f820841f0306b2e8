package dev.flinkslm.models;

/**
 * The model's answer for one text.
 *
 * @param labelIndex index of the top label in the manifest's label order
 * @param label the top label
 * @param score the top label's probability
 * @param probabilities the probability of every label, in manifest order (for a multi-label model, each label's
 *     own score: they need not sum to 1)
 */
public record Prediction(int labelIndex, String label, float score, float[] probabilities) {

    /**
     * The prediction for a probability vector: its argmax, the negative label losing ties. The one rule by which
     * the session, and any tool that recomputes probabilities, picks the top label.
     *
     * @param negativeIndex index of the manifest's negative label, or -1
     */
    public static Prediction of(float[] probabilities, java.util.List<String> labels, int negativeIndex) {
        return of(probabilities, labels, negativeIndex, null);
    }

    /**
     * The prediction for a row of scores. Exclusive labels ({@code thresholds} null): {@link #of(float[], java.util.List,
     * int)}. Multi-label: the highest-scoring label whose score reaches its threshold (the lower index wins ties),
     * or the negative label when none does.
     *
     * @param thresholds per-label thresholds in label order (the negative label's is ignored), or null
     */
    public static Prediction of(
            float[] probabilities, java.util.List<String> labels, int negativeIndex, float[] thresholds) {
        if (thresholds != null) {
            if (negativeIndex < 0 || negativeIndex >= probabilities.length) {
                throw new IllegalArgumentException(
                        "multi-label scores need the negative label (the answer when no label reaches its threshold),"
                                + " got index " + negativeIndex);
            }
            int found = negativeIndex;
            for (int c = 0; c < probabilities.length; c++) {
                if (c != negativeIndex
                        && probabilities[c] >= thresholds[c]
                        && (found == negativeIndex || probabilities[c] > probabilities[found])) {
                    found = c;
                }
            }
            return new Prediction(found, labels.get(found), probabilities[found], probabilities);
        }
        int best = -1;
        for (int c = 0; c < probabilities.length; c++) {
            if (best < 0
                    || probabilities[c] > probabilities[best]
                    || probabilities[c] == probabilities[best] && best == negativeIndex) {
                best = c;
            }
        }
        return new Prediction(best, labels.get(best), probabilities[best], probabilities);
    }
}
