package dev.flinkslm.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The manifest decides what runs, so it is parsed strictly and within limits. */
class ManifestParsingTest {

    @TempDir
    Path tmp;

    private String valid() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("b" + System.nanoTime()), new TinyBundles.Spec());
        return Files.readString(dir.resolve("manifest.json"));
    }

    private static BundleException parseFails(String json) {
        try {
            ModelManifest.parse(json.getBytes(StandardCharsets.UTF_8));
        } catch (BundleException e) {
            return e;
        }
        throw new AssertionError("parsed: " + json);
    }

    @Test
    void theValidManifestParses() throws Exception {
        assertThat(ModelManifest.parse(valid().getBytes(StandardCharsets.UTF_8)).id())
                .isEqualTo("tiny");
    }

    @Test
    void duplicateKeysAreRejected() throws Exception {
        String json = valid().replaceFirst("\"id\" : \"tiny\"", "\"id\" : \"tiny\", \"id\" : \"other\"");
        BundleException e = parseFails(json);
        assertThat(e.reason()).isEqualTo(BundleException.Reason.INVALID_MANIFEST);
        assertThat(e.getMessage()).contains("Duplicate field 'id'");
        // nested objects too
        String nested = valid().replaceFirst(
                        "\"probabilities\" : \"probabilities\"",
                        "\"probabilities\" : \"probabilities\", \"probabilities\" : \"logits\"");
        assertThat(parseFails(nested).reason()).isEqualTo(BundleException.Reason.INVALID_MANIFEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"1\"", "1.9", "1.0", "true", "[1]", "{}", "null", "4294967297"})
    void manifestVersionMustBeAJsonInteger(String version) throws Exception {
        String json = valid().replaceFirst("\"manifestVersion\" : 1", "\"manifestVersion\" : " + version);
        BundleException e = parseFails(json);
        assertThat(e.reason()).isEqualTo(BundleException.Reason.INVALID_MANIFEST);
        assertThat(e.getMessage()).contains("manifestVersion");
    }

    @Test
    void anotherIntegerVersionIsUnsupported() throws Exception {
        String json = valid().replaceFirst("\"manifestVersion\" : 1", "\"manifestVersion\" : 2");
        assertThat(parseFails(json).reason()).isEqualTo(BundleException.Reason.UNSUPPORTED_MANIFEST_VERSION);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "\"maxSequenceLength\" : 64|\"maxSequenceLength\" : \"64\"",
                "\"maxSequenceLength\" : 64|\"maxSequenceLength\" : 64.5",
                "\"id\" : \"tiny\"|\"id\" : 5",
                "\"version\" : \"1\"|\"version\" : 1",
                "\"version\" : \"1\"|\"version\" : true",
                "\"labels\" : [|\"labels\" : \"clear\", \"x\" : [",
                "\"id\" : \"tiny\"|\"id\" : \"tiny\", \"negativeLabl\" : \"clear\"",
                "\"id\" : \"tiny\"|\"id\" : \"tiny\", \"negativeLabel\" : \"nothing\"",
                "\"precision\" : \"fp32\"|\"precision\" : 32",
            })
    void coercionsUnknownFieldsAndBadValuesAreRejected(String replacement) throws Exception {
        String[] parts = replacement.split("\\|");
        String json = valid();
        assertThat(json).contains(parts[0]);
        assertThat(parseFails(json.replaceFirst(java.util.regex.Pattern.quote(parts[0]), parts[1]))
                        .reason())
                .isEqualTo(BundleException.Reason.INVALID_MANIFEST);
    }

    @Test
    void trailingContentIsRejected() throws Exception {
        assertThat(parseFails(valid() + " {\"id\": \"x\"}").reason())
                .isEqualTo(BundleException.Reason.INVALID_MANIFEST);
        assertThat(parseFails("[" + valid() + "]").reason()).isEqualTo(BundleException.Reason.INVALID_MANIFEST);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "../model.onnx",
                "/model.onnx",
                "a//model.onnx",
                "./model.onnx",
                "a\\\\model.onnx",
                "manifest.json",
                "sub/../model.onnx",
                ".hidden"
            })
    void fileNamesMustBePlainRelativePaths(String name) throws Exception {
        String json = valid().replaceFirst(
                        "\"sha256\" : \\{",
                        "\"sha256\" : { \"" + name.replace("\\", "\\\\") + "\" : \"" + "0".repeat(64) + "\",");
        BundleException e = parseFails(json);
        assertThat(e.reason()).isEqualTo(BundleException.Reason.INVALID_MANIFEST);
        assertThat(e.getMessage()).contains("file name");
    }

    @Test
    void aManifestOverTheSizeLimitIsRejectedBeforeParsing() throws Exception {
        String json = valid().replaceFirst(
                        "\"generated test model\"",
                        "\"" + "x".repeat((int) BundleLimits.DEFAULT_MAX_MANIFEST_BYTES) + "\"");
        assertThat(parseFails(json).reason()).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED);
        // through the loader, with a configured limit, and without reading the whole file
        Path dir = TinyBundles.write(tmp.resolve("big"), new TinyBundles.Spec());
        long size = Files.size(dir.resolve("manifest.json"));
        BundleLoader tight = BundleLoader.builder()
                .roots(ModelRoots.of(tmp.toString()))
                .limits(BundleLimits.defaults().withMaxManifestBytes(size - 1))
                .build();
        assertThatThrownBy(() -> tight.load(dir.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED))
                .hasMessageContaining("maxManifestBytes");
    }

    @Test
    void tooManyGoldenExamplesAreRejected() throws Exception {
        List<ModelManifest.GoldenExample> golden = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            golden.add(new ModelManifest.GoldenExample("text " + i, "clear"));
        }
        Path dir = TinyBundles.write(tmp.resolve("golden"), new TinyBundles.Spec().golden(golden));
        BundleLoader loader = BundleLoader.builder()
                .roots(ModelRoots.of(tmp.toString()))
                .limits(BundleLimits.defaults().withMaxManifestBytes(4L << 20))
                .build();
        assertThatThrownBy(() -> loader.load(dir.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED))
                .hasMessageContaining("20000 golden examples")
                .hasMessageContaining("1000");

        Path three = TinyBundles.write(tmp.resolve("three"), new TinyBundles.Spec().golden(golden.subList(0, 3)));
        BundleLoader two = BundleLoader.builder()
                .roots(ModelRoots.of(tmp.toString()))
                .limits(BundleLimits.defaults().withMaxGoldenExamples(2))
                .build();
        assertThat(BundleAssertions.reasonOf(() -> two.load(three.toString())))
                .isEqualTo(BundleException.Reason.LIMIT_EXCEEDED);
        BundleLoader exactly = BundleLoader.builder()
                .roots(ModelRoots.of(tmp.toString()))
                .limits(BundleLimits.defaults().withMaxGoldenExamples(3))
                .build();
        assertThat(exactly.load(three.toString()).manifest().golden()).hasSize(3);
    }

    @Test
    void limitsAreValidated() {
        assertThatThrownBy(() -> BundleLimits.defaults().withMaxManifestBytes(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxManifestBytes");
        assertThatThrownBy(() -> BundleLimits.defaults().withMaxManifestBytes(BundleLimits.MAX_FILE_BYTES + 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(BundleLimits.defaults().maxGoldenExamples()).isEqualTo(1_000);
        assertThat(BundleLimits.defaults().maxManifestBytes()).isEqualTo(1L << 20);
    }

    /** A valid manifest with its outputs replaced by {@code outputs} (JSON) and its negative label by {@code neg}. */
    private String withOutputs(String outputs, String neg) throws Exception {
        String v = valid().replaceAll("\"outputs\"\\s*:\\s*\\{[^}]*\\}", "\"outputs\" : " + outputs);
        return neg == null ? v : v.replaceFirst("\"labels\"", "\"negativeLabel\" : \"" + neg + "\", \"labels\"");
    }

    @Test
    void multiLabelManifestsAreCheckedWithAReasonNeverACrash() throws Exception {
        String t = "{\"sanctions\":0.5,\"structuring\":0.5,\"fraud\":0.5,\"market_abuse\":0.5}";
        assertThat(ModelManifest.parse(withOutputs(
                                        "{\"logits\":\"logits\",\"activation\":\"sigmoid\",\"thresholds\":" + t + "}",
                                        "clear")
                                .getBytes(StandardCharsets.UTF_8))
                        .outputs()
                        .multiLabel())
                .isTrue();
        assertThat(parseFails(withOutputs(
                                "{\"logits\":\"logits\",\"activation\":\"sigmoid\",\"thresholds\":" + t + "}", null))
                        .getMessage())
                .contains("needs a negativeLabel");
        assertThat(parseFails(withOutputs(
                                "{\"logits\":\"logits\",\"activation\":\"sigmoid\",\"thresholds\":{\"fraud\":null}}",
                                "clear"))
                        .getMessage())
                .contains("null entry");
        assertThat(parseFails(withOutputs("{\"logits\":\"logits\",\"activation\":\"sigmoid\"}", "clear"))
                        .getMessage())
                .contains("needs outputs.thresholds");
        assertThat(parseFails(withOutputs("{\"probabilities\":\"probabilities\",\"thresholds\":" + t + "}", null))
                        .getMessage())
                .contains("multi-label (sigmoid) outputs only");
        assertThat(parseFails(withOutputs("{\"logits\":\"logits\",\"activation\":\"tanh\"}", null))
                        .getMessage())
                .contains("is not softmax or sigmoid");
    }

    @Test
    void mapsAreWrittenSortedSoAManifestHasTheSameBytesInEveryJvm() throws Exception {
        ModelManifest m = ModelManifest.parse(valid().getBytes(StandardCharsets.UTF_8));
        java.util.Map<String, String> meta = new java.util.HashMap<>();
        for (String k : List.of("zeta", "alpha", "mu", "beta", "omega", "kappa")) {
            meta.put(k, k);
        }
        String json = new String(
                new ModelManifest(
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
                                m.outputs(),
                                m.sha256(),
                                m.golden(),
                                meta)
                        .toJson(),
                StandardCharsets.UTF_8);
        List<Integer> at = new ArrayList<>();
        for (String k : List.of("alpha", "beta", "kappa", "mu", "omega", "zeta")) {
            at.add(json.indexOf("\"" + k + "\""));
        }
        assertThat(at).isSorted().doesNotContain(-1);
        int sha = json.indexOf("\"sha256\"");
        assertThat(json.indexOf("\"model.onnx\" :", sha)).isLessThan(json.indexOf("\"tokenizer.json\" :", sha));
    }
}
