package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.operators.ScoringOptions;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/** The screening job supplies the model the operator library leaves to its user. */
class ScreeningConfigDefaultsTest {

    @Test
    void theScreeningJobScoresWithTheBuiltInModelUnlessToldOtherwise() {
        assertThat(ScoringOptions.MODEL.hasDefaultValue()).isFalse();
        assertThat(ScreeningConfig.builder().build().options().get(ScoringOptions.MODEL))
                .isEqualTo("default:int8");
        Configuration own = new Configuration();
        own.set(ScoringOptions.MODEL, "file:///opt/models/fraud/7/");
        assertThat(ScreeningConfig.builder().options(own).build().options().get(ScoringOptions.MODEL))
                .isEqualTo("file:///opt/models/fraud/7/");
    }
}
