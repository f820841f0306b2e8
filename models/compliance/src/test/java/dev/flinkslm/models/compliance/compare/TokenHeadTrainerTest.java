package dev.flinkslm.models.compliance.compare;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** The comparison's own trainers (attention pooling, MLP head) learn, separate classes and are deterministic. */
class TokenHeadTrainerTest {

    private static final int DIM = 16;
    private static final int CLASSES = 3;

    /** Texts of 4-9 noise tokens; one of them, marked by a large dimension 0, carries the class centre. */
    private record Data(List<float[]> states, int[] tokens, int[] y) {}

    private static Data keyTokenData(int n, long seed) {
        // the same class centres for every sample; the seed draws the texts
        Random rc = new Random(11);
        float[][] centres = new float[CLASSES][DIM];
        for (float[] c : centres) {
            for (int d = 1; d < DIM; d++) {
                c[d] = (float) rc.nextGaussian() * 2f;
            }
        }
        Random r = new Random(seed);
        List<float[]> states = new ArrayList<>();
        int[] tokens = new int[n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % CLASSES;
            tokens[i] = 4 + r.nextInt(6);
            int key = r.nextInt(tokens[i]);
            float[] h = new float[tokens[i] * DIM];
            for (int t = 0; t < tokens[i]; t++) {
                for (int d = 1; d < DIM; d++) {
                    h[t * DIM + d] = (float) r.nextGaussian() * 2f + (t == key ? centres[y[i]][d] : 0f);
                }
                h[t * DIM] = t == key ? 3f : 0f;
            }
            states.add(h);
        }
        return new Data(states, tokens, y);
    }

    /** One vector per text, class = quadrant XOR (x > 0 xor y > 0): not linearly separable, even normalised. */
    private static Data xorData(int n) {
        Random r = new Random(3);
        List<float[]> states = new ArrayList<>();
        int[] tokens = new int[n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int quadrant = r.nextInt(4);
            double angle = Math.toRadians(90 * quadrant + 10 + 70 * r.nextDouble());
            float[] v = new float[DIM];
            v[0] = (float) Math.cos(angle);
            v[1] = (float) Math.sin(angle);
            for (int d = 2; d < DIM; d++) {
                v[d] = (float) (0.05 * r.nextGaussian());
            }
            y[i] = (v[0] > 0) ^ (v[1] > 0) ? 1 : 0;
            states.add(v);
            tokens[i] = 1;
        }
        return new Data(states, tokens, y);
    }

    private static double accuracy(TokenHead h, Data d) {
        int ok = 0;
        for (int i = 0; i < d.y().length; i++) {
            double[] p = h.probabilities(d.states().get(i), d.tokens()[i]);
            int best = 0;
            for (int c = 1; c < p.length; c++) {
                best = p[c] > p[best] ? c : best;
            }
            ok += best == d.y()[i] ? 1 : 0;
        }
        return (double) ok / d.y().length;
    }

    private static double meanAttentionOnKeyToken(TokenHead h, Data d) {
        double sum = 0;
        for (int i = 0; i < d.y().length; i++) {
            TokenHead.Work w = new TokenHead.Work(h, d.tokens()[i]);
            h.forward(d.states().get(i), d.tokens()[i], w);
            for (int t = 0; t < d.tokens()[i]; t++) {
                sum += d.states().get(i)[t * DIM] > 0 ? w.a[t] : 0;
            }
        }
        return sum / d.y().length;
    }

    @Test
    void attentionPoolingLearnsToFindTheKeyToken() {
        Data train = keyTokenData(600, 1);
        Data test = keyTokenData(300, 2);
        TokenHeadTrainer.Config cfg = TokenHeadTrainer.Config.attention(0, 1e-3).withEpochs(40);
        TokenHeadTrainer.Result r = TokenHeadTrainer.train(train.states(), train.tokens(), train.y(), CLASSES, cfg);

        assertThat(r.epochLoss().get(r.epochLoss().size() - 1))
                .isLessThan(0.5 * r.epochLoss().get(0));
        assertThat(accuracy(r.head(), test)).isGreaterThanOrEqualTo(0.95);
        // attention goes to the key token (uniform attention would give it 1/4 to 1/9, about 0.17 on average)
        assertThat(meanAttentionOnKeyToken(r.head(), test)).isGreaterThan(0.4);

        // mean pooling with the same linear head is clearly worse on these texts (the key token is diluted)
        TokenHeadTrainer.Config mean =
                new TokenHeadTrainer.Config(false, 0, 1e-3, 40, cfg.batch(), cfg.learningRate(), cfg.seed());
        TokenHead m = TokenHeadTrainer.train(train.states(), train.tokens(), train.y(), CLASSES, mean)
                .head();
        assertThat(accuracy(r.head(), test)).isGreaterThan(accuracy(m, test));
    }

    @Test
    void mlpSeparatesClassesALinearHeadCannot() {
        Data train = xorData(600);
        TokenHeadTrainer.Result mlp = TokenHeadTrainer.train(
                train.states(),
                train.tokens(),
                train.y(),
                2,
                TokenHeadTrainer.Config.mlp(32, 1e-3).withEpochs(60));
        TokenHead linear = TokenHeadTrainer.train(
                        train.states(),
                        train.tokens(),
                        train.y(),
                        2,
                        TokenHeadTrainer.Config.mlp(0, 1e-3).withEpochs(60))
                .head();

        List<Double> loss = mlp.epochLoss();
        assertThat(loss.get(loss.size() - 1)).isLessThan(0.3 * loss.get(0));
        assertThat(accuracy(mlp.head(), train)).isGreaterThanOrEqualTo(0.97);
        assertThat(accuracy(linear, train)).isLessThan(0.8);
    }

    @Test
    void sameSeedGivesBitIdenticalParametersAndAnotherSeedDoesNot() {
        Data d = keyTokenData(200, 5);
        TokenHeadTrainer.Config cfg = TokenHeadTrainer.Config.attention(8, 1e-2).withEpochs(5);
        float[] a = TokenHeadTrainer.train(d.states(), d.tokens(), d.y(), CLASSES, cfg)
                .head()
                .theta;
        float[] b = TokenHeadTrainer.train(d.states(), d.tokens(), d.y(), CLASSES, cfg)
                .head()
                .theta;
        TokenHeadTrainer.Config other = new TokenHeadTrainer.Config(
                cfg.attention(),
                cfg.hidden(),
                cfg.weightDecay(),
                cfg.epochs(),
                cfg.batch(),
                cfg.learningRate(),
                cfg.seed() + 1);
        float[] c = TokenHeadTrainer.train(d.states(), d.tokens(), d.y(), CLASSES, other)
                .head()
                .theta;

        assertThat(a).isEqualTo(b);
        assertThat(c).isNotEqualTo(a);
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Random r = new Random(9);
        int tokens = 5;
        List<float[]> states = new ArrayList<>();
        int[] tok = new int[12];
        int[] y = new int[12];
        for (int i = 0; i < 12; i++) {
            float[] h = new float[tokens * 6];
            for (int j = 0; j < h.length; j++) {
                h[j] = (float) r.nextGaussian();
            }
            states.add(h);
            tok[i] = tokens;
            y[i] = i % CLASSES;
        }
        for (int hidden : new int[] {0, 4}) {
            // a few epochs so that attention and weights are away from their (symmetric) start
            TokenHead h = TokenHeadTrainer.train(
                            states,
                            tok,
                            y,
                            CLASSES,
                            TokenHeadTrainer.Config.attention(hidden, 0).withEpochs(3))
                    .head();
            float[] g = new float[h.theta.length];
            TokenHead.Work w = new TokenHead.Work(h, tokens);
            h.forward(states.get(0), tokens, w);
            h.backward(states.get(0), tokens, y[0], w, g);
            for (int q = 0; q < h.theta.length; q++) {
                float old = h.theta[q];
                double e = 1e-2;
                h.theta[q] = (float) (old + e);
                double up = -Math.log(h.probabilities(states.get(0), tokens)[y[0]]);
                h.theta[q] = (float) (old - e);
                double down = -Math.log(h.probabilities(states.get(0), tokens)[y[0]]);
                h.theta[q] = old;
                double numeric = (up - down) / (2 * e);
                assertThat((double) g[q])
                        .as("hidden=%d parameter %d", hidden, q)
                        .isCloseTo(numeric, org.assertj.core.data.Offset.offset(1e-2 + 2e-3 * Math.abs(numeric)));
            }
        }
    }
}
