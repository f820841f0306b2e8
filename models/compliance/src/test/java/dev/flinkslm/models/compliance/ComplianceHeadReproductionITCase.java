package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.compliance.internal.LabeledText;
import dev.flinkslm.models.compliance.internal.Resources;
import dev.flinkslm.models.compliance.internal.SoftmaxHead;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Retraining from the committed authored corpus reproduces the committed head: the {@link ModelTrain} procedure
 * as {@link DefaultModel#trainingOptions} runs it (holdout, refit, label frequencies, temperature, golden
 * examples) with the committed weight decay in place of the grid search (which is checked to pick the best
 * validation macro-F1 by {@code ModelTrainTest}). Slow, hence an ITCase: embedding the corpus with the fp32
 * encoder, the MLP fit and scoring the holdout with both bundles take a few minutes on 2 cores. Alone: {@code mvn -pl models/compliance verify
 * -Dit.test=ComplianceHeadReproductionITCase -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}.
 *
 * <p>Weights are compared with a small tolerance because ONNX Runtime kernels may round differently on other
 * CPUs (AVX2 vs AVX-512); the chosen weight decay, the temperature (to 3 digits) and the golden examples must be
 * the same.
 */
class ComplianceHeadReproductionITCase {

    @TempDir
    Path tmp;

    @Test
    void retrainingReproducesCommittedHead() throws Exception {
        SoftmaxHead committed =
                SoftmaxHead.fromJson(new String(Resources.read(DefaultModel.HEAD_RESOURCE), StandardCharsets.UTF_8));
        Path data = Files.write(tmp.resolve("authored.jsonl"), Resources.read(DefaultModel.AUTHORED_RESOURCE));
        // The committed weight decay instead of the grid: the grid picks the best validation score, and its value
        // alone gives the head the grid gives (ModelTrainTest), so this reproduces the whole procedure's head.
        double weightDecay = Double.parseDouble(committed.info().get("weightDecay"));
        ModelTrain.Result r = ModelTrain.run(
                DefaultModel.trainingOptions(data, tmp.resolve("out")),
                new PrintStream(new ByteArrayOutputStream()),
                new double[] {weightDecay});
        SoftmaxHead again = SoftmaxHead.fromJson(r.headJson());

        assertThat(again.info().get("weightDecay")).isEqualTo(committed.info().get("weightDecay"));
        assertThat(Double.parseDouble(again.info().get("temperature")))
                .isCloseTo(
                        Double.parseDouble(committed.info().get("temperature")),
                        org.assertj.core.api.Assertions.within(1e-3));
        assertThat(again.info().get("dataSha256")).isEqualTo(committed.info().get("dataSha256"));
        assertThat(again.hidden()).isNotNull();
        double maxDiff = 0;
        double maxAbs = 0;
        for (int u = 0; u < committed.hidden().weights().length; u++) {
            for (int d = 0; d < committed.dim(); d++) {
                float c = committed.hidden().weights()[u][d];
                maxDiff = Math.max(maxDiff, Math.abs(again.hidden().weights()[u][d] - c));
                maxAbs = Math.max(maxAbs, Math.abs(c));
            }
        }
        assertThat(maxDiff).isLessThanOrEqualTo(1e-3 * maxAbs);
        assertThat(again.golden())
                .extracting(LabeledText::text)
                .containsExactlyElementsOf(
                        committed.golden().stream().map(LabeledText::text).toList());
    }
}
