package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.compliance.internal.HeadTrainer;
import dev.flinkslm.models.compliance.internal.LabeledText;
import dev.flinkslm.models.compliance.internal.SoftmaxHead;
import org.junit.jupiter.api.Test;

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
}
