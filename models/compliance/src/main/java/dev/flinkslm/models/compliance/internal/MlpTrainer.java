package dev.flinkslm.models.compliance.internal;

import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Trains a {@link SoftmaxHead} with one hidden ReLU layer ({@code p = softmax(W2 relu(W1 x + b1) + b2)}) on
 * frozen sentence embeddings: mini-batch AdamW with a cosine learning-rate schedule, a weight per row in the loss
 * (for example {@link HeadTrainer#balancedWeights}).
 *
 * <p>Inputs are standardised per dimension during training and the standardisation is folded into
 * {@code W1, b1} afterwards, so the head applies to the raw normalised embedding like the fused graph does.
 * Deterministic: the initial weights and the order of the rows in every epoch come from one {@link Random}
 * seeded by {@link Config#seed}, and every sum runs sequentially in a fixed order, so the same inputs give
 * bit-identical weights. Stateless; one call uses one thread.
 */
public final class MlpTrainer {

    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPS = 1e-8;

    private MlpTrainer() {}

    /**
     * Training settings.
     *
     * @param hidden hidden ReLU units
     * @param weightDecay decoupled weight decay of the weights (not the biases), per unit of learning rate
     */
    public record Config(int hidden, double weightDecay, int epochs, int batch, double learningRate, long seed) {

        public static final int HIDDEN = 128;
        public static final int EPOCHS = 20;
        public static final int BATCH = 64;
        public static final double LEARNING_RATE = 3e-3;
        public static final long SEED = 20261201L;

        /** The defaults with a given weight decay. */
        public static Config withWeightDecay(double weightDecay) {
            return new Config(HIDDEN, weightDecay, EPOCHS, BATCH, LEARNING_RATE, SEED);
        }
    }

    /**
     * Fits the head.
     *
     * @param x rows of L2-normalised embeddings
     * @param y label index per row
     * @param rowWeights positive weight per row, or null for equal weights
     */
    public static SoftmaxHead train(float[][] x, int[] y, double[] rowWeights, List<String> labels, Config cfg) {
        int n = x.length;
        int dim = x[0].length;
        int k = labels.size();
        int h = cfg.hidden();
        double[][] standard = HeadTrainer.standardisation(x);
        double[] mu = standard[0];
        double[] sd = standard[1];
        float[][] z = new float[n][dim];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) {
                z[i][d] = (float) ((x[i][d] - mu[d]) / sd[d]);
            }
        }
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = rowWeights == null ? 1 : rowWeights[i];
        }

        Random rnd = new Random(cfg.seed());
        Param w1 = new Param(h * dim);
        Param b1 = new Param(h);
        Param w2 = new Param(k * h);
        Param b2 = new Param(k);
        double s1 = Math.sqrt(2.0 / dim);
        for (int i = 0; i < w1.v.length; i++) {
            w1.v[i] = (float) (rnd.nextGaussian() * s1);
        }
        double s2 = Math.sqrt(1.0 / h);
        for (int i = 0; i < w2.v.length; i++) {
            w2.v[i] = (float) (rnd.nextGaussian() * s2);
        }

        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        int steps = cfg.epochs() * ((n + cfg.batch() - 1) / cfg.batch());
        int step = 0;
        float[] hid = new float[cfg.batch() * h];
        float[] out = new float[k];
        float[] dh = new float[h];
        for (int epoch = 0; epoch < cfg.epochs(); epoch++) {
            if (Thread.currentThread().isInterrupted()) {
                throw new java.util.concurrent.CancellationException("head training interrupted");
            }
            for (int i = n - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int start = 0; start < n; start += cfg.batch()) {
                int end = Math.min(n, start + cfg.batch());
                double batchWeight = 0;
                for (int r = start; r < end; r++) {
                    batchWeight += w[order[r]];
                }
                w1.zeroGrad();
                b1.zeroGrad();
                w2.zeroGrad();
                b2.zeroGrad();
                for (int r = start; r < end; r++) {
                    int i = order[r];
                    float[] zi = z[i];
                    int hb = (r - start) * h;
                    for (int u = 0; u < h; u++) {
                        double a = b1.v[u];
                        int off = u * dim;
                        for (int d = 0; d < dim; d++) {
                            a += w1.v[off + d] * zi[d];
                        }
                        hid[hb + u] = a > 0 ? (float) a : 0f;
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (int c = 0; c < k; c++) {
                        double a = b2.v[c];
                        int off = c * h;
                        for (int u = 0; u < h; u++) {
                            a += w2.v[off + u] * hid[hb + u];
                        }
                        out[c] = (float) a;
                        max = Math.max(max, a);
                    }
                    double sum = 0;
                    for (int c = 0; c < k; c++) {
                        out[c] = (float) Math.exp(out[c] - max);
                        sum += out[c];
                    }
                    double scale = w[i] / batchWeight;
                    java.util.Arrays.fill(dh, 0f);
                    for (int c = 0; c < k; c++) {
                        float g = (float) (scale * (out[c] / sum - (y[i] == c ? 1 : 0)));
                        b2.g[c] += g;
                        int off = c * h;
                        for (int u = 0; u < h; u++) {
                            w2.g[off + u] += g * hid[hb + u];
                            dh[u] += g * w2.v[off + u];
                        }
                    }
                    for (int u = 0; u < h; u++) {
                        if (hid[hb + u] <= 0) {
                            continue;
                        }
                        float g = dh[u];
                        b1.g[u] += g;
                        int off = u * dim;
                        for (int d = 0; d < dim; d++) {
                            w1.g[off + d] += g * zi[d];
                        }
                    }
                }
                step++;
                double lr = cfg.learningRate() * 0.5 * (1 + Math.cos(Math.PI * (step - 1) / steps));
                w1.adam(lr, cfg.weightDecay(), step);
                b1.adam(lr, 0, step);
                w2.adam(lr, cfg.weightDecay(), step);
                b2.adam(lr, 0, step);
            }
        }

        // fold the standardisation: W1 (x - mu) / sd + b1 = (W1 / sd) x + (b1 - sum_d W1_d mu_d / sd_d)
        float[][] hw = new float[h][dim];
        float[] hb = new float[h];
        for (int u = 0; u < h; u++) {
            double bb = b1.v[u];
            for (int d = 0; d < dim; d++) {
                double wd = w1.v[u * dim + d] / sd[d];
                hw[u][d] = (float) wd;
                bb -= wd * mu[d];
            }
            hb[u] = (float) bb;
        }
        float[][] ow = new float[k][h];
        float[] ob = new float[k];
        for (int c = 0; c < k; c++) {
            System.arraycopy(w2.v, c * h, ow[c], 0, h);
            ob[c] = b2.v[c];
        }
        return new SoftmaxHead(
                labels,
                ow,
                ob,
                new SoftmaxHead.Hidden(hw, hb),
                Map.of(
                        "head", "mlp",
                        "hidden", Integer.toString(h),
                        "weightDecay", Double.toString(cfg.weightDecay()),
                        "epochs", Integer.toString(cfg.epochs())),
                List.of());
    }

    /** One parameter tensor with its gradient and Adam moments. */
    private static final class Param {
        final float[] v;
        final float[] g;
        final double[] m;
        final double[] s;

        Param(int size) {
            v = new float[size];
            g = new float[size];
            m = new double[size];
            s = new double[size];
        }

        void zeroGrad() {
            java.util.Arrays.fill(g, 0f);
        }

        void adam(double lr, double weightDecay, int t) {
            double c1 = 1 - Math.pow(BETA1, t);
            double c2 = 1 - Math.pow(BETA2, t);
            for (int i = 0; i < v.length; i++) {
                m[i] = BETA1 * m[i] + (1 - BETA1) * g[i];
                s[i] = BETA2 * s[i] + (1 - BETA2) * g[i] * g[i];
                double update = (m[i] / c1) / (Math.sqrt(s[i] / c2) + EPS) + weightDecay * v[i];
                v[i] = (float) (v[i] - lr * update);
            }
        }
    }
}
