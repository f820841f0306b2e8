package dev.flinkslm.models.compliance.internal;

/**
 * Temperature scaling: the one positive number {@code T} that minimises the negative log-likelihood of
 * {@code softmax(z / T)} on held-out logits, with a standard normal prior on {@code log T} (so that a holdout
 * the head classifies perfectly, whose likelihood only grows as {@code T} shrinks, gives a finite sharpening
 * rather than the search's lower bound). {@code T > 1} softens an over-confident head, {@code T < 1}
 * sharpens an under-confident one; the argmax never changes. Deterministic (golden-section search on
 * {@code log T}). Stateless.
 */
public final class Temperature {

    /** Search range of {@code T}. */
    public static final double MIN = 0.05;

    public static final double MAX = 20;

    private Temperature() {}

    /**
     * Fits {@code T} on {@code logits[i]} with gold label {@code y[i]}.
     *
     * @throws IllegalArgumentException if there are no rows
     */
    public static double fit(double[][] logits, int[] y) {
        if (logits.length == 0 || logits.length != y.length) {
            throw new IllegalArgumentException("temperature needs at least one held-out row with its label");
        }
        double lo = Math.log(MIN);
        double hi = Math.log(MAX);
        double phi = (Math.sqrt(5) - 1) / 2;
        double a = hi - phi * (hi - lo);
        double b = lo + phi * (hi - lo);
        double fa = objective(logits, y, a);
        double fb = objective(logits, y, b);
        for (int it = 0; it < 80; it++) {
            if (fa <= fb) {
                hi = b;
                b = a;
                fb = fa;
                a = hi - phi * (hi - lo);
                fa = objective(logits, y, a);
            } else {
                lo = a;
                a = b;
                fa = fb;
                b = lo + phi * (hi - lo);
                fb = objective(logits, y, b);
            }
        }
        return Math.exp((lo + hi) / 2);
    }

    /** Mean negative log-likelihood plus the prior's share per row, at {@code T = exp(logT)}. */
    private static double objective(double[][] logits, int[] y, double logT) {
        return nll(logits, y, Math.exp(logT)) + logT * logT / (2.0 * logits.length);
    }

    /** Mean negative log-likelihood of the gold labels under {@code softmax(z / t)}. */
    public static double nll(double[][] logits, int[] y, double t) {
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : logits[i]) {
                max = Math.max(max, v / t);
            }
            double z = 0;
            for (double v : logits[i]) {
                z += Math.exp(v / t - max);
            }
            sum += Math.log(z) + max - logits[i][y[i]] / t;
        }
        return sum / logits.length;
    }
}
