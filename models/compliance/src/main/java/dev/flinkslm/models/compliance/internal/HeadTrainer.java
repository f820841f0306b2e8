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
        int n = x.length;
        int dim = x[0].length;
        int k = labels.size();
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
        double[] z = new double[n * dim];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) {
                z[i * dim + d] = (x[i][d] - mu[d]) / sd[d];
            }
        }
        // Lipschitz constant of the mean softmax loss gradient is <= 0.5 * lambda_max(Z^T Z / n) + l2.
        double lmax = largestEigenvalue(z, n, dim);
        double step = 1.0 / (0.5 * lmax + l2);

        // parameters: w[k*dim] and b[k]; Nesterov momentum with the standard t-sequence
        double[] w = new double[k * dim];
        double[] b = new double[k];
        double[] wPrev = w.clone();
        double[] bPrev = b.clone();
        double[] gw = new double[k * dim];
        double[] gb = new double[k];
        double t = 1;
        double[] vw = new double[k * dim];
        double[] vb = new double[k];
        double[] p = new double[k];
        for (int it = 0; it < iterations; it++) {
            double tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
            double mom = (t - 1) / tNext;
            for (int j = 0; j < w.length; j++) {
                vw[j] = w[j] + mom * (w[j] - wPrev[j]);
            }
            for (int c = 0; c < k; c++) {
                vb[c] = b[c] + mom * (b[c] - bPrev[c]);
            }
            java.util.Arrays.fill(gw, 0);
            java.util.Arrays.fill(gb, 0);
            for (int i = 0; i < n; i++) {
                int off = i * dim;
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    double s = vb[c];
                    int wo = c * dim;
                    for (int d = 0; d < dim; d++) {
                        s += vw[wo + d] * z[off + d];
                    }
                    p[c] = s;
                    max = Math.max(max, s);
                }
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    p[c] = Math.exp(p[c] - max);
                    sum += p[c];
                }
                for (int c = 0; c < k; c++) {
                    double g = p[c] / sum - (y[i] == c ? 1 : 0);
                    gb[c] += g;
                    int wo = c * dim;
                    for (int d = 0; d < dim; d++) {
                        gw[wo + d] += g * z[off + d];
                    }
                }
            }
            System.arraycopy(w, 0, wPrev, 0, w.length);
            System.arraycopy(b, 0, bPrev, 0, k);
            for (int j = 0; j < w.length; j++) {
                w[j] = vw[j] - step * (gw[j] / n + l2 * vw[j]);
            }
            for (int c = 0; c < k; c++) {
                b[c] = vb[c] - step * (gb[c] / n);
            }
            t = tNext;
        }
        // fold standardisation: W z + b = (W/sd) x + (b - sum_d W_d mu_d / sd_d)
        float[][] weights = new float[k][dim];
        float[] bias = new float[k];
        for (int c = 0; c < k; c++) {
            double bb = b[c];
            for (int d = 0; d < dim; d++) {
                double wd = w[c * dim + d] / sd[d];
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

    private static double largestEigenvalue(double[] z, int n, int dim) {
        double[] v = new double[dim];
        java.util.Arrays.fill(v, 1.0 / Math.sqrt(dim));
        double lambda = 0;
        double[] u = new double[dim];
        for (int it = 0; it < 30; it++) {
            java.util.Arrays.fill(u, 0);
            for (int i = 0; i < n; i++) {
                int off = i * dim;
                double s = 0;
                for (int d = 0; d < dim; d++) {
                    s += z[off + d] * v[d];
                }
                for (int d = 0; d < dim; d++) {
                    u[d] += s * z[off + d];
                }
            }
            double norm = 0;
            for (int d = 0; d < dim; d++) {
                u[d] /= n;
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
