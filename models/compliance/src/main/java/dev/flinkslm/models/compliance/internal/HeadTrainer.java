package dev.flinkslm.models.compliance.internal;

import java.util.List;
import java.util.Map;

/**
 * Trains a {@link SoftmaxHead} (multinomial logistic regression with L2) on frozen sentence embeddings.
 *
 * <p>Deterministic: full-batch Nesterov gradient descent with a fixed iteration count, a step size derived
 * from a fixed-start power iteration, and sequential double-precision sums; same inputs give bit-identical
 * weights. Features are standardised per dimension during training (mean-pooled MiniLM embeddings share a
 * large common component, which makes the raw problem badly conditioned); the standardisation is folded
 * back into the weights so the head applies to the raw normalised embedding. Stateless.
 */
public final class HeadTrainer {

    /** Iterations of accelerated gradient descent; the loss is flat well before this on ~5k examples. */
    public static final int DEFAULT_ITERATIONS = 400;

    /** Rows whose logits are computed together (see {@link #logitsOfBlock}). */
    private static final int BLOCK = 4;

    private HeadTrainer() {}

    /**
     * Fits the head.
     *
     * @param x rows of L2-normalised embeddings
     * @param y label index per row
     * @param labels label names
     * @param l2 L2 penalty on the standardised-space weights (mean loss + l2/2 * |W|^2)
     */
    public static SoftmaxHead train(float[][] x, int[] y, List<String> labels, double l2, int iterations) {
        return train(x, y, null, labels, l2, iterations);
    }

    /**
     * Fits the head with a weight per row in the loss ({@code sum_i w_i * loss_i / sum_i w_i + l2/2 * |W|^2}),
     * for example {@link #balancedWeights} so that a rare label counts as much as a common one.
     *
     * @param rowWeights positive weight per row, or null for equal weights
     */
    public static SoftmaxHead train(
            float[][] x, int[] y, double[] rowWeights, List<String> labels, double l2, int iterations) {
        int n = x.length;
        double[] rw = new double[n];
        double totalWeight = 0;
        for (int i = 0; i < n; i++) {
            rw[i] = rowWeights == null ? 1 : rowWeights[i];
            if (!(rw[i] > 0) || !Double.isFinite(rw[i])) {
                throw new IllegalArgumentException("row weight " + i + " is " + rw[i] + "; weights must be > 0");
            }
            totalWeight += rw[i];
        }
        int dim = x[0].length;
        int k = labels.size();
        double[][] standard = standardisation(x);
        double[] mu = standard[0];
        double[] sd = standard[1];
        // one array per row and per class (not one flat array): element-wise loops over two arrays at the same
        // index are what the JIT compiles to SIMD instructions
        double[][] z = new double[n][dim];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) {
                z[i][d] = (x[i][d] - mu[d]) / sd[d];
            }
        }
        // Lipschitz constant of the weighted mean softmax loss gradient is <= 0.5 * lambda_max(Z^T W Z / sum w) + l2.
        double lmax = largestEigenvalue(z, rw, totalWeight, dim);
        double step = 1.0 / (0.5 * lmax + l2);

        // parameters: w[k][dim] and b[k]; Nesterov momentum with the standard t-sequence
        double[][] w = new double[k][dim];
        double[] b = new double[k];
        double[][] wPrev = new double[k][dim];
        double[] bPrev = b.clone();
        double[][] gw = new double[k][dim];
        double[] gb = new double[k];
        double t = 1;
        double[][] vw = new double[k][dim];
        double[] vb = new double[k];
        double[] s = new double[BLOCK * k];
        for (int it = 0; it < iterations; it++) {
            if (Thread.currentThread().isInterrupted()) {
                throw new java.util.concurrent.CancellationException("head training interrupted");
            }
            double tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
            double mom = (t - 1) / tNext;
            for (int c = 0; c < k; c++) {
                for (int d = 0; d < dim; d++) {
                    vw[c][d] = w[c][d] + mom * (w[c][d] - wPrev[c][d]);
                }
                vb[c] = b[c] + mom * (b[c] - bPrev[c]);
            }
            for (int c = 0; c < k; c++) {
                java.util.Arrays.fill(gw[c], 0);
            }
            java.util.Arrays.fill(gb, 0);
            // rows in order; logits of BLOCK rows at a time (see logitsOfBlock), each row's gradient added in turn
            int i = 0;
            for (; i + BLOCK <= n; i += BLOCK) {
                logitsOfBlock(z, i, vw, vb, s);
                for (int r = 0; r < BLOCK; r++) {
                    addGradient(z[i + r], y[i + r], rw[i + r], s, r * k, k, gw, gb);
                }
            }
            for (; i < n; i++) {
                for (int c = 0; c < k; c++) {
                    double sc = vb[c];
                    double[] wc = vw[c];
                    double[] zi = z[i];
                    for (int d = 0; d < dim; d++) {
                        sc += wc[d] * zi[d];
                    }
                    s[c] = sc;
                }
                addGradient(z[i], y[i], rw[i], s, 0, k, gw, gb);
            }
            for (int c = 0; c < k; c++) {
                System.arraycopy(w[c], 0, wPrev[c], 0, dim);
            }
            System.arraycopy(b, 0, bPrev, 0, k);
            for (int c = 0; c < k; c++) {
                for (int d = 0; d < dim; d++) {
                    w[c][d] = vw[c][d] - step * (gw[c][d] / totalWeight + l2 * vw[c][d]);
                }
            }
            for (int c = 0; c < k; c++) {
                b[c] = vb[c] - step * (gb[c] / totalWeight);
            }
            t = tNext;
        }
        // fold standardisation: W z + b = (W/sd) x + (b - sum_d W_d mu_d / sd_d)
        float[][] weights = new float[k][dim];
        float[] bias = new float[k];
        for (int c = 0; c < k; c++) {
            double bb = b[c];
            for (int d = 0; d < dim; d++) {
                double wd = w[c][d] / sd[d];
                weights[c][d] = (float) wd;
                bb -= wd * mu[d];
            }
            bias[c] = (float) bb;
        }
        return new SoftmaxHead(
                labels,
                weights,
                bias,
                Map.of("l2", Double.toString(l2), "iterations", Integer.toString(iterations)),
                List.of());
    }

    /**
     * Logits {@code vb[c] + sum_d vw[c][d] * z[i][d]} of the {@value #BLOCK} rows from {@code i0} into
     * {@code s[r * k + c]}. Each logit is one sequential sum (d ascending), exactly as row by row; the rows are
     * interleaved only so that the CPU has independent sums to overlap (a single double-precision sum is bound by
     * the latency of its additions).
     */
    private static void logitsOfBlock(double[][] z, int i0, double[][] vw, double[] vb, double[] s) {
        int k = vb.length;
        double[] z0 = z[i0];
        double[] z1 = z[i0 + 1];
        double[] z2 = z[i0 + 2];
        double[] z3 = z[i0 + 3];
        for (int c = 0; c < k; c++) {
            double[] wc = vw[c];
            double s0 = vb[c];
            double s1 = vb[c];
            double s2 = vb[c];
            double s3 = vb[c];
            for (int d = 0; d < wc.length; d++) {
                double wd = wc[d];
                s0 += wd * z0[d];
                s1 += wd * z1[d];
                s2 += wd * z2[d];
                s3 += wd * z3[d];
            }
            s[c] = s0;
            s[k + c] = s1;
            s[2 * k + c] = s2;
            s[3 * k + c] = s3;
        }
    }

    /**
     * Per dimension, the mean ({@code [0]}) and the standard deviation plus 1e-6 ({@code [1]}) of the rows,
     * in double with sequential sums (the same rows give bit-identical results).
     */
    static double[][] standardisation(float[][] x) {
        int n = x.length;
        int dim = x[0].length;
        double[] mu = new double[dim];
        double[] sd = new double[dim];
        for (float[] row : x) {
            for (int d = 0; d < dim; d++) {
                mu[d] += row[d];
            }
        }
        for (int d = 0; d < dim; d++) {
            mu[d] /= n;
        }
        for (float[] row : x) {
            for (int d = 0; d < dim; d++) {
                double v = row[d] - mu[d];
                sd[d] += v * v;
            }
        }
        for (int d = 0; d < dim; d++) {
            sd[d] = Math.sqrt(sd[d] / n) + 1e-6;
        }
        return new double[][] {mu, sd};
    }

    /**
     * Weights {@code n / (k * n_c)} per row of label {@code c}: every label present carries the same total weight,
     * and the mean weight is 1 (labels absent from {@code y} get none).
     */
    public static double[] balancedWeights(int[] y, int k) {
        int[] count = new int[k];
        for (int label : y) {
            count[label]++;
        }
        int present = 0;
        for (int c : count) {
            present += c > 0 ? 1 : 0;
        }
        double[] w = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            w[i] = (double) y.length / (present * (double) count[y[i]]);
        }
        return w;
    }

    /**
     * Adds the gradient of the row's weighted softmax loss term to {@code (gw, gb)}, given the row's logits
     * {@code s[off .. off + k)} (overwritten).
     */
    private static void addGradient(
            double[] zi, int yi, double weight, double[] s, int off, int k, double[][] gw, double[] gb) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < k; c++) {
            max = Math.max(max, s[off + c]);
        }
        double sum = 0;
        for (int c = 0; c < k; c++) {
            s[off + c] = Math.exp(s[off + c] - max);
            sum += s[off + c];
        }
        for (int c = 0; c < k; c++) {
            double g = weight * (s[off + c] / sum - (yi == c ? 1 : 0));
            gb[c] += g;
            double[] gc = gw[c];
            for (int d = 0; d < gc.length; d++) {
                gc[d] += g * zi[d];
            }
        }
    }

    private static double largestEigenvalue(double[][] z, double[] rw, double totalWeight, int dim) {
        int n = z.length;
        double[] v = new double[dim];
        java.util.Arrays.fill(v, 1.0 / Math.sqrt(dim));
        double lambda = 0;
        double[] u = new double[dim];
        for (int it = 0; it < 30; it++) {
            java.util.Arrays.fill(u, 0);
            for (int i = 0; i < n; i++) {
                double[] zi = z[i];
                double s = 0;
                for (int d = 0; d < dim; d++) {
                    s += zi[d] * v[d];
                }
                s *= rw[i];
                for (int d = 0; d < dim; d++) {
                    u[d] += s * zi[d];
                }
            }
            double norm = 0;
            for (int d = 0; d < dim; d++) {
                u[d] /= totalWeight;
                norm += u[d] * u[d];
            }
            norm = Math.sqrt(norm);
            lambda = norm;
            for (int d = 0; d < dim; d++) {
                v[d] = u[d] / norm;
            }
        }
        // power iteration under-estimates slightly before convergence; a margin keeps the step stable
        return lambda * 1.1;
    }
}
