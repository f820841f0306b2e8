package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.GoldenCheck;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.compliance.internal.BundleClassifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

/** The default bundle loads in the shared runtime, passes its golden check there and scores like the tooling. */
class SharedRuntimeCompatibilityTest {

    @TempDir
    Path cache;

    @Test
    void sharedRuntimeAcceptsDefaultBundleAndAgreesWithToolingScorer() throws Exception {
        Path dir = DefaultModel.bundleDirectory(Precision.INT8, cache);
        ModelBundle bundle = BundleLoader.verify(dir.toUri(), dir, null);
        List<String> texts = List.of(
                "Rent for March, flat 2",
                "split it into deposits under 10k at different branches",
                "this is your bank's fraud team, move your savings to the safe account now");
        List<Prediction> tooling;
        try (BundleClassifier c = BundleClassifier.open(dir)) {
            tooling = c.predict(texts);
        }
        try (ScoringSession s = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
            assertThat(GoldenCheck.run(s)).isEmpty();
            List<Prediction> p = s.scoreTexts(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertThat(tooling.get(i).label()).isEqualTo(p.get(i).label());
                for (int k = 0; k < 5; k++) {
                    assertThat(p.get(i).probabilities()[k])
                            .isCloseTo(tooling.get(i).probabilities()[k], within(1e-4f));
                }
            }
        }
    }
}
