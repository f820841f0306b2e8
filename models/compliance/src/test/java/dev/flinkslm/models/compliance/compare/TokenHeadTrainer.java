package dev.flinkslm.models.compliance.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Trains a {@link TokenHead} (learned attention pooling and/or an MLP head) by mini-batch Adam with decoupled
 * weight decay and a cosine learning-rate schedule.
 *
 * <p>Deterministic: the initial weights and the order of the examples in every epoch come from one {@link
 * Random} seeded by {@link Config#seed}, and all sums run sequentially in a fixed order, so the same inputs and
 * seed give bit-identical parameters. The attention vector starts at zero, i.e. as mean pooling; the
 * standardisation constants are those of the mean-pooled, normalised training vectors and stay fixed. Stateless;
 * one call uses one thread.
 *
 * <pre>{@code
 * TokenHeadTrainer.Result r = TokenHeadTrainer.train(states, tokens, y, 5, Config.attention(64, 1e-2));
 * }</pre>
 */
final class TokenHeadTrainer {

    /**
     * Training settings.
     *
     * @param attention learn attention pooling over the rows of each example (else: mean of the rows)
     * @param hidden hidden ReLU units (0: linear softmax head)
     * @param weightDecay decoupled weight decay on the weights (not biases), per unit learning rate
     */
    record Config(
            boolean attention, int hidden, double weightDecay, int epochs, int batch, double learningRate, long seed) {

        static final int EPOCHS = 12;
        static final int BATCH = 64;
        static final double LEARNING_RATE = 3e-3;
        static final long SEED = 20261101L;

        /** MLP head ({@code hidden} ReLU units) on precomputed sentence vectors. */
        static Config mlp(int hidden, double weightDecay) {
            return new Config(false, hidden, weightDecay, EPOCHS, BATCH, LEARNING_RATE, SEED);
        }

        /** Attention pooling trained jointly with a linear ({@code hidden = 0}) or MLP head. */
        static Config attention(int hidden, double weightDecay) {
            return new Config(true, hidden, weightDecay, EPOCHS, BATCH, LEARNING_RATE, SEED);
        }

        Config withEpochs(int e) {
            return new Config(attention, hidden, weightDecay, e, batch, learningRate, seed);
        }
    }

    /** The trained head and the mean training loss of each epoch (measured during that epoch). */
    record Result(TokenHead head, List<Double> epochLoss) {}

    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPS = 1e-8;

    private TokenHeadTrainer() {}

    /**
     * Trains on {@code states.get(i)} ({@code tokens[i]} rows of {@code dim} values, row-major) with label
     * {@code y[i]} in {@code [0, classes)}.
     */
    static Result train(List<float[]> states, int[] tokens, int[] y, int classes, Config cfg) {
        int n = states.size();
        if (n == 0 || tokens.length != n || y.length != n) {
            throw new IllegalArgumentException("states, tokens and labels must be non-empty and of equal length");
        }
        int dim = states.get(0).length / tokens[0];
        int maxTokens = 0;
        for (int t : tokens) {
            maxTokens = Math.max(maxTokens, t);
        }
        float[][] std = standardisation(states, tokens, dim);
        TokenHead h = new TokenHead(dim, cfg.hidden(), classes, cfg.attention(), std[0], std[1]);
        Random rnd = new Random(cfg.seed());
        init(h, rnd);

        float[] theta = h.theta;
        int p = theta.length;
        boolean[] decays = new boolean[p];
        for (int i = 0; i < h.offB1; i++) {
            decays[i] = true;
        }
        for (int i = h.offW2; i < h.offB2; i++) {
            decays[i] = true;
        }
        float[] g = new float[p];
        double[] m = new double[p];
        double[] v = new double[p];
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        TokenHead.Work w = new TokenHead.Work(h, maxTokens);
        int steps = cfg.epochs() * ((n + cfg.batch() - 1) / cfg.batch());
        int step = 0;
        List<Double> losses = new ArrayList<>();
        for (int e = 0; e < cfg.epochs(); e++) {
            for (int i = n - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
            double loss = 0;
            for (int start = 0; start < n; start += cfg.batch()) {
                int end = Math.min(n, start + cfg.batch());
                java.util.Arrays.fill(g, 0);
                for (int k = start; k < end; k++) {
                    int i = order[k];
                    h.forward(states.get(i), tokens[i], w);
                    loss -= Math.log(Math.max(w.q[y[i]], 1e-300));
                    h.backward(states.get(i), tokens[i], y[i], w, g);
                }
                step++;
                double lr = cfg.learningRate() * 0.5 * (1 + Math.cos(Math.PI * (step - 1) / steps));
                double c1 = 1 - Math.pow(BETA1, step);
                double c2 = 1 - Math.pow(BETA2, step);
                double scale = 1.0 / (end - start);
                for (int q = 0; q < p; q++) {
                    double gq = g[q] * scale;
                    m[q] = BETA1 * m[q] + (1 - BETA1) * gq;
                    v[q] = BETA2 * v[q] + (1 - BETA2) * gq * gq;
                    double upd = (m[q] / c1) / (Math.sqrt(v[q] / c2) + EPS);
                    if (decays[q]) {
                        upd += cfg.weightDecay() * theta[q];
                    }
                    theta[q] = (float) (theta[q] - lr * upd);
                }
            }
            losses.add(loss / n);
        }
        return new Result(h, List.copyOf(losses));
    }

    /** Mean training loss of a head on data (no update). */
    static double loss(TokenHead h, List<float[]> states, int[] tokens, int[] y) {
        double loss = 0;
        for (int i = 0; i < states.size(); i++) {
            loss -= Math.log(Math.max(h.probabilities(states.get(i), tokens[i])[y[i]], 1e-300));
        }
        return loss / states.size();
    }

    /** He-uniform first layer, Glorot-uniform output layer of an MLP; zero for a linear head and attention. */
    private static void init(TokenHead h, Random rnd) {
        if (h.hidden == 0) {
            return;
        }
        double a1 = Math.sqrt(6.0 / h.dim);
        for (int i = h.offW1; i < h.offB1; i++) {
            h.theta[i] = (float) ((rnd.nextDouble() * 2 - 1) * a1);
        }
        double a2 = Math.sqrt(6.0 / (h.hidden + h.classes));
        for (int i = h.offW2; i < h.offB2; i++) {
            h.theta[i] = (float) ((rnd.nextDouble() * 2 - 1) * a2);
        }
    }

    /** Mean and inverse standard deviation per dimension of the mean-pooled, L2-normalised vectors. */
    private static float[][] standardisation(List<float[]> states, int[] tokens, int dim) {
        int n = states.size();
        double[] sum = new double[dim];
        double[] sq = new double[dim];
        double[] z = new double[dim];
        for (int i = 0; i < n; i++) {
            float[] h = states.get(i);
            java.util.Arrays.fill(z, 0);
            for (int t = 0; t < tokens[i]; t++) {
                for (int d = 0; d < dim; d++) {
                    z[d] += h[t * dim + d];
                }
            }
            double norm = 0;
            for (int d = 0; d < dim; d++) {
                norm += z[d] * z[d];
            }
            norm = Math.max(Math.sqrt(norm), 1e-12);
            for (int d = 0; d < dim; d++) {
                double v = z[d] / norm;
                sum[d] += v;
                sq[d] += v * v;
            }
        }
        float[] mu = new float[dim];
        float[] inv = new float[dim];
        for (int d = 0; d < dim; d++) {
            double mean = sum[d] / n;
            double var = Math.max(sq[d] / n - mean * mean, 0);
            mu[d] = (float) mean;
            inv[d] = (float) (1.0 / (Math.sqrt(var) + 1e-6));
        }
        return new float[][] {mu, inv};
    }
}
