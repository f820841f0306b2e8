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
    void theSummaryLineLeavesOutWhatIsUnknownAndScoresMustBeProbabilities() {
        int[] gold = {1, 1};
        List<Prediction> predicted = List.of(p(1, 0.9f), p(0, 0.8f));
        assertThat(EvalReport.of(LABELS, gold, predicted, 0).summaryLine())
                .isEqualTo("macro_f1=0.3333 ece=0.3500"); // no gold clear: no clear_fpr
        assertThat(EvalReport.of(LABELS, gold, predicted, -1).summaryLine()).doesNotContain("_fpr");
        assertThat(new EvalReport(LABELS, gold, new int[] {1, 0}).summaryLine()).isEqualTo("macro_f1=0.3333");
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        EvalReport.of(LABELS, gold, List.of(p(1, Float.NaN), p(0, 0.8f)), 0))
                .hasMessageContaining("score NaN");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> EvalReport.of(LABELS, gold, predicted, 2))
                .hasMessageContaining("negative label index 2");
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

        // unequal bins and neighbouring bins: a wrong bin edge, an unweighted mean or a shift by one
        // bin each give another figure
        List<String> three = List.of("clear", "fraud", "sanctions");
        int[] g = {0, 0, 1, 0, 0, 0};
        int[] labels = {0, 0, 0, 2, 0, 2}; // right, right, wrong, wrong, right, wrong
        float[] scores = {0.95f, 0.95f, 0.95f, 0.85f, 0.5f, 0.45f};
        List<Prediction> ps = new java.util.ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            float[] probs = new float[3];
            probs[labels[i]] = scores[i];
            ps.add(new Prediction(labels[i], three.get(labels[i]), scores[i], probs));
        }
        double expected = 3.0 / 6 * Math.abs(2.0 / 3 - 0.95) // bin 9
                + 1.0 / 6 * 0.85 // bin 8, wrong
                + 1.0 / 6 * Math.abs(1 - 0.5) // bin 5, right (0.5 is the left edge of bin 5)
                + 1.0 / 6 * 0.45; // bin 4, wrong
        assertThat(EvalReport.of(three, g, ps, 0).expectedCalibrationError()).isCloseTo(expected, within(1e-6));

        // perfectly calibrated: confidence 0.5 and half of them right
        EvalReport half = EvalReport.of(LABELS, new int[] {0, 1}, List.of(p(0, 0.5f), p(0, 0.5f)), 0);
        assertThat(half.expectedCalibrationError()).isCloseTo(0.0, within(1e-9));
        // a confidence of exactly 1 falls in the last bin, not outside
        EvalReport sure = EvalReport.of(LABELS, new int[] {1}, List.of(p(1, 1.0f)), 0);
        assertThat(sure.expectedCalibrationError()).isCloseTo(0.0, within(1e-9));
    }
}
