package dev.flinkslm.models;

import static dev.flinkslm.models.BundleAssertions.reasonOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * An export in the Hugging Face / Optimum layout (model.onnx with a logits output, tokenizer.json,
 * config.json with id2label), built here from a tiny generated graph and a real tokenizer, becomes
 * a verified bundle that scores like the graph it came from.
 */
class ModelImportTest {

    @TempDir
    Path tmp;

    private Path source;
    private Path export;

    private static final String CONFIG = "{\"_name_or_path\":\"acme/tiny-bert\",\"model_type\":\"bert\","
            + "\"architectures\":[\"BertForSequenceClassification\"],\"max_position_embeddings\":%d,"
            + "\"id2label\":{%s}%s}";
    private static final String ID2LABEL =
            "\"0\":\"clear\",\"1\":\"sanctions\",\"2\":\"structuring\"," + "\"3\":\"fraud\",\"4\":\"market_abuse\"";

    @BeforeEach
    void export() throws Exception {
        source = TinyBundles.write(
                tmp.resolve("source"), new TinyBundles.Spec().seed(11).logits(true));
        export = Files.createDirectories(tmp.resolve("export"));
        Files.copy(source.resolve("model.onnx"), export.resolve("model.onnx"));
        Files.copy(source.resolve("tokenizer.json"), export.resolve("tokenizer.json"));
        config(1024, ID2LABEL, "");
    }

    private void config(int maxPositions, String id2label, String extra) throws Exception {
        Files.writeString(export.resolve("config.json"), String.format(CONFIG, maxPositions, id2label, extra));
    }

    private static ModelImport.Options options() {
        return new ModelImport.Options("tiny-bert", "1.0.0", "clear");
    }

    @Test
    void anExportBecomesAVerifiedBundleThatScoresLikeItsGraph() throws Exception {
        Path bundleDir = ModelImport.fromHuggingFace(export, tmp.resolve("bundle"), options());
        ModelBundle bundle = BundleLoader.verify(bundleDir.toUri(), bundleDir, null);
        ModelManifest m = bundle.manifest();
        assertThat(m.id()).isEqualTo("tiny-bert");
        assertThat(m.version()).isEqualTo("1.0.0");
        assertThat(m.labels()).containsExactly("clear", "sanctions", "structuring", "fraud", "market_abuse");
        assertThat(m.negativeLabel()).isEqualTo("clear");
        assertThat(m.maxSequenceLength()).isEqualTo(ModelImport.MAX_SEQUENCE_LENGTH_CAP);
        assertThat(m.outputs().readsLogits()).isTrue();
        assertThat(m.inputs().tokenTypeIds()).isEqualTo("token_type_ids");
        assertThat(m.sha256()).containsOnlyKeys("model.onnx", "tokenizer.json", "config.json");
        assertThat(m.sha256().get("model.onnx")).isEqualTo(Digests.sha256(export.resolve("model.onnx")));
        assertThat(m.metadata())
                .containsEntry("_name_or_path", "acme/tiny-bert")
                .containsEntry("model_type", "bert")
                .containsEntry("importedFrom", "huggingface");

        ModelBundle original = BundleLoader.verify(source.toUri(), source, null);
        List<String> texts = List.of("move the money before the audit", "see you at lunch", "x");
        try (ScoringSession imported = ScoringSession.open(bundle, RuntimeOptions.cpu());
                ScoringSession reference = ScoringSession.open(original, RuntimeOptions.cpu())) {
            List<Prediction> a = imported.scoreTexts(texts);
            List<Prediction> b = reference.scoreTexts(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertThat(a.get(i).label()).isEqualTo(b.get(i).label());
                assertThat(a.get(i).score()).isCloseTo(b.get(i).score(), within(1e-6f));
            }
        }
    }

    @Test
    void theConfigsLengthIsKeptWhenShorterThanTheCap() throws Exception {
        config(128, ID2LABEL, "");
        Path bundleDir = ModelImport.fromHuggingFace(export, tmp.resolve("bundle"), options());
        assertThat(BundleLoader.verify(bundleDir.toUri(), bundleDir, null)
                        .manifest()
                        .maxSequenceLength())
                .isEqualTo(128);
    }

    @Test
    void exportsTheRuntimeCannotScoreCorrectlyAreRefusedWithTheReason() throws Exception {
        config(128, ID2LABEL, ",\"problem_type\":\"multi_label_classification\"");
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(export, tmp.resolve("b1"), options()))
                .hasMessageContaining("multi-label exports");

        config(128, "\"0\":\"clear\",\"2\":\"fraud\"", "");
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(export, tmp.resolve("b2"), options()))
                .hasMessageContaining("are not 0..1");

        config(128, "\"0\":\"score\"", "");
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(export, tmp.resolve("b0"), options()))
                .hasMessageContaining("at least two");

        config(128, "\"0\":\"clear\",\"1\":\"clear\"", "");
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(export, tmp.resolve("b3"), options()))
                .hasMessageContaining("repeats a label");

        config(128, ID2LABEL, "");
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(
                        export, tmp.resolve("b4"), new ModelImport.Options("m", "1", "benign")))
                .hasMessageContaining("negative label 'benign' is not one of");

        // the labels are fine, but the graph has three outputs' worth fewer: rejected at warm-up
        config(128, "\"0\":\"clear\",\"1\":\"fraud\"", "");
        assertThat(reasonOf(() -> ModelImport.fromHuggingFace(export, tmp.resolve("b5"), options())))
                .isEqualTo(BundleException.Reason.LABEL_COUNT_MISMATCH);

        // a graph that outputs probabilities, not logits, is not a sequence-classification export
        config(128, ID2LABEL, "");
        Path probs = TinyBundles.write(tmp.resolve("probs"), new TinyBundles.Spec());
        Files.copy(
                probs.resolve("model.onnx"),
                export.resolve("model.onnx"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(reasonOf(() -> ModelImport.fromHuggingFace(export, tmp.resolve("b6"), options())))
                .isEqualTo(BundleException.Reason.INPUT_OUTPUT_MISMATCH);

        Files.delete(export.resolve("config.json"));
        assertThat(reasonOf(() -> ModelImport.fromHuggingFace(export, tmp.resolve("b7"), options())))
                .isEqualTo(BundleException.Reason.MISSING_FILE);
    }

    @Test
    void anImportNeverOverwritesABundle() throws Exception {
        Path target = Files.createDirectories(tmp.resolve("taken"));
        Files.writeString(target.resolve("manifest.json"), "{}");
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(export, target, options()))
                .hasMessageContaining("is not empty");
        assertThat(Files.readString(target.resolve("manifest.json"))).isEqualTo("{}");
    }
}
