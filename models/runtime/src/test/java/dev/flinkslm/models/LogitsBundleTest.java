package dev.flinkslm.models;

import static dev.flinkslm.models.BundleAssertions.reasonOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A bundle whose graph outputs logits (no Softmax, as Hugging Face / Optimum sequence-classification
 * exports do) and whose manifest says so is scored as the same graph with a Softmax would be, and
 * fails closed on logits that are not finite.
 */
class LogitsBundleTest {

    @TempDir
    Path tmp;

    private static final List<String> TEXTS =
            List.of("wire the funds today", "lunch on friday?", "split the cash into smaller deposits please");

    @Test
    void logitsAreScoredLikeTheSameGraphWithASoftmax() throws Exception {
        Path withSoftmax = TinyBundles.write(tmp.resolve("p"), new TinyBundles.Spec().seed(7));
        Path withLogits = TinyBundles.write(
                tmp.resolve("l"), new TinyBundles.Spec().seed(7).logits(true));
        String manifest = Files.readString(withLogits.resolve("manifest.json"), StandardCharsets.UTF_8);
        assertThat(manifest).containsPattern("\"logits\"\\s*:\\s*\"logits\"").doesNotContain("\"probabilities\"");

        ModelBundle p = BundleLoader.verify(withSoftmax.toUri(), withSoftmax, null);
        ModelBundle l = BundleLoader.verify(withLogits.toUri(), withLogits, null);
        assertThat(l.manifest().outputs().readsLogits()).isTrue();
        try (ScoringSession a = ScoringSession.open(p, RuntimeOptions.cpu());
                ScoringSession b = ScoringSession.open(l, RuntimeOptions.cpu())) {
            List<Prediction> expected = a.scoreTexts(TEXTS);
            List<Prediction> actual = b.scoreTexts(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                assertThat(actual.get(i).label()).isEqualTo(expected.get(i).label());
                float sum = 0;
                for (int k = 0; k < expected.get(i).probabilities().length; k++) {
                    assertThat(actual.get(i).probabilities()[k])
                            .isCloseTo(expected.get(i).probabilities()[k], within(1e-5f));
                    sum += actual.get(i).probabilities()[k];
                }
                assertThat(sum).isCloseTo(1f, within(1e-5f));
            }
        }
    }

    @Test
    void softmaxOfLogitsIsStableForLargeValuesAndRefusesNonFiniteOnes() {
        float[] big = {1000f, 999f, -1000f};
        assertThat(ScoringSession.softmaxInPlace(big)).isNull();
        assertThat(big[0]).isCloseTo(0.7311f, within(1e-4f));
        assertThat(big[1]).isCloseTo(0.2689f, within(1e-4f));
        assertThat(big[2]).isCloseTo(0f, within(1e-6f));
        assertThat(ScoringSession.softmaxInPlace(new float[] {0f, Float.NaN})).contains("logit 1 is NaN");
        assertThat(ScoringSession.softmaxInPlace(new float[] {Float.POSITIVE_INFINITY, 0f}))
                .contains("logit 0 is Infinity");
    }

    @Test
    void aLogitsBundleWhoseOutputIsNotFiniteIsRejectedAtLoad() throws Exception {
        Path bad = TinyBundles.write(
                tmp.resolve("nan"), new TinyBundles.Spec().logits(true).badOutput(TinyBundles.BadOutput.NAN));
        ModelBundle bundle = BundleLoader.verify(bad.toUri(), bad, null);
        assertThat(reasonOf(
                        () -> ScoringSession.open(bundle, RuntimeOptions.cpu()).close()))
                .isEqualTo(BundleException.Reason.MODEL_OUTPUT_INVALID);
        assertThatThrownBy(
                        () -> ScoringSession.open(bundle, RuntimeOptions.cpu()).close())
                .hasMessageContaining("(logits)")
                .hasMessageContaining("logits output must be finite");
    }

    @Test
    void aManifestNamesExactlyOneScoreOutput() {
        String both = "{\"manifestVersion\":1,\"id\":\"m\",\"version\":\"1\",\"task\":\"text-classification\","
                + "\"labels\":[\"a\",\"b\"],\"model\":\"model.onnx\",\"tokenizer\":\"tokenizer.json\","
                + "\"maxSequenceLength\":16,\"inputs\":{\"inputIds\":\"i\",\"attentionMask\":\"m\"},"
                + "\"outputs\":{\"probabilities\":\"p\",\"logits\":\"l\"},"
                + "\"sha256\":{\"model.onnx\":\"00\",\"tokenizer.json\":\"00\"}}";
        assertThatThrownBy(() -> ModelManifest.parse(both.getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("outputs name both probabilities and logits");
        String none = both.replace("{\"probabilities\":\"p\",\"logits\":\"l\"}", "{\"embedding\":\"e\"}");
        assertThatThrownBy(() -> ModelManifest.parse(none.getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("outputs must name the probabilities or the logits output");
    }

    @Test
    void aGraphEndingInASoftmaxDeclaredAsLogitsIsRefusedAtWarmUp() throws Exception {
        Path p = TinyBundles.write(tmp.resolve("declared-wrong"), new TinyBundles.Spec());
        ModelManifest m = BundleLoader.verify(p.toUri(), p, null).manifest();
        ModelManifest wrong = new ModelManifest(
                m.manifestVersion(),
                m.id(),
                m.version(),
                m.task(),
                m.description(),
                m.labels(),
                m.negativeLabel(),
                m.model(),
                m.tokenizer(),
                m.maxSequenceLength(),
                m.inputs(),
                new ModelManifest.Outputs(null, "probabilities", null),
                m.sha256(),
                m.golden(),
                m.metadata());
        wrong.write(p);
        ModelBundle bundle = BundleLoader.verify(p.toUri(), p, null);
        assertThat(reasonOf(
                        () -> ScoringSession.open(bundle, RuntimeOptions.cpu()).close()))
                .isEqualTo(BundleException.Reason.MODEL_OUTPUT_INVALID);
        assertThatThrownBy(
                        () -> ScoringSession.open(bundle, RuntimeOptions.cpu()).close())
                .hasMessageContaining("already a probability distribution");
    }
}
