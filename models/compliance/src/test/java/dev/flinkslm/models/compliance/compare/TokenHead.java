package dev.flinkslm.models.compliance.compare;

/**
 * A classifier over one text's encoder token states: pooling, L2 normalisation, a fixed per-dimension
 * standardisation, then a linear softmax layer or a one-hidden-layer ReLU MLP with a softmax output.
 *
 * <p>Pooling is either learned attention ({@code score_t = w . h_t} over the text's tokens, softmax over
 * {@code t}, {@code pooled = sum_t a_t h_t}) or a plain mean over the given rows; the latter with a single
 * row per text is how a precomputed sentence vector (mean- or CLS-pooled) is fed. Made by {@link
 * TokenHeadTrainer}. All parameters live in one flat array (the trainer's Adam state has the same layout).
 * Immutable after training; {@link #probabilities} may be called from several threads.
 *
 * <pre>{@code
 * TokenHead h = TokenHeadTrainer.train(states, tokens, y, 5, TokenHeadTrainer.Config.mlp(1e-2)).head();
 * double[] p = h.probabilities(statesOfText, tokensOfText);
 * }</pre>
 */
final class TokenHead {

    final int dim;
    final int hidden;
    final int classes;
    final boolean attention;
    /** Standardisation of the normalised pooled vector: {@code x = (p - mu) * invSd}. */
    final float[] mu;

    final float[] invSd;
    /** Parameters: [attention w (dim, if attention)][W1 (dim x hidden)][b1 (hidden)][W2 (in x classes)][b2]. */
    final float[] theta;

    final int offW1;
    final int offB1;
    final int offW2;
    final int offB2;

    TokenHead(int dim, int hidden, int classes, boolean attention, float[] mu, float[] invSd) {
        this.dim = dim;
        this.hidden = hidden;
        this.classes = classes;
        this.attention = attention;
        this.mu = mu;
        this.invSd = invSd;
        this.offW1 = attention ? dim : 0;
        this.offB1 = offW1 + dim * hidden;
        this.offW2 = offB1 + hidden;
        this.offB2 = offW2 + inWidth() * classes;
        this.theta = new float[offB2 + classes];
    }

    /** Width of the output layer's input: the hidden layer, or the standardised pooled vector. */
    int inWidth() {
        return hidden > 0 ? hidden : dim;
    }

    /** Number of trained parameters. */
    int parameterCount() {
        return theta.length;
    }

    /** Class probabilities of one text given as {@code tokens} rows of {@link #dim} values. */
    double[] probabilities(float[] states, int tokens) {
        Work w = new Work(this, tokens);
        forward(states, tokens, w);
        return w.q.clone();
    }

    /** Per-call scratch space: intermediate values of the forward pass, reused by the backward pass. */
    static final class Work {
        final float[] s;
        final float[] a;
        final float[] z;
        final float[] p;
        final float[] x;
        final float[] u;
        final float[] in;
        final double[] q;
        final float[] gIn;
        final float[] gx;
        final float[] gz;
        final float[] ga;
        double norm;

        Work(TokenHead h, int maxTokens) {
            s = new float[maxTokens];
            a = new float[maxTokens];
            z = new float[h.dim];
            p = new float[h.dim];
            x = new float[h.dim];
            u = new float[Math.max(1, h.hidden)];
            in = new float[h.inWidth()];
            q = new double[h.classes];
            gIn = new float[h.inWidth()];
            gx = new float[h.dim];
            gz = new float[h.dim];
            ga = new float[maxTokens];
        }
    }

    void forward(float[] h, int tokens, Work w) {
        int d = dim;
        java.util.Arrays.fill(w.z, 0);
        if (attention) {
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < tokens; t++) {
                w.s[t] = dot(theta, 0, h, t * d, d);
                max = Math.max(max, w.s[t]);
            }
            double sum = 0;
            for (int t = 0; t < tokens; t++) {
                w.a[t] = (float) Math.exp(w.s[t] - max);
                sum += w.a[t];
            }
            for (int t = 0; t < tokens; t++) {
                w.a[t] = (float) (w.a[t] / sum);
                axpy(w.a[t], h, t * d, w.z, 0, d);
            }
        } else {
            for (int t = 0; t < tokens; t++) {
                axpy(1f / tokens, h, t * d, w.z, 0, d);
            }
        }
        double n = 0;
        for (int i = 0; i < d; i++) {
            n += (double) w.z[i] * w.z[i];
        }
        w.norm = Math.max(Math.sqrt(n), 1e-12);
        for (int i = 0; i < d; i++) {
            w.p[i] = (float) (w.z[i] / w.norm);
            w.x[i] = (w.p[i] - mu[i]) * invSd[i];
        }
        if (hidden > 0) {
            System.arraycopy(theta, offB1, w.u, 0, hidden);
            for (int i = 0; i < d; i++) {
                axpy(w.x[i], theta, offW1 + i * hidden, w.u, 0, hidden);
            }
            for (int j = 0; j < hidden; j++) {
                w.in[j] = Math.max(0f, w.u[j]);
            }
        } else {
            System.arraycopy(w.x, 0, w.in, 0, d);
        }
        int k = classes;
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < k; c++) {
            double o = theta[offB2 + c];
            for (int i = 0; i < w.in.length; i++) {
                o += (double) w.in[i] * theta[offW2 + i * k + c];
            }
            w.q[c] = o;
            max = Math.max(max, o);
        }
        double sum = 0;
        for (int c = 0; c < k; c++) {
            w.q[c] = Math.exp(w.q[c] - max);
            sum += w.q[c];
        }
        for (int c = 0; c < k; c++) {
            w.q[c] /= sum;
        }
    }

    /** Adds the gradient of {@code -log q[y]} (after {@link #forward} on the same work) to {@code g}. */
    void backward(float[] h, int tokens, int y, Work w, float[] g) {
        int d = dim;
        int k = classes;
        int in = inWidth();
        for (int c = 0; c < k; c++) {
            g[offB2 + c] += (float) (w.q[c] - (c == y ? 1 : 0));
        }
        for (int i = 0; i < in; i++) {
            float gi = 0;
            for (int c = 0; c < k; c++) {
                float go = (float) (w.q[c] - (c == y ? 1 : 0));
                g[offW2 + i * k + c] += w.in[i] * go;
                gi += theta[offW2 + i * k + c] * go;
            }
            w.gIn[i] = gi;
        }
        if (!attention && hidden == 0) {
            return;
        }
        if (hidden > 0) {
            for (int j = 0; j < hidden; j++) {
                float gu = w.u[j] > 0 ? w.gIn[j] : 0f;
                w.gIn[j] = gu;
                g[offB1 + j] += gu;
            }
            for (int i = 0; i < d; i++) {
                axpy(w.x[i], w.gIn, 0, g, offW1 + i * hidden, hidden);
            }
            if (!attention) {
                return;
            }
            for (int i = 0; i < d; i++) {
                w.gx[i] = dot(theta, offW1 + i * hidden, w.gIn, 0, hidden);
            }
        } else {
            System.arraycopy(w.gIn, 0, w.gx, 0, d);
        }
        // through the standardisation and the L2 normalisation: dz = (dp - p (p . dp)) / |z|
        double pg = 0;
        for (int i = 0; i < d; i++) {
            w.gx[i] *= invSd[i];
            pg += (double) w.p[i] * w.gx[i];
        }
        for (int i = 0; i < d; i++) {
            w.gz[i] = (float) ((w.gx[i] - w.p[i] * pg) / w.norm);
        }
        // through the attention softmax: ds_t = a_t (dz . h_t - sum_u a_u dz . h_u); dw = sum_t ds_t h_t
        double mean = 0;
        for (int t = 0; t < tokens; t++) {
            w.ga[t] = dot(w.gz, 0, h, t * d, d);
            mean += (double) w.a[t] * w.ga[t];
        }
        for (int t = 0; t < tokens; t++) {
            float gs = (float) (w.a[t] * (w.ga[t] - mean));
            axpy(gs, h, t * d, g, 0, d);
        }
    }

    /** Dot product in a fixed order (four interleaved partial sums, then added in order). */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += a[ao + i] * b[bo + i];
            s1 += a[ao + i + 1] * b[bo + i + 1];
            s2 += a[ao + i + 2] * b[bo + i + 2];
            s3 += a[ao + i + 3] * b[bo + i + 3];
        }
        for (; i < n; i++) {
            s0 += a[ao + i] * b[bo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@code y[yo..yo+n) += alpha * x[xo..xo+n)}. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }
}
