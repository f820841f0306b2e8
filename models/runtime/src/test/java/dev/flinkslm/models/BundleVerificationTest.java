package dev.flinkslm.models;

import static dev.flinkslm.models.BundleAssertions.reasonOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.onnx.proto.OnnxMl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** What was verified is what runs: no swapped, unlisted, linked-in or external file is ever used. */
class BundleVerificationTest {

    private static final String TEXT = "wire the money to the usual account before friday";

    @TempDir
    Path tmp;

    private BundleLoader loader(Path... roots) {
        List<String> names = roots.length == 0
                ? List.of(tmp.toString())
                : java.util.Arrays.stream(roots).map(Path::toString).toList();
        return BundleLoader.builder()
                .roots(ModelRoots.of(names))
                .cacheDirectory(tmp.resolve("cache"))
                .build();
    }

    private static float[] expected(TinyBundles.Spec spec, ScoringSession session) {
        return TinyBundles.reference(spec, session.encode(TEXT));
    }

    @Test
    void aGraphSwappedAfterVerificationIsNeverRun() throws Exception {
        TinyBundles.Spec verified = new TinyBundles.Spec().seed(7);
        TinyBundles.Spec junk = new TinyBundles.Spec().seed(99);
        Path dir = TinyBundles.write(tmp.resolve("b"), verified);
        ModelBundle bundle = loader().load(dir.toString());

        // another valid graph replaces model.onnx between verification and session creation
        Files.write(dir.resolve("model.onnx"), TinyBundles.graph(junk).toByteArray());

        try (ScoringSession session = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
            float[] got = session.scoreTexts(List.of(TEXT)).get(0).probabilities();
            assertThat(got).containsExactly(expected(verified, session), within(1e-5f));
            assertThat(expected(junk, session)).isNotEqualTo(expected(verified, session));
        }
        // the verified bytes are handed out once; a second session reads again and sees the swap
        assertThat(reasonOf(
                        () -> ScoringSession.open(bundle, RuntimeOptions.cpu()).close()))
                .isEqualTo(BundleException.Reason.CHECKSUM_MISMATCH);
    }

    @Test
    void concurrentSwapsNeverMakeALoadAnswerAsTheJunkGraph() throws Exception {
        TinyBundles.Spec verified = new TinyBundles.Spec().seed(7);
        Path dir = TinyBundles.write(tmp.resolve("b"), verified);
        byte[] good = Files.readAllBytes(dir.resolve("model.onnx"));
        byte[] junk = TinyBundles.graph(new TinyBundles.Spec().seed(99)).toByteArray();
        AtomicBoolean stop = new AtomicBoolean();
        Thread swapper = new Thread(
                () -> {
                    Path staging = tmp.resolve("staging.onnx");
                    int round = 0;
                    try {
                        while (!stop.get()) {
                            byte[] next = round % 2 == 0 ? junk : good;
                            if (round % 4 < 2) {
                                Files.write(dir.resolve("model.onnx"), next); // in place: readers may see a torn file
                            } else {
                                Files.write(staging, next);
                                Files.move(
                                        staging,
                                        dir.resolve("model.onnx"),
                                        StandardCopyOption.ATOMIC_MOVE,
                                        StandardCopyOption.REPLACE_EXISTING);
                            }
                            Thread.sleep(round % 2 == 0 ? 1 : 4);
                            round++;
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                },
                "swapper");
        swapper.start();
        int answered = 0;
        int refused = 0;
        try {
            BundleLoader loader = loader();
            for (int i = 0; i < 100; i++) {
                ModelBundle bundle;
                try {
                    bundle = loader.load(dir.toString());
                } catch (BundleException e) {
                    assertThat(e.reason())
                            .isIn(BundleException.Reason.CHECKSUM_MISMATCH, BundleException.Reason.MISSING_FILE);
                    refused++;
                    continue;
                }
                try (ScoringSession session = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
                    float[] got = session.scoreTexts(List.of(TEXT)).get(0).probabilities();
                    assertThat(got).as("load %d", i).containsExactly(expected(verified, session), within(1e-5f));
                    answered++;
                }
            }
        } finally {
            stop.set(true);
            swapper.join();
        }
        assertThat(answered)
                .as("some loads must get through for the test to mean anything")
                .isPositive();
        assertThat(answered + refused).isEqualTo(100);
    }

    @Test
    void anUnlistedFileInTheBundleIsRejected() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("b"), new TinyBundles.Spec());
        Files.writeString(dir.resolve("notes.txt"), "hello");
        assertThatThrownBy(() -> loader().load(dir.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.UNEXPECTED_FILE))
                .hasMessageContaining("notes.txt");
        Files.delete(dir.resolve("notes.txt"));
        Files.createDirectories(dir.resolve("extra"));
        assertThatThrownBy(() -> loader().load(dir.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.UNEXPECTED_FILE))
                .hasMessageContaining("extra");
        Files.delete(dir.resolve("extra"));
        assertThat(loader().load(dir.toString()).id()).isEqualTo("tiny");
    }

    @Test
    void anExecutableFileIsRejected() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("b"), new TinyBundles.Spec());
        Files.setPosixFilePermissions(dir.resolve("tokenizer.json"), PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThatThrownBy(() -> loader().load(dir.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.UNEXPECTED_FILE))
                .hasMessageContaining("tokenizer.json")
                .hasMessageContaining("executable");
    }

    @Test
    void listedFilesMayLiveInFolders() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec();
        Path dir = TinyBundles.write(tmp.resolve("b"), spec);
        Files.createDirectories(dir.resolve("onnx"));
        Files.move(dir.resolve("model.onnx"), dir.resolve("onnx/model.onnx"));
        ModelManifest m = ModelManifest.read(dir);
        Map<String, String> sha = new LinkedHashMap<>();
        sha.put("onnx/model.onnx", Digests.sha256(dir.resolve("onnx/model.onnx")));
        sha.put("tokenizer.json", m.sha256().get("tokenizer.json"));
        new ModelManifest(
                        m.manifestVersion(),
                        m.id(),
                        m.version(),
                        m.task(),
                        m.description(),
                        m.labels(),
                        m.negativeLabel(),
                        "onnx/model.onnx",
                        m.tokenizer(),
                        m.maxSequenceLength(),
                        m.inputs(),
                        m.outputs(),
                        sha,
                        m.golden(),
                        m.metadata())
                .write(dir);
        ModelBundle bundle = loader().load(dir.toString());
        try (ScoringSession session = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
            assertThat(session.scoreTexts(List.of(TEXT)).get(0).probabilities())
                    .containsExactly(expected(spec, session), within(1e-5f));
        }
    }

    /** model.onnx with initializer W moved to weights.bin, the way onnx.save(save_as_external_data=True) does. */
    private static Path externalDataBundle(Path dir, boolean listWeights) throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec();
        TinyBundles.write(dir, spec);
        OnnxMl.ModelProto model = TinyBundles.graph(spec);
        OnnxMl.GraphProto.Builder graph = model.getGraph().toBuilder();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            OnnxMl.TensorProto t = graph.getInitializer(i);
            if (t.getName().equals("W")) {
                Files.write(dir.resolve("weights.bin"), t.getRawData().toByteArray());
                graph.setInitializer(
                        i,
                        t.toBuilder()
                                .clearRawData()
                                .setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
                                .addExternalData(entry("location", "weights.bin"))
                                .addExternalData(entry("offset", "0"))
                                .addExternalData(entry(
                                        "length",
                                        Integer.toString(t.getRawData().size()))));
            }
        }
        Files.write(
                dir.resolve("model.onnx"),
                model.toBuilder().setGraph(graph).build().toByteArray());
        rewriteChecksums(
                dir,
                listWeights
                        ? List.of("model.onnx", "tokenizer.json", "weights.bin")
                        : List.of("model.onnx", "tokenizer.json"));
        return dir;
    }

    private static OnnxMl.StringStringEntryProto entry(String key, String value) {
        return OnnxMl.StringStringEntryProto.newBuilder()
                .setKey(key)
                .setValue(value)
                .build();
    }

    private static void rewriteChecksums(Path dir, List<String> files) throws Exception {
        ModelManifest m = ModelManifest.read(dir);
        Map<String, String> sha = new LinkedHashMap<>();
        for (String f : files) {
            sha.put(f, Digests.sha256(dir.resolve(f)));
        }
        m.withSha256(sha).write(dir);
    }

    @Test
    void aGraphWithExternalDataIsRejected() throws Exception {
        // unlisted side file: refused before anything is parsed
        Path unlisted = externalDataBundle(tmp.resolve("unlisted"), false);
        assertThatThrownBy(() -> loader().load(unlisted.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.UNEXPECTED_FILE))
                .hasMessageContaining("weights.bin");
        // even listed and checked, external data is refused: ONNX Runtime would read it by path
        Path listed = externalDataBundle(tmp.resolve("listed"), true);
        assertThatThrownBy(() -> loader().load(listed.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.UNSUPPORTED_GRAPH))
                .hasMessageContaining("'W'")
                .hasMessageContaining("weights.bin")
                .hasMessageContaining("save_as_external_data=False");
    }

    @Test
    void externalDataInANodeAttributeIsRejectedToo() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec();
        Path dir = TinyBundles.write(tmp.resolve("b"), spec);
        OnnxMl.ModelProto model = TinyBundles.graph(spec);
        OnnxMl.TensorProto external = OnnxMl.TensorProto.newBuilder()
                .setName("c")
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber())
                .setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", "/etc/passwd"))
                .build();
        OnnxMl.NodeProto constant = OnnxMl.NodeProto.newBuilder()
                .setOpType("Constant")
                .setName("const")
                .addOutput("unused")
                .addAttribute(OnnxMl.AttributeProto.newBuilder()
                        .setName("value")
                        .setType(OnnxMl.AttributeProto.AttributeType.TENSOR)
                        .setT(external))
                .build();
        Files.write(
                dir.resolve("model.onnx"),
                model.toBuilder()
                        .setGraph(model.getGraph().toBuilder().addNode(constant))
                        .build()
                        .toByteArray());
        rewriteChecksums(dir, List.of("model.onnx", "tokenizer.json"));
        assertThatThrownBy(() -> loader().load(dir.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.UNSUPPORTED_GRAPH))
                .hasMessageContaining("node 'const'");
    }

    @Test
    void linksToFilesOutsideTheRootsAreRejected() throws Exception {
        Path outside = Files.createTempDirectory("outside-roots");
        try {
            for (String name : List.of("model.onnx", "manifest.json")) {
                Path dir = TinyBundles.write(tmp.resolve("b-" + name), new TinyBundles.Spec());
                // the same bytes, so the checksum alone would pass
                Files.copy(dir.resolve(name), outside.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                Files.delete(dir.resolve(name));
                Files.createSymbolicLink(dir.resolve(name), outside.resolve(name));
                assertThatThrownBy(() -> loader().load(dir.toString()))
                        .as(name)
                        .isInstanceOfSatisfying(
                                BundleException.class,
                                e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.FILE_OUTSIDE_BUNDLE))
                        .hasMessageContaining(name)
                        .hasMessageContaining("outside the bundle directory");
                // the root-less verify (tests, tools) refuses it as well
                assertThat(reasonOf(() -> BundleLoader.verify(dir.toUri(), dir, null)))
                        .isEqualTo(BundleException.Reason.FILE_OUTSIDE_BUNDLE);
            }
        } finally {
            dev.flinkslm.models.FileTrees.deleteRecursively(outside);
        }
    }

    @Test
    void aLinkIntoAnotherModelRootIsRejected() throws Exception {
        Path rootA = Files.createDirectories(tmp.resolve("rootA"));
        Path rootB = Files.createDirectories(tmp.resolve("rootB"));
        Path dir = TinyBundles.write(rootA.resolve("b"), new TinyBundles.Spec());
        Path other = TinyBundles.write(rootB.resolve("b"), new TinyBundles.Spec());
        Files.delete(dir.resolve("model.onnx"));
        Files.createSymbolicLink(dir.resolve("model.onnx"), other.resolve("model.onnx"));
        assertThatThrownBy(() -> loader(rootA, rootB).load(dir.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.FILE_OUTSIDE_BUNDLE))
                .hasMessageContaining("even into another model root");
    }

    @Test
    void aBundleOverTheTotalSizeLimitIsRejected() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("b"), new TinyBundles.Spec());
        long size = Files.size(dir.resolve("model.onnx"))
                + Files.size(dir.resolve("tokenizer.json"))
                + Files.size(dir.resolve("manifest.json"));
        BundleLoader tight = BundleLoader.builder()
                .roots(ModelRoots.of(tmp.toString()))
                .limits(BundleLimits.defaults().withMaxBundleBytes(size - 1))
                .build();
        assertThatThrownBy(() -> tight.load(dir.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED))
                .hasMessageContaining("maxBundleBytes");
        BundleLoader exact = BundleLoader.builder()
                .roots(ModelRoots.of(tmp.toString()))
                .limits(BundleLimits.defaults().withMaxBundleBytes(size))
                .build();
        assertThat(exact.load(dir.toString()).limits().maxBundleBytes()).isEqualTo(size);
    }

    @Test
    void theSessionCacheDropsTheBytesOfABundleItDoesNotOpen() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("b"), new TinyBundles.Spec());
        SessionCache cache = new SessionCache();
        ModelBundle first = loader().load(dir.toString());
        ModelBundle second = loader().load(dir.toString());
        AtomicInteger opened = new AtomicInteger();
        try (SessionCache.Lease a = cache.acquire(first, RuntimeOptions.cpu());
                SessionCache.Lease b = cache.acquire(second, RuntimeOptions.cpu())) {
            opened.set(a.loadedSession() ? 1 : 0);
            assertThat(b.loadedSession()).isFalse();
            // the second bundle's bytes were released: opening it on its own re-reads the (unchanged) files
            try (ScoringSession again = ScoringSession.open(second, RuntimeOptions.cpu())) {
                assertThat(again.scoreTexts(List.of(TEXT))).hasSize(1);
            }
        }
        assertThat(opened.get()).isEqualTo(1);
    }
}
