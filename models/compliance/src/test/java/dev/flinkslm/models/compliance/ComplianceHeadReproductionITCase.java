package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.compliance.internal.ComplianceTraining;
import dev.flinkslm.models.compliance.internal.HeadTrainer;
import dev.flinkslm.models.compliance.internal.LabeledText;
import dev.flinkslm.models.compliance.internal.Resources;
import dev.flinkslm.models.compliance.internal.SoftmaxHead;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Retraining from the committed corpus reproduces the committed head: the whole procedure ({@link
 * ComplianceTraining#train}: every fit of the L2 grid, the choice on the validation split, the refit on
 * train+validation). Slow, hence an ITCase: embedding the corpus with the fp32 encoder takes ~30 s on 2 idle cores
 * (more on a busy machine), the seven fits ~2.5 s each. Alone: {@code mvn -pl models/compliance verify
 * -Dit.test=ComplianceHeadReproductionITCase -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false} ({@code -Dtest}
 * naming this class would make surefire run it a second time).
 *
 * <p>Weights are compared with a small tolerance because ONNX Runtime kernels may round differently on other
 * CPUs (AVX2 vs AVX-512); predictions on the test split must be identical.
 */
class ComplianceHeadReproductionITCase {

    @Test
    void retrainingReproducesCommittedHead() {
        SoftmaxHead committed =
                SoftmaxHead.fromJson(new String(Resources.read(DefaultModel.HEAD_RESOURCE), StandardCharsets.UTF_8));
        List<LabeledText> corpus = LabeledText.readResource(DefaultModel.CORPUS_RESOURCE);
        float[][] emb = ComplianceTraining.embed(corpus, Precision.FP32);
        ComplianceTraining.Result r = ComplianceTraining.train(corpus, emb, HeadTrainer.DEFAULT_ITERATIONS);

        assertThat(Double.toString(r.l2())).isEqualTo(committed.info().get("l2"));
        double maxDiff = 0;
        double maxAbs = 0;
        for (int k = 0; k < 5; k++) {
            for (int d = 0; d < committed.dim(); d++) {
                maxDiff = Math.max(
                        maxDiff, Math.abs(r.head().weights()[k][d] - committed.weights()[k][d]));
                maxAbs = Math.max(maxAbs, Math.abs(committed.weights()[k][d]));
            }
        }
        assertThat(maxDiff).isLessThanOrEqualTo(1e-4 * maxAbs);

        List<Integer> test = ComplianceTraining.indices(corpus, "test");
        for (int i : test) {
            assertThat(r.head().predict(emb[i])).as("test example %d", i).isEqualTo(committed.predict(emb[i]));
        }
    }
}
