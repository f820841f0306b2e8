package dev.flinkslm.models;

import static dev.flinkslm.models.BundleAssertions.reasonOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Bundles that cannot be trusted are refused, and model output that is not a distribution never yields a label: hostile bundles, URIs, manifests, archives, caches and outputs. */
public class FailClosedBundlesTest {

    private static final List<String> LABELS = List.of("clear", "sanctions", "structuring", "fraud", "market_abuse");

    @TempDir
    Path tmp;

    private BundleLoader loader() {
        return BundleLoader.builder()
                .roots(ModelRoots.of(tmp.toString()))
                .cacheDirectory(tmp.resolve("cache"))
                .build();
    }

    // ------------------------------------------------------------------ graph helpers

    private static OnnxMl.TensorProto floats(String name, long[] dims, float... values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putFloat(v);
        }
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder()
                .setName(name)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber())
                .setRawData(ByteString.copyFrom(buf.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static OnnxMl.TensorProto int64(String name, long value) {
        ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
        return OnnxMl.TensorProto.newBuilder()
                .setName(name)
                .setDataType(OnnxMl.TensorProto.DataType.INT64.getNumber())
                .setRawData(ByteString.copyFrom(buf.array()))
                .build();
    }

    private static OnnxMl.NodeProto node(String op, String out, String... in) {
        OnnxMl.NodeProto.Builder b = OnnxMl.NodeProto.newBuilder()
                .setOpType(op)
                .setName("probe_" + out)
                .addOutput(out);
        for (String i : in) {
            b.addInput(i);
        }
        return b.build();
    }

    /** The tiny graph with its 'probabilities' renamed to 'inner', so that probe nodes can compute the real output. */
    private static OnnxMl.GraphProto.Builder innerGraph(TinyBundles.Spec spec) {
        OnnxMl.GraphProto.Builder g = TinyBundles.graph(spec).getGraph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            OnnxMl.NodeProto n = g.getNode(i);
            for (int o = 0; o < n.getOutputCount(); o++) {
                if (n.getOutput(o).equals("probabilities")) {
                    g.setNode(i, n.toBuilder().setOutput(o, "inner"));
                }
            }
        }
        return g;
    }

    private static byte[] model(OnnxMl.GraphProto.Builder g) {
        return OnnxMl.ModelProto.newBuilder()
                .setIrVersion(7)
                .setProducerName("flink-slm-tests")
                .addOpsetImport(
                        OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(11))
                .setGraph(g)
                .build()
                .toByteArray();
    }

    /** probabilities = inner * 0 + row: the same constant row for every input. */
    public static byte[] constantRowGraph(TinyBundles.Spec spec, float... row) {
        OnnxMl.GraphProto.Builder g = innerGraph(spec);
        g.addInitializer(floats("probe_zero", new long[] {}, 0f));
        g.addInitializer(floats("probe_row", new long[] {row.length}, row));
        g.addNode(node("Mul", "probe_z", "inner", "probe_zero"));
        g.addNode(node("Add", "probabilities", "probe_z", "probe_row"));
        return model(g);
    }

    /** NaN when the padded batch width W satisfies low < W < high; valid otherwise. */
    public static byte[] nanForWidthsBetween(TinyBundles.Spec spec, long low, long high) {
        OnnxMl.GraphProto.Builder g = innerGraph(spec);
        g.addInitializer(floats("probe_nan", new long[] {}, Float.NaN));
        g.addInitializer(int64("probe_axis1", 1));
        g.addInitializer(int64("probe_low", low));
        g.addInitializer(int64("probe_high", high));
        g.addNode(node("Shape", "probe_shape", "input_ids"));
        g.addNode(OnnxMl.NodeProto.newBuilder(node("Gather", "probe_w", "probe_shape", "probe_axis1"))
                .addAttribute(OnnxMl.AttributeProto.newBuilder()
                        .setName("axis")
                        .setType(OnnxMl.AttributeProto.AttributeType.INT)
                        .setI(0))
                .build());
        g.addNode(node("Greater", "probe_gt", "probe_w", "probe_low"));
        g.addNode(node("Less", "probe_lt", "probe_w", "probe_high"));
        g.addNode(node("And", "probe_in", "probe_gt", "probe_lt"));
        g.addNode(node("Mul", "probe_bad", "inner", "probe_nan"));
        g.addNode(node("Where", "probabilities", "probe_in", "probe_bad", "inner"));
        return model(g);
    }

    private static void replaceGraph(Path dir, TinyBundles.Spec spec, byte[] graph) throws IOException {
        Files.write(dir.resolve("model.onnx"), graph);
        TinyBundles.writeManifest(dir, spec);
    }

    // ------------------------------------------------------------------ every output row checked

    /**
     * OutputCheck tolerates values up to 1e-4 outside
     * [0, 1] and passes them through unclamped, so a prediction can carry score 1.00005 and a negative
     * probability. Downstream {@code ScoredEvent.of} rejects exactly such values with
     * IllegalArgumentException, so in the screening job such a row fails the job (restart loop) instead
     * of being dead-lettered. */
    @Test
    void toleratedOutOfRangeValuesAreNeverClampedAndReachThePrediction() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().id("tolerance").negativeLabel("clear");
        Path dir = TinyBundles.write(tmp.resolve("tol"), spec);
        replaceGraph(dir, spec, constantRowGraph(spec, 1.00005f, 0f, 0f, 0f, -0.00005f));
        try (ScoringSession s = ScoringSession.open(loader().load(dir.toString()), RuntimeOptions.cpu())) {
            Prediction p = s.scoreTexts(List.of("wire the money")).get(0);
            assertThat(p.score()).as("score must be a probability").isBetween(0f, 1f);
            for (float v : p.probabilities()) {
                assertThat(v).as("every probability in [0,1]").isBetween(0f, 1f);
            }
        }
    }

    /** at model level: an exact tie between clear and a finding goes to the finding (negative label loses ties). */
    @Test
    void anExactTieGoesToTheFindingInTheSession() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().id("tie").negativeLabel("clear");
        Path dir = TinyBundles.write(tmp.resolve("tie"), spec);
        replaceGraph(dir, spec, constantRowGraph(spec, 0.5f, 0.5f, 0f, 0f, 0f));
        try (ScoringSession s = ScoringSession.open(loader().load(dir.toString()), RuntimeOptions.cpu())) {
            assertThat(s.scoreTexts(List.of("hello")).get(0).label()).isEqualTo("sanctions");
        }
    }

    /**
     * The warm-up scores its texts one by one as well as together, so a model that answers NaN only
     * for inputs between 32 and maxSequenceLength tokens is refused at admission, not in production.
     */
    @Test
    void aModelBadOnlyForMidWidthsIsRefusedAtWarmUp() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().id("midwidth").negativeLabel("clear");
        Path dir = TinyBundles.write(tmp.resolve("mid"), spec);
        replaceGraph(dir, spec, nanForWidthsBetween(spec, 32, spec.maxSequenceLength));
        assertThat(reasonOf(() -> ScoringSession.open(loader().load(dir.toString()), RuntimeOptions.cpu())))
                .isEqualTo(BundleException.Reason.MODEL_OUTPUT_INVALID);
    }

    // ------------------------------------------------------------------ long text screened whole

    /**
     * Without a negativeLabel every label aggregates by its maximum, so the finding's probability is
     * kept in the aggregate (0.9 for structuring) even when 'clear' has the highest aggregate; the
     * screening job's alert policy judges every label on its own probability and alerts on it (see
     * AlertPolicyTest). Screening bundles declare negativeLabel (the built-in one does).
     */
    @Test
    void withoutNegativeLabelAFindingKeepsItsProbabilityInTheAggregate() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().id("noneg"); // negativeLabel null: allowed by the manifest
        Path dir = TinyBundles.write(tmp.resolve("noneg"), spec);
        try (ScoringSession s = ScoringSession.open(loader().load(dir.toString()), RuntimeOptions.cpu())) {
            Prediction benign = new Prediction(0, "clear", 0.99f, new float[] {0.99f, 0f, 0.01f, 0f, 0f});
            Prediction finding = new Prediction(2, "structuring", 0.9f, new float[] {0.1f, 0f, 0.9f, 0f, 0f});
            assertThat(s.combine(List.of(finding)).label()).isEqualTo("structuring");
            Prediction both = s.combine(List.of(benign, finding));
            assertThat(both.probabilities()[2]).isEqualTo(0.9f);
            assertThat(both.probabilities()[0]).isEqualTo(0.99f);
        }
        Path withNegative = TinyBundles.write(
                tmp.resolve("neg"), new TinyBundles.Spec().id("neg").negativeLabel("clear"));
        try (ScoringSession s = ScoringSession.open(loader().load(withNegative.toString()), RuntimeOptions.cpu())) {
            Prediction benign = new Prediction(0, "clear", 0.99f, new float[] {0.99f, 0f, 0.01f, 0f, 0f});
            Prediction finding = new Prediction(2, "structuring", 0.9f, new float[] {0.1f, 0f, 0.9f, 0f, 0f});
            assertThat(s.combine(List.of(benign, finding)).label()).isEqualTo("structuring");
        }
    }

    // ------------------------------------------------------------------ what was verified is what runs

    /** the tokenizer is created from verified bytes; a junk tokenizer.json swapped in after load is never read. */
    @Test
    void aTokenizerSwappedAfterVerificationIsNeverUsed() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().id("tok");
        Path dir = TinyBundles.write(tmp.resolve("tok"), spec);
        ModelBundle bundle = loader().load(dir.toString());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"not\":\"a tokenizer\"}");
        Files.writeString(dir.resolve("manifest.json"), "{}"); // the manifest too
        try (ScoringSession s = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
            EncodedText t = s.encode("wire the money to the usual account");
            assertThat(s.score(List.of(t)).get(0).probabilities())
                    .containsExactly(TinyBundles.reference(spec, t), within(1e-5f));
        }
        assertThat(reasonOf(
                        () -> ScoringSession.open(bundle, RuntimeOptions.cpu()).close()))
                .isIn(BundleException.Reason.CHECKSUM_MISMATCH, BundleException.Reason.INVALID_MANIFEST);
    }

    /** a bundle directory that is a symlink (inside a root) to a directory outside every root is refused. */
    @Test
    void aBundleDirectoryLinkedOutOfTheRootIsRefused() throws Exception {
        Path outside = Files.createTempDirectory("failclosed-outside");
        try {
            TinyBundles.write(outside.resolve("b"), new TinyBundles.Spec());
            Path root = Files.createDirectories(tmp.resolve("root"));
            Files.createSymbolicLink(root.resolve("b"), outside.resolve("b"));
            BundleLoader l = BundleLoader.builder()
                    .roots(ModelRoots.of(root.toString()))
                    .cacheDirectory(tmp.resolve("cache"))
                    .build();
            assertThat(reasonOf(() -> l.load(root.resolve("b").toString())))
                    .isIn(BundleException.Reason.URI_NOT_ALLOWED, BundleException.Reason.FILE_OUTSIDE_BUNDLE);
            // a folder inside the bundle that is a link out of it
            Path inRoot = TinyBundles.write(root.resolve("c"), new TinyBundles.Spec());
            Files.createDirectories(outside.resolve("onnx"));
            Files.move(inRoot.resolve("model.onnx"), outside.resolve("onnx").resolve("model.onnx"));
            Files.createSymbolicLink(inRoot.resolve("onnx"), outside.resolve("onnx"));
            rewriteManifest(inRoot, "onnx/model.onnx", outside.resolve("onnx").resolve("model.onnx"));
            assertThat(reasonOf(() -> l.load(inRoot.toString())))
                    .isIn(BundleException.Reason.UNEXPECTED_FILE, BundleException.Reason.FILE_OUTSIDE_BUNDLE);
        } finally {
            dev.flinkslm.models.FileTrees.deleteRecursively(outside);
        }
    }

    private static void rewriteManifest(Path dir, String modelName, Path modelFile) throws Exception {
        ModelManifest m = ModelManifest.read(dir);
        Map<String, String> sha = new LinkedHashMap<>();
        sha.put(modelName, Digests.sha256(modelFile));
        sha.put("tokenizer.json", m.sha256().get("tokenizer.json"));
        new ModelManifest(
                        m.manifestVersion(),
                        m.id(),
                        m.version(),
                        m.task(),
                        m.description(),
                        m.labels(),
                        m.negativeLabel(),
                        modelName,
                        m.tokenizer(),
                        m.maxSequenceLength(),
                        m.inputs(),
                        m.outputs(),
                        sha,
                        m.golden(),
                        m.metadata())
                .write(dir);
    }

    /**
     * HOLDS? External data hidden inside a control-flow subgraph (If.then_branch initializer) must be
     * refused like graph-level external data.
     */
    @Test
    void externalDataInsideAnIfSubgraphIsRefused() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().id("sub");
        Path dir = TinyBundles.write(tmp.resolve("sub"), spec);
        OnnxMl.GraphProto.Builder g = TinyBundles.graph(spec).getGraph().toBuilder();
        OnnxMl.TensorProto external = OnnxMl.TensorProto.newBuilder()
                .setName("ext")
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber())
                .addDims(1)
                .setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(OnnxMl.StringStringEntryProto.newBuilder()
                        .setKey("location")
                        .setValue("w.bin"))
                .build();
        OnnxMl.GraphProto branch = OnnxMl.GraphProto.newBuilder()
                .setName("then")
                .addInitializer(external)
                .addNode(node("Identity", "then_out", "ext"))
                .addOutput(OnnxMl.ValueInfoProto.newBuilder().setName("then_out"))
                .build();
        g.addInitializer(OnnxMl.TensorProto.newBuilder()
                .setName("cond")
                .setDataType(9)
                .addInt32Data(1)
                .build());
        g.addNode(OnnxMl.NodeProto.newBuilder(node("If", "if_out", "cond"))
                .addAttribute(OnnxMl.AttributeProto.newBuilder()
                        .setName("then_branch")
                        .setType(OnnxMl.AttributeProto.AttributeType.GRAPH)
                        .setG(branch))
                .addAttribute(OnnxMl.AttributeProto.newBuilder()
                        .setName("else_branch")
                        .setType(OnnxMl.AttributeProto.AttributeType.GRAPH)
                        .setG(branch))
                .build());
        Files.write(dir.resolve("model.onnx"), model(g));
        TinyBundles.writeManifest(dir, spec);
        assertThat(reasonOf(() -> loader().load(dir.toString()))).isEqualTo(BundleException.Reason.UNSUPPORTED_GRAPH);
    }

    /**
     * An unpacked archive is looked up in the cache by the archive's
     * digest and, if that folder exists, used as it is: the folder's content is verified only against the
     * manifest found IN that folder. Whoever can write the cache directory (FLINK_SLM_CACHE_DIR, e.g. a
     * shared /tmp path) plants archives/&lt;sha256 of the zip&gt;/ with any self-consistent bundle and that
     * bundle loads for the zip URI. */
    @Test
    void aPlantedCacheFolderIsServedForAZipUri() throws Exception {
        Path real = TinyBundles.write(
                tmp.resolve("real"), new TinyBundles.Spec().id("real").seed(7));
        Path zip = tmp.resolve("real.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String name : new String[] {"manifest.json", "model.onnx", "tokenizer.json"}) {
                out.putNextEntry(new ZipEntry(name));
                Files.copy(real.resolve(name), out);
                out.closeEntry();
            }
        }
        // an attacker with write access to the cache, knowing the (public) archive
        TinyBundles.write(
                tmp.resolve("cache").resolve("archives").resolve(Digests.sha256(zip)),
                new TinyBundles.Spec().id("planted").seed(99));
        ModelBundle loaded = loader().load(zip.toString());
        assertThat(loaded.id()).as("the zip holds bundle 'real'").isEqualTo("real");
    }

    /**
     * The cache holds the built-in bundle (and unpacked or fetched copies) and is trusted like the job
     * jar: a cache root other users can write is refused, so only the user running the job could plant
     * a bundle there (docs/security.md).
     */
    @Test
    void aCacheRootOthersCanWriteIsRefused() throws Exception {
        Path cache = tmp.resolve("shared-cache");
        Files.createDirectories(cache);
        Files.setPosixFilePermissions(cache, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Path real = TinyBundles.write(tmp.resolve("real3"), new TinyBundles.Spec().id("real"));
        Path zip = tmp.resolve("real3.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String name : new String[] {"manifest.json", "model.onnx", "tokenizer.json"}) {
                out.putNextEntry(new ZipEntry(name));
                Files.copy(real.resolve(name), out);
                out.closeEntry();
            }
        }
        BundleLoader shared = BundleLoader.builder()
                .roots(ModelRoots.allowAll())
                .cacheDirectory(cache)
                .build();
        assertThat(reasonOf(() -> shared.load(zip.toString()))).isEqualTo(BundleException.Reason.UNRESOLVABLE_URI);
        Files.setPosixFilePermissions(cache, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        assertThat(shared.load(zip.toString()).id()).isEqualTo("real");
    }

    // ------------------------------------------------------------------ locations

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "s3://bank-models/prod/%2e%2e/secret/x, INVALID_URI",
        "s3://bank-models/prod/%2E%2E/secret/x, INVALID_URI",
        "s3://bank-models/prod/.%2e/secret/x, INVALID_URI",
        "s3://bank-models/prod/%252e%252e/secret/x, INVALID_URI",
        "s3://bank-models/prod/..%2fsecret/x, INVALID_URI",
        "s3://bank-models/prod/..%5csecret/x, INVALID_URI",
        "s3://bank-models/prod/x%00y, INVALID_URI",
        "s3://bank-models/prod/x%0ay, INVALID_URI",
        "s3://bank-models/prod/../secret/x, URI_NOT_ALLOWED",
        "s3://bank-models/prod/a/../../secret/x, URI_NOT_ALLOWED",
        "s3://bank-models/prod;p=../../secret, URI_NOT_ALLOWED",
        "s3://bank-models/../../x, INVALID_URI",
        "s3://bank-models/PROD/x, URI_NOT_ALLOWED",
        "s3://bank-models/production/x, URI_NOT_ALLOWED",
        "s3://bank-models:9000/prod/x, URI_NOT_ALLOWED",
        "s3://user:pw@bank-models/prod/x, INVALID_URI",
        "s3://bank-models/prod/x?versionId=1, INVALID_URI",
        "s3://bank-models/prod/x#f, INVALID_URI",
        "s3:bank-models/prod/x, INVALID_URI",
        "file://host/opt/x, INVALID_URI",
        "file://localhost/opt/x, INVALID_URI",
        "file:///opt/models/%2e%2e/etc, INVALID_URI",
        "jar:file:///opt/models/x.zip!/, INVALID_URI",
        "'s3://bank-models/prod/x y', INVALID_URI",
    })
    void hostileLocationsAreBundleErrors(String location, BundleException.Reason expected) {
        BundleLoader l = BundleLoader.builder()
                .roots(ModelRoots.of("s3://bank-models/prod/", "/opt/models"))
                .cacheDirectory(tmp.resolve("cache"))
                .build();
        assertThat(reasonOf(() -> l.load(location))).as(location).isEqualTo(expected);
    }

    /** a trailing-dot or case variant of an existing bundle is not silently mapped onto it. */
    @Test
    void caseAndTrailingDotVariantsDoNotAlias() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("b"), new TinyBundles.Spec());
        assertThat(reasonOf(() -> loader().load(tmp.resolve("B").toString())))
                .isEqualTo(BundleException.Reason.MISSING_FILE);
        assertThat(reasonOf(() -> loader().load(dir + "."))).isEqualTo(BundleException.Reason.MISSING_FILE);
        assertThat(loader().load(dir + "/").id()).isEqualTo("tiny");
        assertThat(loader().load(dir + "/./").id()).isEqualTo("tiny");
    }

    // ------------------------------------------------------------------ strict manifest

    private static String validManifest() throws Exception {
        Path d = Files.createTempDirectory("failclosed-m");
        try {
            TinyBundles.write(d, new TinyBundles.Spec());
            return Files.readString(d.resolve("manifest.json"));
        } finally {
            dev.flinkslm.models.FileTrees.deleteRecursively(d);
        }
    }

    @Test
    void trickyManifestJsonIsRejected() throws Exception {
        String ok = validManifest();
        assertThat(ModelManifest.parse(ok.getBytes(StandardCharsets.UTF_8)).id())
                .isEqualTo("tiny");
        Map<String, String> hostile = new LinkedHashMap<>();
        hostile.put(
                "nested dup in inputs",
                ok.replace("\"inputIds\" : \"input_ids\"", "\"inputIds\" : \"input_ids\", \"inputIds\" : \"evil\""));
        hostile.put("escaped dup key", ok.replaceFirst("\\{", "{\"\\u0069d\":\"x\","));
        hostile.put(
                "dup in sha256",
                ok.replace("\"sha256\" : {", "\"sha256\" : {\"model.onnx\":\"" + "0".repeat(64) + "\","));
        hostile.put(
                "dup in golden item",
                ok.replace(
                        "\"golden\" : [ ]", "\"golden\" : [{\"text\":\"a\",\"label\":\"clear\",\"label\":\"fraud\"}]"));
        hostile.put("version string", ok.replace("\"manifestVersion\" : 1", "\"manifestVersion\" : \"1\""));
        hostile.put("version 1.0", ok.replace("\"manifestVersion\" : 1", "\"manifestVersion\" : 1.0"));
        hostile.put("version 1e0", ok.replace("\"manifestVersion\" : 1", "\"manifestVersion\" : 1e0"));
        hostile.put("version 2^32+1", ok.replace("\"manifestVersion\" : 1", "\"manifestVersion\" : 4294967297"));
        hostile.put("version true", ok.replace("\"manifestVersion\" : 1", "\"manifestVersion\" : true"));
        hostile.put("version NaN", ok.replace("\"manifestVersion\" : 1", "\"manifestVersion\" : NaN"));
        hostile.put("maxSeq huge", ok.replaceFirst("\"maxSequenceLength\" : \\d+", "\"maxSequenceLength\" : 1e400"));
        hostile.put(
                "maxSeq bigint",
                ok.replaceFirst("\"maxSequenceLength\" : \\d+", "\"maxSequenceLength\" : 99999999999999999999999"));
        hostile.put(
                "deep nesting",
                ok.replace("\"metadata\" : {", "\"x\":" + "[".repeat(5000) + "]".repeat(5000) + ", \"metadata\" : {"));
        hostile.put("labels as string", ok.replaceFirst("\"labels\" : \\[[^\\]]*\\]", "\"labels\" : \"clear\""));
        hostile.put("negativeLabel not a label", ok.replaceFirst("\\{", "{\"negativeLabel\":\"CLEAR\","));
        hostile.put("comment", ok.replaceFirst("\\{", "{/* c */"));
        hostile.put("trailing", ok + "{}");
        List<String> accepted = new ArrayList<>();
        for (Map.Entry<String, String> e : hostile.entrySet()) {
            try {
                ModelManifest.parse(e.getValue().getBytes(StandardCharsets.UTF_8));
                accepted.add(e.getKey());
            } catch (BundleException expected) {
                assertThat(expected.reason())
                        .as(e.getKey())
                        .isIn(
                                BundleException.Reason.INVALID_MANIFEST,
                                BundleException.Reason.UNSUPPORTED_MANIFEST_VERSION,
                                BundleException.Reason.LIMIT_EXCEEDED);
            } catch (RuntimeException | StackOverflowError unexpected) {
                throw new AssertionError(e.getKey() + " escaped as " + unexpected, unexpected);
            }
        }
        assertThat(accepted).as("hostile manifests that parsed").isEmpty();
        // a UTF-8 BOM is either accepted or INVALID_MANIFEST, never something else
        byte[] bom = ("\uFEFF" + ok).getBytes(StandardCharsets.UTF_8);
        try {
            ModelManifest.parse(bom);
        } catch (BundleException e) {
            assertThat(e.reason()).isEqualTo(BundleException.Reason.INVALID_MANIFEST);
        }
    }

    /** a manifest over the size limit is refused from its size, before it is read whole (sparse 2 GiB file). */
    @Test
    void aHugeSparseManifestIsRefusedWithoutReadingIt() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("huge"), new TinyBundles.Spec());
        try (var ch = java.nio.channels.FileChannel.open(
                dir.resolve("manifest.json"), java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {' '}), (2L << 30));
        }
        long t0 = System.nanoTime();
        assertThat(reasonOf(() -> loader().load(dir.toString()))).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED);
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(2_000);
    }

    // ------------------------------------------------------------------ zip limits and tricks

    private Path zip(String name, String[][] entries) throws IOException {
        Path zip = tmp.resolve(name);
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String[] e : entries) {
                out.putNextEntry(new ZipEntry(e[0]));
                out.write(e[1].getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return zip;
    }

    @Test
    void zipTricksAreRefused() throws Exception {
        // two names that normalise to the same file
        Path dup = zip("dup.zip", new String[][] {{"manifest.json", "{}"}, {"a/../manifest.json", "{}"}});
        assertThat(reasonOf(() -> loader().load(dup.toString())))
                .isIn(BundleException.Reason.UNEXPECTED_FILE, BundleException.Reason.UNRESOLVABLE_URI);
        Path abs = zip("abs.zip", new String[][] {{"/tmp/failclosed-abs.txt", "x"}});
        assertThat(reasonOf(() -> loader().load(abs.toString()))).isEqualTo(BundleException.Reason.UNRESOLVABLE_URI);
        assertThat(Path.of("/tmp/failclosed-abs.txt")).doesNotExist();
        String[][] many = new String[70][];
        for (int i = 0; i < many.length; i++) {
            many[i] = new String[] {"d" + i + "/", ""};
        }
        Path dirs = zip("dirs.zip", many);
        assertThat(reasonOf(() -> loader().load(dirs.toString()))).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED);
        // a .ZIP in upper case and a name with a trailing dot
        Path upper = zip("X.ZIP", new String[][] {{"../x", "y"}});
        assertThat(reasonOf(() -> loader().load(upper.toString()))).isEqualTo(BundleException.Reason.UNRESOLVABLE_URI);
    }

    /** A planted cache folder under a zip's digest is replaced by what the zip really holds. */
    @Test
    void aPinnedDigestDefeatsAPlantedCacheFolder() throws Exception {
        Path real = TinyBundles.write(tmp.resolve("real2"), new TinyBundles.Spec().id("real"));
        String sha = Digests.sha256(real.resolve("manifest.json"));
        Path zip = tmp.resolve("real2.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String name : new String[] {"manifest.json", "model.onnx", "tokenizer.json"}) {
                out.putNextEntry(new ZipEntry(name));
                Files.copy(real.resolve(name), out);
                out.closeEntry();
            }
        }
        TinyBundles.write(
                tmp.resolve("cache").resolve("archives").resolve(Digests.sha256(zip)),
                new TinyBundles.Spec().id("planted"));
        assertThat(loader().load(new ModelRef(null, null, zip.toUri().toString(), sha))
                        .id())
                .isEqualTo("real");
    }

    @SuppressWarnings("unused")
    private static URI uri(String s) {
        return URI.create(s);
    }

    /**
     * windows are made by the tokenizer's overflow,
     * which materialises EVERY window of the text before maxWindows keeps 16. Measures a 1 MiB text on
     * the thread that calls encode (in the operator: the task thread). Prints the time; asserts only
     * that the result is truncated.
     */
    @Test
    void encodingAOneMebibyteTextMaterialisesEveryWindow() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("big"), new TinyBundles.Spec().maxSequenceLength(128));
        try (ScoringSession s = ScoringSession.open(loader().load(dir.toString()), RuntimeOptions.cpu())) {
            String text = "wire the money to the usual account before friday please ".repeat(18_000); // ~1 MiB
            s.encode("warm", WindowOptions.defaults());
            long t0 = System.nanoTime();
            EncodedInput in = s.encode(text, WindowOptions.defaults());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("ISSUE11-PROBE 1 MiB text: " + text.length() + " chars, encode with windows took " + ms
                    + " ms, kept " + in.windowCount() + " windows, truncated=" + in.truncated());
            assertThat(in.truncated()).isTrue();
        }
    }
}
