package dev.flinkslm.models;

import java.util.Locale;

/**
 * The check every output row passes before a prediction is made from it: finite, each value a
 * probability, the row summing to 1 (per-label scores of a multi-label model: without the sum). Used for every scored batch, the warm-up batch and the
 * golden examples alike. Stateless.
 */
final class OutputCheck {

    /** How far a value may lie outside [0, 1] (float rounding of a Softmax). */
    static final float VALUE_TOLERANCE = 1e-4f;

    /** How far a row's sum may differ from 1. */
    static final float SUM_TOLERANCE = 1e-3f;

    private OutputCheck() {}

    /** What is wrong with the row, or null when it is a probability distribution. */
    static String problem(float[] row) {
        String problem = scoreProblem(row);
        if (problem != null) {
            return problem;
        }
        double sum = 0;
        for (float v : row) {
            sum += v;
        }
        if (Math.abs(sum - 1.0) > SUM_TOLERANCE) {
            return "the row sums to " + format(sum) + ", not 1";
        }
        return null;
    }

    /**
     * What is wrong with a row of per-label scores (a multi-label row, which need not sum to 1), or null when
     * every value is a probability.
     */
    static String scoreProblem(float[] row) {
        for (int c = 0; c < row.length; c++) {
            float v = row[c];
            if (Float.isNaN(v)) {
                return "column " + c + " is NaN";
            }
            if (Float.isInfinite(v)) {
                return "column " + c + " is " + (v > 0 ? "+" : "-") + "infinity";
            }
            if (v < -VALUE_TOLERANCE) {
                return "column " + c + " is negative (" + format(v) + ")";
            }
            if (v > 1f + VALUE_TOLERANCE) {
                return "column " + c + " is greater than 1 (" + format(v) + ")";
            }
        }
        return null;
    }

    /**
     * Clamps a row that passed {@link #problem} into [0, 1]: values within the tolerance outside it
     * (float rounding) become 0 or 1, so every probability handed on is a true probability and no
     * consumer has to repeat the tolerance.
     */
    static void clamp(float[] row) {
        for (int c = 0; c < row.length; c++) {
            row[c] = Math.max(0f, Math.min(1f, row[c]));
        }
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }
}
