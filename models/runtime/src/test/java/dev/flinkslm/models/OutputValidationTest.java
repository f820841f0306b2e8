package dev.flinkslm.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.models.TinyBundles.BadOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A model whose output is not a probability distribution never produces a prediction. */
class OutputValidationTest {

    @TempDir
    Path tmp;

    private ModelBundle bundle(TinyBundles.Spec spec) throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("b" + System.nanoTime()), spec);
        return BundleLoader.verify(dir.toUri(), dir, null);
    }

    private BundleException admissionFails(TinyBundles.Spec spec) throws Exception {
        ModelBundle bundle = bundle(spec);
        try (ScoringSession ignored = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
            throw new AssertionError("a session opened although its output is invalid");
        } catch (BundleException e) {
            return e;
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = BadOutput.class,
            names = {"NAN", "INFINITY", "NEGATIVE", "ABOVE_ONE", "UNNORMALISED"})
    void invalidProbabilitiesAreRejectedAtAdmission(BadOutput bad) throws Exception {
        BundleException e = admissionFails(new TinyBundles.Spec().badOutput(bad));
        assertThat(e.reason()).isEqualTo(BundleException.Reason.MODEL_OUTPUT_INVALID);
        assertThat(e.getMessage()).contains("warm-up").contains("row 0");
        String expected = switch (bad) {
            case NAN -> "NaN";
            case INFINITY -> "infinity";
            case NEGATIVE -> "negative";
            case ABOVE_ONE -> "greater than 1";
            case UNNORMALISED -> "sums to 0.5";
            default -> throw new AssertionError();
        };
        assertThat(e.getMessage()).contains(expected);
    }

    @Test
    void anOutputWiderThanTheLabelsIsRejectedAtAdmission() throws Exception {
        BundleException e = admissionFails(new TinyBundles.Spec().badOutput(BadOutput.WIDE));
        assertThat(e.reason()).isEqualTo(BundleException.Reason.LABEL_COUNT_MISMATCH);
        assertThat(e.getMessage()).contains("[1, 6]").contains("expected [1, 5]");
    }

    @Test
    void aModelThatOnlyBreaksOnLongInputsIsCaughtByTheLongWarmUpText() throws Exception {
        // NaN for every batch padded beyond 32 tokens: the short warm-up text alone would pass
        BundleException e = admissionFails(new TinyBundles.Spec()
                .maxSequenceLength(64)
                .badOutput(BadOutput.NAN)
                .badAboveTokens(32));
        assertThat(e.reason()).isEqualTo(BundleException.Reason.MODEL_OUTPUT_INVALID);
        assertThat(e.getMessage()).contains("NaN");
        // ...and a model that breaks only beyond 62 tokens is caught by the full-length warm-up text
        assertThat(admissionFails(new TinyBundles.Spec()
                                .maxSequenceLength(64)
                                .badOutput(BadOutput.NAN)
                                .badAboveTokens(62))
                        .reason())
                .isEqualTo(BundleException.Reason.MODEL_OUTPUT_INVALID);
    }

    @Test
    void badOutputThatAdmissionCannotSeeFailsTheBatchWithOutputInvalid() throws Exception {
        // NaN only for batches holding one particular token: warm-up passes, production must not
        TinyBundles.Spec spec = new TinyBundles.Spec().badOutput(BadOutput.NAN);
        try (ScoringSession probe = ScoringSession.open(bundle(new TinyBundles.Spec()), RuntimeOptions.cpu())) {
            spec.badOnTokenId(probe.encode("zebra").ids()[1]);
        }
        try (ScoringSession session = ScoringSession.open(bundle(spec), RuntimeOptions.cpu())) {
            assertThat(session.scoreTexts(List.of("wire the money today", "lunch at noon")))
                    .hasSize(2);
            List<EncodedText> batch = new ArrayList<>();
            for (String text : List.of("wire the money today", "a zebra crossing", "lunch at noon")) {
                batch.add(session.encode(text));
            }
            assertThatThrownBy(() -> session.score(batch))
                    .isInstanceOfSatisfying(
                            ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.OUTPUT_INVALID))
                    .hasMessageContaining("row 0 of 3")
                    .hasMessageContaining("NaN")
                    .hasMessageNotContaining("zebra");
            assertThatThrownBy(() -> session.scoreTexts(List.of("a zebra crossing")))
                    .isInstanceOfSatisfying(
                            ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.OUTPUT_INVALID));
        }
    }

    @Test
    void goldenExamplesUseTheSameValidation() throws Exception {
        long trigger;
        try (ScoringSession probe = ScoringSession.open(bundle(new TinyBundles.Spec()), RuntimeOptions.cpu())) {
            trigger = probe.encode("zebra").ids()[1];
        }
        TinyBundles.Spec spec = new TinyBundles.Spec()
                .badOutput(BadOutput.NAN)
                .badOnTokenId(trigger)
                .golden(List.of(new ModelManifest.GoldenExample("a zebra crossing", "clear")));
        try (ScoringSession session = ScoringSession.open(bundle(spec), RuntimeOptions.cpu())) {
            assertThatThrownBy(() -> GoldenCheck.require(session))
                    .isInstanceOfSatisfying(
                            BundleException.class,
                            e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.MODEL_OUTPUT_INVALID))
                    .hasMessageContaining("NaN");
        }
    }

    @Test
    void validRowsPassTheCheck() {
        assertThat(OutputCheck.problem(new float[] {0.2f, 0.3f, 0.5f})).isNull();
        assertThat(OutputCheck.problem(new float[] {1f, 0f, -0.00005f})).isNull();
        assertThat(OutputCheck.problem(new float[] {0.2f, 0.3f, 0.5f + 2e-3f})).contains("sums to");
        assertThat(OutputCheck.problem(new float[] {Float.NEGATIVE_INFINITY, 1f}))
                .contains("-infinity");
    }

    @Test
    void scoringExceptionKinds() {
        assertThat(new ScoringException("x").kind()).isEqualTo(ScoringException.Kind.INFERENCE_FAILED);
        assertThat(new ScoringException("x", new RuntimeException()).kind())
                .isEqualTo(ScoringException.Kind.INFERENCE_FAILED);
        assertThat(new ScoringException(ScoringException.Kind.OUTPUT_INVALID, "x").kind())
                .isEqualTo(ScoringException.Kind.OUTPUT_INVALID);
    }
}
