package dev.flinkslm.models;

/**
 * The model's answer for one text.
 *
 * @param labelIndex index of the top label in the manifest's label order
 * @param label the top label
 * @param score the top label's probability
 * @param probabilities the probability of every label, in manifest order
 */
public record Prediction(int labelIndex, String label, float score, float[] probabilities) {

    /**
     * The prediction for a probability vector: its argmax, the negative label losing ties. The one rule by which
     * the session, and any tool that recomputes probabilities, picks the top label.
     *
     * @param negativeIndex index of the manifest's negative label, or -1
     */
    public static Prediction of(float[] probabilities, java.util.List<String> labels, int negativeIndex) {
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
