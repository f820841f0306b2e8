package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.flinkslm.models.Prediction;
import org.junit.jupiter.api.Test;

import java.util.List;

class EvalReportTest {

    private static final List<String> LABELS = List.of("clear", "fraud");

    private static Prediction p(int label, float score) {
        float[] probs = label == 0 ? new float[] {score, 1 - score} : new float[] {1 - score, score};
        return new Prediction(label, LABELS.get(label), score, probs);
    }

    @Test
    void negativeFalsePositiveRateCountsGoldClearTextsPredictedAsAnotherLabel() {
        int[] gold = {0, 0, 0, 0, 1};
        List<Prediction> predicted = List.of(p(0, 0.9f), p(1, 0.6f), p(0, 0.8f), p(1, 0.7f), p(1, 0.9f));
        EvalReport r = EvalReport.of(LABELS, gold, predicted, 0);
        assertThat(r.negativeFalsePositiveRate()).isEqualTo(0.5);
        assertThat(EvalReport.of(LABELS, gold, predicted, -1).negativeFalsePositiveRate())
                .isNaN();
        assertThat(new EvalReport(LABELS, gold, new int[] {0, 1, 0, 1, 1}).expectedCalibrationError())
                .isNaN();
    }

    @Test
    void calibrationErrorIsTheWeightedGapBetweenAccuracyAndConfidencePerBin() {
        // bin [0.9,1.0): two examples at 0.95, one right  -> |0.5 - 0.95| = 0.45, weight 2/4
        // bin [0.6,0.7): two examples at 0.65, both right -> |1.0 - 0.65| = 0.35, weight 2/4
        int[] gold = {0, 1, 0, 1};
        List<Prediction> predicted = List.of(p(0, 0.95f), p(0, 0.95f), p(0, 0.65f), p(1, 0.65f));
        EvalReport r = EvalReport.of(LABELS, gold, predicted, 0);
        assertThat(r.expectedCalibrationError()).isCloseTo(0.5 * 0.45 + 0.5 * 0.35, within(1e-6));
        assertThat(r.summaryLine()).isEqualTo("macro_f1=0.7333 clear_fpr=0.0000 ece=0.4000");

        // perfectly calibrated: confidence 0.5 and half of them right
        EvalReport half = EvalReport.of(LABELS, new int[] {0, 1}, List.of(p(0, 0.5f), p(0, 0.5f)), 0);
        assertThat(half.expectedCalibrationError()).isCloseTo(0.0, within(1e-9));
        // a confidence of exactly 1 falls in the last bin, not outside
        EvalReport sure = EvalReport.of(LABELS, new int[] {1}, List.of(p(1, 1.0f)), 0);
        assertThat(sure.expectedCalibrationError()).isCloseTo(0.0, within(1e-9));
    }
}
