package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.flinkslm.models.compliance.internal.SoftmaxHead;
import dev.flinkslm.models.compliance.internal.Temperature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Random;

/**
 * The scores of a trained head mean what they say even though the labels were weighted for imbalance: on fresh
 * data drawn like the training data, of the alerts scored in [0.8, 0.9) about 80-90% are right, and alerts'
 * mean score matches their precision.
 */
class ModelTrainCalibrationTest {

    private static final int DIM = 16;

    /** {@code neg} rows of label 0 and {@code pos} of label 1, overlapping Gaussians 2 apart in two dimensions. */
    private static float[][] sample(Random r, int neg, int pos, int[] y) {
        float[][] x = new float[neg + pos][DIM];
        for (int i = 0; i < x.length; i++) {
            y[i] = i < neg ? 0 : 1;
            for (int d = 0; d < DIM; d++) {
                x[i][d] = (float) (r.nextGaussian() + (y[i] == 1 && d < 2 ? 2.0 : 0));
            }
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(ModelTrain.Head.class)
    void weightedHeadsScoreTheRealFrequencies(ModelTrain.Head kind) {
        Random r = new Random(1);
        int[] ty = new int[4200];
        float[][] tx = sample(r, 4000, 200, ty);
        List<String> labels = List.of("clear", "hit");
        SoftmaxHead h = ModelTrain.fitHead(kind, tx, ty, labels, kind == ModelTrain.Head.MLP ? 0.1 : 1e-3);
        int[] hy = new int[1050];
        float[][] hx = sample(r, 1000, 50, hy);
        double[][] hz = new double[hx.length][];
        for (int i = 0; i < hx.length; i++) {
            hz[i] = h.logits(hx[i]);
        }
        SoftmaxHead c = h.withTemperature(Temperature.fit(hz, hy));

        int[] y = new int[21000];
        float[][] x = sample(r, 20000, 1000, y);
        int band = 0;
        int bandRight = 0;
        int alerts = 0;
        int right = 0;
        double scores = 0;
        for (int i = 0; i < x.length; i++) {
            double p = c.probabilities(x[i])[1];
            if (p >= 0.8 && p < 0.9) {
                band++;
                bandRight += y[i];
            }
            if (p >= 0.5) {
                alerts++;
                right += y[i];
                scores += p;
            }
        }
        assertThat(band).isGreaterThan(20);
        assertThat((double) bandRight / band)
                .as("precision of scores in [0.8, 0.9)")
                .isBetween(0.7, 0.97);
        assertThat((double) right / alerts)
                .as("precision of alerts vs their mean score")
                .isCloseTo(scores / alerts, within(0.08));
    }

    @Test
    void aHoldoutClassifiedPerfectlyDoesNotDriveTheTemperatureToItsBound() {
        double[][] z = {{2, -2}, {-1.5, 1.5}, {3, -1}, {-2, 2}};
        double t = Temperature.fit(z, new int[] {0, 1, 0, 1});
        assertThat(t).isGreaterThan(Temperature.MIN * 2).isLessThan(1.0);
    }
}
