package dev.flinkslm.models;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;

/** The one rule that picks the top label, for exclusive labels and for multi-label scores with thresholds. */
class PredictionRuleTest {

    private static final List<String> LABELS = List.of("clear", "fraud", "sanctions");

    @Test
    void exclusiveLabelsTakeTheArgmaxAndTheNegativeLabelLosesTies() {
        assertThat(Prediction.of(new float[] {0.2f, 0.5f, 0.3f}, LABELS, 0).label())
                .isEqualTo("fraud");
        assertThat(Prediction.of(new float[] {0.4f, 0.4f, 0.2f}, LABELS, 0).label())
                .isEqualTo("fraud");
        assertThat(Prediction.of(new float[] {0.4f, 0.2f, 0.4f}, LABELS, -1).label())
                .isEqualTo("clear");
    }

    @Test
    void multiLabelTakesTheHighestScoreAtOrAboveItsThreshold() {
        float[] t = {Float.NaN, 0.3f, 0.8f};
        // sanctions scores higher but misses its threshold; fraud reaches its own
        Prediction p = Prediction.of(new float[] {0.3f, 0.35f, 0.7f}, LABELS, 0, t);
        assertThat(p.label()).isEqualTo("fraud");
        assertThat(p.score()).isEqualTo(0.35f);
        assertThat(Prediction.of(new float[] {0.1f, 0.9f, 0.9f}, LABELS, 0, t).label())
                .as("ties between findings go to the lower index")
                .isEqualTo("fraud");
        assertThat(Prediction.of(new float[] {0.05f, 0.6f, 0.95f}, LABELS, 0, t).label())
                .isEqualTo("sanctions");
        assertThat(Prediction.of(new float[] {0.2f, 0.3f, 0.8f}, LABELS, 0, t).label())
                .as("a score equal to its threshold is a finding")
                .isEqualTo("sanctions");
        Prediction none = Prediction.of(new float[] {0.75f, 0.25f, 0.2f}, LABELS, 0, t);
        assertThat(none.label()).isEqualTo("clear");
        assertThat(none.score()).isEqualTo(0.75f);
    }
}
