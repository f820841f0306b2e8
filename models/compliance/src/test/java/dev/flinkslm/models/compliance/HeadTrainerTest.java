package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.models.compliance.internal.HeadTrainer;
import dev.flinkslm.models.compliance.internal.LabeledText;
import dev.flinkslm.models.compliance.internal.SoftmaxHead;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Training is deterministic and the head file round-trips bit-exactly. */
class HeadTrainerTest {

    /** Five noisy clusters on the unit sphere, one per label (stands in for sentence embeddings). */
    private static float[][] data(int n, int[] y) {
        Random r = new Random(7);
        float[][] centres = new float[5][384];
        for (float[] c : centres) {
            for (int d = 0; d < 384; d++) {
                c[d] = (float) r.nextGaussian();
            }
        }
        float[][] x = new float[n][384];
        for (int i = 0; i < n; i++) {
            y[i] = i % 5;
            double norm = 0;
            for (int d = 0; d < 384; d++) {
                x[i][d] = centres[y[i]][d] + 3f * (float) r.nextGaussian();
                norm += x[i][d] * x[i][d];
            }
            for (int d = 0; d < 384; d++) {
                x[i][d] /= (float) Math.sqrt(norm);
            }
        }
        return x;
    }

    @Test
    void sameInputsGiveBitIdenticalHeads() {
        int[] y = new int[500];
        float[][] x = data(500, y);
        SoftmaxHead a = HeadTrainer.train(x, y, ComplianceLabels.ALL, 1e-3, 60);
        SoftmaxHead b = HeadTrainer.train(x, y, ComplianceLabels.ALL, 1e-3, 60);
        assertThat(a.weights()).isDeepEqualTo(b.weights());
        assertThat(a.bias()).isEqualTo(b.bias());
        assertThat(a.toJson()).isEqualTo(b.toJson());
    }

    @Test
    void learnsSeparableClustersAndRoundTripsThroughJson() {
        int[] y = new int[500];
        float[][] x = data(500, y);
        SoftmaxHead h = HeadTrainer.train(x, y, ComplianceLabels.ALL, 1e-3, 100);
        int ok = 0;
        for (int i = 0; i < x.length; i++) {
            ok += h.predict(x[i]) == y[i] ? 1 : 0;
        }
        assertThat(ok).isGreaterThan(480);

        SoftmaxHead withInfo =
                h.with(Map.of("note", "x"), List.of(new LabeledText("a \"quoted\" text", "fraud", null)));
        SoftmaxHead back = SoftmaxHead.fromJson(withInfo.toJson());
        assertThat(back.weights()).isDeepEqualTo(h.weights());
        assertThat(back.bias()).isEqualTo(h.bias());
        assertThat(back.golden()).containsExactly(new LabeledText("a \"quoted\" text", "fraud", null));
        assertThat(back.info()).containsEntry("note", "x");
    }

    /**
     * The trainer computes several rows' logits at once for speed; the head must come out exactly as from the
     * plain row-by-row loop it replaced. (Equal floats, which is what the head stores; the restructuring keeps
     * every double sum in the same order, so the double parameters agree too, but tiny double differences
     * would mostly vanish in the rounding to float.) 503 rows also cover the rows left after the last full block.
     */
    @Test
    void matchesRowByRowReference() {
        int[] y = new int[503];
        float[][] x = data(503, y);
        for (double l2 : new double[] {1e-3, 0.3}) {
            SoftmaxHead h = HeadTrainer.train(x, y, ComplianceLabels.ALL, l2, 40);
            float[][] refW = new float[5][];
            float[] refB = new float[5];
            reference(x, y, 5, l2, 40, refW, refB);
            assertThat(h.weights()).isDeepEqualTo(refW);
            assertThat(h.bias()).isEqualTo(refB);
        }
    }

    /** {@link HeadTrainer#train} as written before it was blocked: one row at a time, flat arrays. */
    private static void reference(
            float[][] x, int[] y, int k, double l2, int iterations, float[][] outW, float[] outB) {
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
        double[] z = new double[n * dim];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) {
                z[i * dim + d] = (x[i][d] - mu[d]) / sd[d];
            }
        }
        double[] v = new double[dim];
        Arrays.fill(v, 1.0 / Math.sqrt(dim));
        double lambda = 0;
        double[] u = new double[dim];
        for (int it = 0; it < 30; it++) {
            Arrays.fill(u, 0);
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int d = 0; d < dim; d++) {
                    s += z[i * dim + d] * v[d];
                }
                for (int d = 0; d < dim; d++) {
                    u[d] += s * z[i * dim + d];
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
        double lmax = lambda * 1.1;
        double step = 1.0 / (0.5 * lmax + l2);
        double[] w = new double[k * dim];
        double[] b = new double[k];
        double[] wPrev = w.clone();
        double[] bPrev = b.clone();
        double[] gw = new double[k * dim];
        double[] gb = new double[k];
        double[] vw = new double[k * dim];
        double[] vb = new double[k];
        double[] p = new double[k];
        double t = 1;
        for (int it = 0; it < iterations; it++) {
            double tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
            double mom = (t - 1) / tNext;
            for (int j = 0; j < w.length; j++) {
                vw[j] = w[j] + mom * (w[j] - wPrev[j]);
            }
            for (int c = 0; c < k; c++) {
                vb[c] = b[c] + mom * (b[c] - bPrev[c]);
            }
            Arrays.fill(gw, 0);
            Arrays.fill(gb, 0);
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    double s = vb[c];
                    for (int d = 0; d < dim; d++) {
                        s += vw[c * dim + d] * z[i * dim + d];
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
                    for (int d = 0; d < dim; d++) {
                        gw[c * dim + d] += g * z[i * dim + d];
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
        for (int c = 0; c < k; c++) {
            outW[c] = new float[dim];
            double bb = b[c];
            for (int d = 0; d < dim; d++) {
                double wd = w[c * dim + d] / sd[d];
                outW[c][d] = (float) wd;
                bb -= wd * mu[d];
            }
            outB[c] = (float) bb;
        }
    }

    /** Two overlapping clusters in 2-d: 400 rows of label 0 and 20 of label 1, centres 1.5 apart. */
    private static float[][] imbalanced(int[] y) {
        Random r = new Random(3);
        float[][] x = new float[y.length][2];
        for (int i = 0; i < y.length; i++) {
            y[i] = i < 400 ? 0 : 1;
            x[i][0] = (float) (r.nextGaussian() + (y[i] == 1 ? 1.5 : 0));
            x[i][1] = (float) r.nextGaussian();
        }
        return x;
    }

    private static double recall(SoftmaxHead h, float[][] x, int[] y, int label) {
        int hit = 0;
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            if (y[i] == label) {
                n++;
                hit += h.predict(x[i]) == label ? 1 : 0;
            }
        }
        return (double) hit / n;
    }

    @Test
    void balancedClassWeightsLiftTheRecallOfARareLabel() {
        int[] y = new int[420];
        float[][] x = imbalanced(y);
        List<String> labels = List.of("common", "rare");
        double[] w = HeadTrainer.balancedWeights(y, 2);
        assertThat(w[0]).isCloseTo(420.0 / (2 * 400), org.assertj.core.api.Assertions.within(1e-12));
        assertThat(w[419]).isCloseTo(420.0 / (2 * 20), org.assertj.core.api.Assertions.within(1e-12));
        assertThat(Arrays.stream(w).sum()).isCloseTo(420, org.assertj.core.api.Assertions.within(1e-9));
        SoftmaxHead plain = HeadTrainer.train(x, y, null, labels, 1e-3, 200);
        SoftmaxHead weighted = HeadTrainer.train(x, y, w, labels, 1e-3, 200);
        double before = recall(plain, x, y, 1);
        double after = recall(weighted, x, y, 1);
        // unweighted, the rare label mostly loses to the prior; weighted, most of it is found
        assertThat(before).isLessThan(0.3);
        assertThat(after).isGreaterThan(0.6);
        // equal weights are the unweighted fit, bit for bit
        double[] ones = new double[y.length];
        Arrays.fill(ones, 1);
        assertThat(HeadTrainer.train(x, y, ones, labels, 1e-3, 50).toJson())
                .isEqualTo(HeadTrainer.train(x, y, labels, 1e-3, 50).toJson());
    }

    @Test
    void theTemperatureUndoesAnOverconfidentScale() {
        // logits of a calibrated model (labels drawn from softmax(z)), then multiplied by 3
        Random r = new Random(11);
        int n = 4000;
        double[][] z = new double[n][3];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 3; c++) {
                z[i][c] = r.nextGaussian() * 1.5;
            }
            double[] p = SoftmaxHead.softmax(z[i], 1);
            double u = r.nextDouble();
            y[i] = u < p[0] ? 0 : u < p[0] + p[1] ? 1 : 2;
            for (int c = 0; c < 3; c++) {
                z[i][c] *= 3;
            }
        }
        double t = dev.flinkslm.models.compliance.internal.Temperature.fit(z, y);
        assertThat(t).isCloseTo(3, org.assertj.core.api.Assertions.within(0.3));
        assertThat(dev.flinkslm.models.compliance.internal.Temperature.nll(z, y, t))
                .isLessThan(dev.flinkslm.models.compliance.internal.Temperature.nll(z, y, 1));
        assertThatThrownBy(() -> dev.flinkslm.models.compliance.internal.Temperature.fit(new double[0][], new int[0]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
