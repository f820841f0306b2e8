package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.onnx.proto.OnnxMl;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.Digests;
import dev.flinkslm.models.GoldenCheck;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelImport;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.models.compliance.internal.OnnxHeadFusion;
import dev.flinkslm.models.compliance.internal.Resources;
import dev.flinkslm.models.compliance.internal.TrainingEncoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code model train} on a label set of its own (customer-service intents, not the compliance labels), with the
 * real MiniLM encoder: bundles that validate, a calibrated head, golden examples from the holdout, a model card;
 * the same run on an encoder-only export folder; and the real MiniLM with a head in Hugging Face naming through
 * {@code model import}.
 */
class ModelTrainTest {

    @TempDir
    static Path tmp;

    private static Path data;
    private static ModelTrain.Result result;
    private static String printed;

    private static final List<String> LOST = List.of(
            "I lost my card",
            "My debit card was stolen on the bus",
            "Cannot find my credit card anywhere",
            "card missing since yesterday evening",
            "someone took my wallet with the bank card in it");
    private static final List<String> MOVED = List.of(
            "I moved to a new flat",
            "please update my home address",
            "new postal address is 12 Elm Road, Leeds",
            "we relocated to another city last week");
    private static final List<String> OTHER = List.of(
            "what are your branch opening hours",
            "how do I download a statement",
            "is there a fee for transfers abroad",
            "I would like to open a savings account",
            "the mobile app keeps crashing on login");
    private static final List<String> ENDINGS = List.of("", " please", ", what should I do", ", thanks", " asap");

    /** Intents: 25 lost-card texts, 12 address changes (the rare label), 25 other. */
    static List<String> lines() {
        List<String> out = new ArrayList<>();
        add(out, LOST, "card_lost", 25);
        add(out, MOVED, "address_change", 12);
        add(out, OTHER, "other", 25);
        return out;
    }

    private static void add(List<String> out, List<String> stems, String label, int n) {
        for (int i = 0; i < n; i++) {
            String text = stems.get(i % stems.size()) + ENDINGS.get(i / stems.size() % ENDINGS.size());
            out.add("{\"eventId\":\"e" + out.size() + "\",\"text\":\"" + text + "\",\"label\":\"" + label + "\"}");
        }
    }

    static ModelTrain.Options options(Path out) {
        return new ModelTrain.Options(data, out, "intents", "1.0.0", null, 0.2, null, "other");
    }

    @BeforeAll
    static void train() throws Exception {
        data = Files.write(tmp.resolve("intents.jsonl"), lines());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        result = ModelTrain.run(options(tmp.resolve("out")), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        printed = bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theGridChoosesTheBestValidationScoreAndTheChosenValueAloneGivesTheSameHead() throws Exception {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("weight decay=(\\S+) validation macro-F1=(\\S+)")
                .matcher(printed);
        double best = -1;
        double bestDecay = Double.NaN;
        int lines = 0;
        while (m.find()) {
            lines++;
            double f1 = Double.parseDouble(m.group(2));
            if (f1 >= best) { // ties go to the stronger penalty, the later one in the grid
                best = f1;
                bestDecay = Double.parseDouble(m.group(1));
            }
        }
        assertThat(lines).isEqualTo(ModelTrain.WEIGHT_DECAY_GRID.length);
        assertThat(result.l2()).isCloseTo(bestDecay, org.assertj.core.api.Assertions.within(1e-9));

        ModelTrain.Result again = ModelTrain.run(
                options(tmp.resolve("out-chosen")),
                new PrintStream(new ByteArrayOutputStream()),
                new double[] {result.l2()});
        assertThat(again.headJson()).isEqualTo(result.headJson());
    }

    @Test
    void trainsVerifiedBundlesForItsOwnLabelsWithGoldenExamplesFromTheHoldout() throws Exception {
        assertThat(result.bundles()).containsOnlyKeys("int8", "fp32");
        Set<String> holdout = new java.util.HashSet<>();
        for (Map.Entry<String, Path> e : result.bundles().entrySet()) {
            ModelBundle b = BundleLoader.verify(e.getValue().toUri(), e.getValue(), null);
            ModelManifest m = b.manifest();
            assertThat(m.id()).isEqualTo("intents");
            assertThat(m.version()).isEqualTo("1.0.0-" + e.getKey());
            assertThat(m.labels()).containsExactly("other", "address_change", "card_lost");
            assertThat(m.negativeLabel()).isEqualTo("other");
            assertThat(m.metadata())
                    .containsEntry("encoder", TrainingEncoder.BUILT_IN)
                    .containsEntry("precision", e.getKey())
                    .containsKeys("temperature", "dataSha256");
            assertThat(m.sha256()).containsKeys("model.onnx", "tokenizer.json", ModelTrain.MODEL_CARD);
            assertThat(m.golden().stream()
                            .map(ModelManifest.GoldenExample::label)
                            .collect(Collectors.toSet()))
                    .as("golden examples of every label")
                    .containsExactlyInAnyOrder("other", "address_change", "card_lost");
            m.golden().forEach(g -> holdout.add(g.text()));
            try (ScoringSession s = ScoringSession.open(b, RuntimeOptions.cpu())) {
                assertThat(GoldenCheck.run(s)).isEmpty();
            }
        }
        // every golden text is a text of the data file
        String file = Files.readString(data);
        holdout.forEach(t -> assertThat(file).contains("\"" + t + "\""));
        result.holdout().values().forEach(r -> assertThat(r.macroF1()).isGreaterThan(0.9));
        assertThat(result.holdout().get("fp32").total()).isEqualTo(5 + 2 + 5);
        assertThat(result.temperature()).isBetween(0.05, 20.0);
        assertThat(result.agreement()).isGreaterThan(0.9);
    }

    @Test
    void theModelCardStatesTheDataTheParametersAndTheHoldoutFigures() throws Exception {
        String card = Files.readString(result.modelCard());
        assertThat(card)
                .contains(result.bundles().keySet().stream()
                        .map(t -> "1.0.0-" + t)
                        .toList())
                .contains("| `address_change` | 12 | 10 | 2 |")
                .contains("| `card_lost` | 25 | 20 | 5 |")
                .contains("all-MiniLM-L6-v2")
                .contains(String.format(java.util.Locale.ROOT, "Temperature %.4f", result.temperature()))
                .contains(result.holdout().get("int8").summaryLine())
                .contains("Precision of alerts by threshold");
        String sha = BundleLoader.verify(
                        result.bundles().get("int8").toUri(), result.bundles().get("int8"), null)
                .manifest()
                .metadata()
                .get("dataSha256");
        assertThat(card).contains(sha);
        // the card inside each bundle is the one next to them (and covered by its checksums)
        for (Path b : result.bundles().values()) {
            assertThat(Files.readString(b.resolve(ModelTrain.MODEL_CARD))).isEqualTo(card);
        }
        assertThat(printed).contains("holdout int8: macro_f1=").doesNotContain("Elm Road");
    }

    @Test
    void theSameDataGivesTheSameBundles() throws Exception {
        ModelTrain.Result again =
                ModelTrain.run(options(tmp.resolve("again")), new PrintStream(new ByteArrayOutputStream()));
        for (String tag : List.of("int8", "fp32")) {
            for (String f : List.of("model.onnx", "manifest.json")) {
                assertThat(Digests.sha256(again.bundles().get(tag).resolve(f)))
                        .as(tag + "/" + f)
                        .isEqualTo(Digests.sha256(result.bundles().get(tag).resolve(f)));
            }
        }
    }

    @Test
    void anEncoderOnlyExportTrainsTheSameHeadIntoOneBundle() throws Exception {
        Path encoder = Files.createDirectories(tmp.resolve("minilm-export"));
        Files.write(encoder.resolve("model.onnx"), Precision.FP32.encoderGraph());
        Files.write(encoder.resolve("tokenizer.json"), Resources.read(Precision.FP32.tokenizerResource()));
        Files.writeString(
                encoder.resolve("config.json"), "{\"_name_or_path\":\"sentence-transformers/all-MiniLM-L6-v2\"}");
        ModelTrain.Result r = ModelTrain.run(
                new ModelTrain.Options(
                        data, tmp.resolve("from-export"), "intents", "2.0.0", encoder, 0.2, null, "other"),
                new PrintStream(new ByteArrayOutputStream()));
        assertThat(r.bundles()).containsOnlyKeys("model");
        assertThat(r.versions()).containsEntry("model", "2.0.0");
        ModelBundle b = BundleLoader.verify(
                r.bundles().get("model").toUri(), r.bundles().get("model"), null);
        assertThat(b.manifest().metadata()).containsEntry("encoder", "sentence-transformers/all-MiniLM-L6-v2");
        // the export is the built-in fp32 graph: same embeddings, same head, same scores
        List<String> texts = List.of("my card is gone", "I have a new address", "when do you open");
        try (ScoringSession a = ScoringSession.open(b, RuntimeOptions.cpu());
                ScoringSession ref = ScoringSession.open(
                        BundleLoader.verify(
                                result.bundles().get("fp32").toUri(),
                                result.bundles().get("fp32"),
                                null),
                        RuntimeOptions.cpu())) {
            List<Prediction> x = a.scoreTexts(texts);
            List<Prediction> y = ref.scoreTexts(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertThat(x.get(i).probabilities()).containsExactly(y.get(i).probabilities(), within(1e-5f));
            }
            assertThat(x.stream().map(Prediction::label)).containsExactly("card_lost", "address_change", "other");
        }
    }

    @Test
    void theRealEncoderWithAHeadInHuggingFaceNamingImportsAndScoresLikeTheTrainedBundle() throws Exception {
        // a sequence-classification export of the trained model: the fused graph up to the logits, named as
        // Optimum names them, with config.json and id2label
        Path fp32 = result.bundles().get("fp32");
        OnnxMl.ModelProto fused = OnnxHeadFusion.parse(Files.readAllBytes(fp32.resolve("model.onnx")));
        OnnxMl.GraphProto.Builder g = fused.getGraph().toBuilder();
        for (int i = g.getNodeCount() - 1; i >= 0; i--) {
            if (g.getNode(i).getOutputList().contains(OnnxHeadFusion.PROBABILITIES)) {
                g.removeNode(i);
            }
        }
        for (int i = 0; i < g.getNodeCount(); i++) {
            OnnxMl.NodeProto n = g.getNode(i);
            if (n.getOutputList().contains("slm_head/logits")) {
                g.setNode(i, n.toBuilder().setOutput(0, "logits").build());
            }
        }
        OnnxMl.ValueInfoProto probs = g.getOutput(0);
        g.clearOutput().addOutput(probs.toBuilder().setName("logits"));
        Path export = Files.createDirectories(tmp.resolve("hf-export"));
        Files.write(
                export.resolve("model.onnx"),
                fused.toBuilder().setGraph(g).build().toByteArray());
        Files.copy(fp32.resolve("tokenizer.json"), export.resolve("tokenizer.json"));
        Files.writeString(
                export.resolve("config.json"),
                "{\"_name_or_path\":\"acme/intents-minilm\",\"model_type\":\"bert\",\"architectures\":"
                        + "[\"BertForSequenceClassification\"],\"max_position_embeddings\":512,\"id2label\":"
                        + "{\"0\":\"other\",\"1\":\"address_change\",\"2\":\"card_lost\"}}");
        Path imported = ModelImport.fromHuggingFace(
                export, tmp.resolve("imported"), new ModelImport.Options("intents-hf", "1.0.0", "other"));
        ModelBundle b = BundleLoader.verify(imported.toUri(), imported, null);
        assertThat(b.manifest().outputs().readsLogits()).isTrue();
        List<String> texts = List.of("lost my card on the train", "please change my address", "opening hours?");
        try (ScoringSession a = ScoringSession.open(b, RuntimeOptions.cpu());
                ScoringSession ref =
                        ScoringSession.open(BundleLoader.verify(fp32.toUri(), fp32, null), RuntimeOptions.cpu())) {
            List<Prediction> x = a.scoreTexts(texts);
            List<Prediction> y = ref.scoreTexts(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertThat(x.get(i).label()).isEqualTo(y.get(i).label());
                assertThat(x.get(i).probabilities()).containsExactly(y.get(i).probabilities(), within(1e-5f));
            }
        }
    }

    @Test
    void textsWithConflictingLabelsAreTrainedOnButNeverHeldOut() throws Exception {
        List<String> all = new ArrayList<>(lines());
        List<String> conflicting = List.of("please call me back", "is my money safe", "I need help with my account");
        for (String t : conflicting) {
            all.add("{\"text\":\"" + t + "\",\"label\":\"other\"}");
            all.add("{\"text\":\"" + t + "\",\"label\":\"card_lost\"}");
        }
        Path file = Files.write(tmp.resolve("conflicts.jsonl"), all);
        for (double holdout : new double[] {0.2, 0.5}) {
            ModelTrain.Data d = ModelTrain.Data.read(
                    new ModelTrain.Options(file, tmp.resolve("unused"), "m", "1", null, holdout, null, "other"));
            assertThat(d.conflicting).isEqualTo(3);
            for (int i = 0; i < d.texts.size(); i++) {
                if (conflicting.contains(d.texts.get(i))) {
                    assertThat(d.split[i]).as(d.texts.get(i)).isNotEqualTo("holdout");
                }
            }
            // every other text of a label is on one side only, and each label has a holdout
            for (int c = 0; c < d.labels.size(); c++) {
                assertThat(d.count(c, "holdout")).isPositive();
            }
        }
    }

    @Test
    void badDataAndOptionsAreRefusedWithWhatToFix() throws Exception {
        Path few = Files.write(tmp.resolve("few.jsonl"), lines().subList(0, 25 + 9));
        assertThatThrownBy(() -> ModelTrain.run(
                        new ModelTrain.Options(few, tmp.resolve("x1"), "m", "1", null, 0.2, null, null), System.out))
                .hasMessageContaining("address_change (9)")
                .hasMessageContaining("fewer than 10");
        assertThatThrownBy(() -> ModelTrain.run(
                        new ModelTrain.Options(
                                data, tmp.resolve("x2"), "m", "1", null, 0.2, List.of("other", "card_lost"), "other"),
                        System.out))
                .hasMessageContaining("[address_change]")
                .hasMessageContaining("--labels");
        assertThatThrownBy(() -> ModelTrain.run(
                        new ModelTrain.Options(data, tmp.resolve("x3"), "m", "1", null, 0.2, null, "clear"),
                        System.out))
                .hasMessageContaining("negative label 'clear' is not one of the labels");
        assertThatThrownBy(() -> new ModelTrain.Options(data, tmp.resolve("x4"), "m", "1", null, 0.7, null, null))
                .hasMessageContaining("holdout must be in (0, 0.5]");
        assertThatThrownBy(() ->
                        ModelTrain.run(options(result.bundles().get("int8").getParent()), System.out))
                .hasMessageContaining("is not empty");
        Path bad = Files.write(tmp.resolve("bad.jsonl"), List.of("{\"text\":\"hello\"}"));
        assertThatThrownBy(() -> ModelTrain.run(
                        new ModelTrain.Options(bad, tmp.resolve("x5"), "m", "1", null, 0.2, null, null), System.out))
                .hasMessageContaining("bad.jsonl:1")
                .hasMessageContaining("\"label\"");
        // a classifier export is not an encoder
        Path classifier = TinyBundles.write(tmp.resolve("tiny"), new TinyBundles.Spec().logits(true));
        assertThatThrownBy(() -> ModelTrain.run(
                        new ModelTrain.Options(data, tmp.resolve("x6"), "m", "1", classifier, 0.2, null, null),
                        System.out))
                .hasMessageContaining("use model import instead");
        assertThat(tmp.resolve("x1")).doesNotExist();
        assertThat(tmp.resolve("x6")).doesNotExist();
        // a run that fails after creating its output's parents removes them and its work directory again
        assertThatThrownBy(() -> ModelTrain.run(
                        new ModelTrain.Options(
                                data, tmp.resolve("nested/a/b/out"), "m", "1", classifier, 0.2, null, null),
                        System.out))
                .hasMessageContaining("use model import instead");
        assertThat(tmp.resolve("nested")).doesNotExist();
        try (var left = Files.list(tmp)) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".tmp-"));
        }
        assertThatThrownBy(() ->
                        new ModelTrain.Options(data, tmp.resolve("x7"), "bad id/../x", "1", null, 0.2, null, null))
                .hasMessageContaining("the bundle id 'bad id/../x' must be");
        // ten rows but only two distinct texts are not ten examples
        List<String> twice = new ArrayList<>(lines().subList(25, 37 + 25));
        for (int i = 0; i < 10; i++) {
            twice.add("{\"text\":\"same " + (i % 2) + "\",\"label\":\"rare\"}");
        }
        Path repeated = Files.write(tmp.resolve("repeated.jsonl"), twice);
        assertThatThrownBy(() -> ModelTrain.run(
                        new ModelTrain.Options(repeated, tmp.resolve("x8"), "m", "1", null, 0.2, null, null),
                        System.out))
                .hasMessageContaining("rare (2)")
                .hasMessageContaining("distinct texts");
    }
}
