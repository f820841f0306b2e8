package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.EncodedInput;
import dev.flinkslm.models.GoldenCheck;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.WindowOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

/** With the real model: a finding after 128 tokens of small talk is no longer scored "clear". */
class LongTextScreeningTest {

    @TempDir
    Path cache;

    @Test
    void aFindingAtTheEndOfALongTextIsFound() throws Exception {
        Path dir = DefaultModel.bundleDirectory(Precision.INT8, cache);
        ModelBundle bundle = BundleLoader.verify(dir.toUri(), dir, null);
        String fraud = bundle.manifest().golden().stream()
                .filter(g -> g.label().equals(ComplianceLabels.FRAUD))
                .map(ModelManifest.GoldenExample::text)
                .findFirst()
                .orElseThrow();
        String text = "Thanks for the notes from this morning, the team lunch moves to Thursday at noon. ".repeat(20)
                + (fraud + " ").repeat(4);
        try (ScoringSession session = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
            GoldenCheck.require(session);
            EncodedInput first = session.encode(text, WindowOptions.single());
            assertThat(first.truncated()).isTrue();
            Prediction firstWindowOnly = session.score(first.windows()).get(0);
            assertThat(firstWindowOnly.label())
                    .as("the old, truncating behaviour")
                    .isEqualTo(ComplianceLabels.CLEAR);

            EncodedInput whole = session.encode(text, WindowOptions.defaults());
            assertThat(whole.truncated()).isFalse();
            assertThat(whole.windowCount()).isGreaterThan(2);
            Prediction combined = session.combine(session.score(whole.windows()));
            assertThat(combined.label()).isEqualTo(ComplianceLabels.FRAUD);
            assertThat(session.scoreTexts(List.of(text)).get(0).label()).isEqualTo(ComplianceLabels.FRAUD);
        }
    }
}
