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
import java.util.Map;

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
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(
                        export, tmp.resolve("b1"), new ModelImport.Options("m", "1", "clear", Map.of("fraud", 0.3))))
                .hasMessageContaining("thresholds apply to multi-label exports only");

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

    @Test
    void anImportIntoASymbolicLinkIsRefused() throws Exception {
        Path dangling = Files.createSymbolicLink(tmp.resolve("dangling"), tmp.resolve("nowhere"));
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Path toEmpty = Files.createSymbolicLink(tmp.resolve("to-empty"), empty);
        for (Path link : List.of(dangling, toEmpty)) {
            assertThatThrownBy(() -> ModelImport.fromHuggingFace(export, link, options()))
                    .as(link.toString())
                    .hasMessageContaining("is a symbolic link");
        }
        assertThat(Files.exists(tmp.resolve("nowhere"))).isFalse();
        try (var entries = Files.list(empty)) {
            assertThat(entries).isEmpty();
        }
    }

    private static final String MULTI = ",\"problem_type\":\"multi_label_classification\"";
    private static final List<String> FINDINGS = List.of("sanctions", "structuring", "fraud", "market_abuse");

    /** A multi-label export: four sigmoid logits, no column for "nothing found". */
    private TinyBundles.Spec multiLabelExport() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().seed(5).logits(true).labels(FINDINGS);
        Path src = TinyBundles.write(tmp.resolve("ml-source"), spec);
        Files.copy(
                src.resolve("model.onnx"),
                export.resolve("model.onnx"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        config(128, "\"0\":\"sanctions\",\"1\":\"structuring\",\"2\":\"fraud\",\"3\":\"market_abuse\"", MULTI);
        return spec;
    }

    @Test
    void aMultiLabelExportIsScoredWithASigmoidPerLabelAndItsThresholds() throws Exception {
        TinyBundles.Spec spec = multiLabelExport();
        Path bundleDir = ModelImport.fromHuggingFace(
                export,
                tmp.resolve("ml"),
                new ModelImport.Options(
                        "tiny-ml", "1.0.0", "clear", Map.of("fraud", 0.3, "sanctions", 0.9, "structuring", 0.99)));
        ModelBundle bundle = BundleLoader.verify(bundleDir.toUri(), bundleDir, null);
        ModelManifest m = bundle.manifest();
        assertThat(m.labels()).containsExactly("clear", "sanctions", "structuring", "fraud", "market_abuse");
        assertThat(m.negativeLabel()).isEqualTo("clear");
        assertThat(m.outputs().multiLabel()).isTrue();
        assertThat(m.outputs().thresholds())
                .containsOnly(
                        Map.entry("sanctions", 0.9),
                        Map.entry("structuring", 0.99),
                        Map.entry("fraud", 0.3),
                        Map.entry("market_abuse", 0.5));
        assertThat(ModelManifest.parse(m.toJson())).isEqualTo(m);

        List<String> texts = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) {
            texts.add("text number " + i + " " + "abcdefghij".substring(0, i % 10) + " zz".repeat(i % 7));
        }
        float[] thresholds = {Float.NaN, 0.9f, 0.99f, 0.3f, 0.5f};
        java.util.Set<String> seen = new java.util.HashSet<>();
        try (ScoringSession session = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
            List<Prediction> got = session.scoreTexts(texts);
            for (int i = 0; i < texts.size(); i++) {
                double[] z = TinyBundles.referenceLogits(spec, session.encode(texts.get(i)));
                float[] p = new float[5];
                float max = 0;
                for (int j = 0; j < 4; j++) {
                    p[j + 1] = (float) (1 / (1 + Math.exp(-z[j])));
                    max = Math.max(max, p[j + 1]);
                }
                p[0] = 1 - max;
                Prediction g = got.get(i);
                assertThat(g.probabilities()).containsExactly(p, within(1e-5f));
                int expected = 0;
                for (int c = 1; c < 5; c++) {
                    if (p[c] >= thresholds[c] && (expected == 0 || p[c] > p[expected])) {
                        expected = c;
                    }
                }
                assertThat(g.labelIndex())
                        .as("text %d, scores %s", i, java.util.Arrays.toString(p))
                        .isEqualTo(expected);
                assertThat(g.score()).isEqualTo(g.probabilities()[expected]);
                seen.add(g.label());
            }
        }
        assertThat(seen)
                .as("the texts reach both a finding and nothing found")
                .contains("clear")
                .hasSizeGreaterThan(1);
    }

    @Test
    void aMultiLabelExportNeedsANegativeLabelOfItsOwnAndValidThresholds() throws Exception {
        multiLabelExport();
        assertThatThrownBy(() ->
                        ModelImport.fromHuggingFace(export, tmp.resolve("m1"), new ModelImport.Options("m", "1", null)))
                .hasMessageContaining("--negative-label");
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(
                        export, tmp.resolve("m2"), new ModelImport.Options("m", "1", "fraud")))
                .hasMessageContaining("is one of the multi-label export's labels");
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(
                        export, tmp.resolve("m3"), new ModelImport.Options("m", "1", "clear", Map.of("spam", 0.5))))
                .hasMessageContaining("'spam', which is not one of the export's labels");
        assertThat(reasonOf(() -> ModelImport.fromHuggingFace(
                        export, tmp.resolve("m4"), new ModelImport.Options("m", "1", "clear", Map.of("fraud", 1.0)))))
                .isEqualTo(BundleException.Reason.INVALID_MANIFEST);
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(
                        export, tmp.resolve("m5"), new ModelImport.Options("m", "1", "clear", Map.of("fraud", 0.0))))
                .hasMessageContaining("threshold of 'fraud' must be in (0, 1)");
    }

    @Test
    void aMultiLabelGraphThatAlreadyEndsInASigmoidIsRefused() throws Exception {
        // scores already in [0, 1]: a sigmoid over them would squeeze every score into [0.5, 0.73]
        TinyBundles.Spec spec =
                new TinyBundles.Spec().seed(5).logits(true).softmax(true).labels(FINDINGS);
        Path src = TinyBundles.write(tmp.resolve("ml-activated"), spec);
        Files.copy(
                src.resolve("model.onnx"),
                export.resolve("model.onnx"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        config(128, "\"0\":\"sanctions\",\"1\":\"structuring\",\"2\":\"fraud\",\"3\":\"market_abuse\"", MULTI);
        assertThatThrownBy(() -> ModelImport.fromHuggingFace(
                        export, tmp.resolve("m6"), new ModelImport.Options("m", "1", "clear")))
                .hasMessageContaining("ends in a Sigmoid");
    }

    @Test
    void aMultiLabelGraphWithAColumnForTheNegativeLabelIsACountMismatch() throws Exception {
        multiLabelExport();
        Path bundleDir =
                ModelImport.fromHuggingFace(export, tmp.resolve("m7"), new ModelImport.Options("m", "1", "clear"));
        // the manifest claims one finding label more than the graph has columns for
        ModelManifest m = ModelManifest.read(bundleDir);
        java.util.List<String> labels = new java.util.ArrayList<>(m.labels());
        labels.add("insider");
        java.util.Map<String, Double> t = new java.util.HashMap<>(m.outputs().thresholds());
        t.put("insider", 0.5);
        new ModelManifest(
                        m.manifestVersion(),
                        m.id(),
                        m.version(),
                        m.task(),
                        m.description(),
                        labels,
                        m.negativeLabel(),
                        m.model(),
                        m.tokenizer(),
                        m.maxSequenceLength(),
                        m.inputs(),
                        ModelManifest.Outputs.multiLabel("logits", null, t),
                        m.sha256(),
                        m.golden(),
                        m.metadata())
                .write(bundleDir);
        ModelBundle bundle = BundleLoader.verify(bundleDir.toUri(), bundleDir, null);
        assertThat(reasonOf(
                        () -> ScoringSession.open(bundle, RuntimeOptions.cpu()).close()))
                .isEqualTo(BundleException.Reason.LABEL_COUNT_MISMATCH);
    }
}
