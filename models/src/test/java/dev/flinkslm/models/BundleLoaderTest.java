package dev.flinkslm.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleLoaderTest {

    @TempDir Path tmp;

    private BundleLoader loader() {
        return BundleLoader.builder().roots(ModelRoots.of(tmp.toString())).cacheDirectory(tmp.resolve("cache")).build();
    }

    private static BundleException.Reason reasonOf(ThrowingLoad load) {
        try {
            load.run();
        } catch (BundleException e) {
            return e.reason();
        } catch (Exception e) {
            throw new AssertionError("expected a BundleException but got " + e, e);
        }
        throw new AssertionError("expected a BundleException");
    }

    interface ThrowingLoad {
        void run() throws Exception;
    }

    @Test
    void loadsValidBundleAndExposesItsReference() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("ok"), new TinyBundles.Spec().id("fraud").version("7"));
        ModelBundle bundle = loader().load(dir.toString());
        assertThat(bundle.id()).isEqualTo("fraud");
        assertThat(bundle.version()).isEqualTo("7");
        assertThat(bundle.manifest().labels()).hasSize(5);
        ModelRef ref = bundle.ref();
        assertThat(ref.sha256()).hasSize(64);
        assertThat(loader().load(ref).manifestSha256()).isEqualTo(bundle.manifestSha256());
    }

    @Test
    void missingManifest() throws Exception {
        Files.createDirectories(tmp.resolve("empty"));
        assertThat(reasonOf(() -> loader().load(tmp.resolve("empty").toString())))
                .isEqualTo(BundleException.Reason.MISSING_FILE);
    }

    @Test
    void missingListedFile() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("b"), new TinyBundles.Spec());
        Files.delete(dir.resolve("tokenizer.json"));
        assertThatThrownBy(() -> loader().load(dir.toString()))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("MISSING_FILE")
                .hasMessageContaining("tokenizer.json");
    }

    @Test
    void checksumMismatchOfAFile() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("b"), new TinyBundles.Spec());
        byte[] model = Files.readAllBytes(dir.resolve("model.onnx"));
        model[model.length - 1] ^= 1;
        Files.write(dir.resolve("model.onnx"), model);
        assertThatThrownBy(() -> loader().load(dir.toString()))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("CHECKSUM_MISMATCH")
                .hasMessageContaining("model.onnx");
    }

    @Test
    void pinnedManifestDigestMustMatch() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("b"), new TinyBundles.Spec());
        ModelRef ref = loader().load(dir.toString()).ref();
        TinyBundles.write(dir, new TinyBundles.Spec().seed(99)); // same id/version, different artifact
        assertThat(reasonOf(() -> loader().load(ref))).isEqualTo(BundleException.Reason.CHECKSUM_MISMATCH);
    }

    @Test
    void unsupportedManifestVersion() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec();
        spec.manifestVersion = 2;
        Path dir = TinyBundles.write(tmp.resolve("b"), spec);
        assertThat(reasonOf(() -> loader().load(dir.toString())))
                .isEqualTo(BundleException.Reason.UNSUPPORTED_MANIFEST_VERSION);
    }

    @Test
    void invalidManifestSaysWhatIsWrong() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("b"));
        Files.writeString(dir.resolve("manifest.json"),
                "{\"manifestVersion\":1,\"id\":\"x\",\"labels\":[\"a\",\"a\"],\"maxSequenceLength\":64}");
        assertThatThrownBy(() -> loader().load(dir.toString()))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("INVALID_MANIFEST")
                .hasMessageContaining("version is required")
                .hasMessageContaining("label 'a' appears twice");
        Files.writeString(dir.resolve("manifest.json"), "{not json");
        assertThat(reasonOf(() -> loader().load(dir.toString()))).isEqualTo(BundleException.Reason.INVALID_MANIFEST);
    }

    @Test
    void urisOutsideTheRootsAreRejectedBeforeAnythingIsRead() throws Exception {
        Path outside = Files.createTempDirectory("outside-roots");
        try {
            TinyBundles.write(outside.resolve("b"), new TinyBundles.Spec());
            assertThat(reasonOf(() -> loader().load(outside.resolve("b").toString())))
                    .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
            // ../ cannot climb out of a root
            assertThat(reasonOf(() -> loader().load(tmp.resolve("..").resolve(outside.getFileName()).resolve("b").toString())))
                    .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
            // nor can a symbolic link inside a root
            Files.createSymbolicLink(tmp.resolve("link"), outside.resolve("b"));
            assertThat(reasonOf(() -> loader().load(tmp.resolve("link").toString())))
                    .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
            // a sibling whose name merely starts with the root's name is outside too
            assertThat(reasonOf(() -> BundleLoader.builder().roots(ModelRoots.of(tmp.resolve("mod").toString())).build()
                    .load(tmp.resolve("models-evil").toString())))
                    .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
            assertThat(reasonOf(() -> BundleLoader.builder().build().load(URI.create("file:///etc"))))
                    .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
        } finally {
            deleteTree(outside);
        }
    }

    @Test
    void unknownSchemeIsUnresolvable() {
        BundleLoader any = BundleLoader.builder().roots(ModelRoots.allowAll()).build();
        assertThat(reasonOf(() -> any.load(URI.create("gopher://models/x"))))
                .isEqualTo(BundleException.Reason.UNRESOLVABLE_URI);
    }

    @Test
    void zipArchivesAreUnpackedOnceIntoTheCache() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("src"), new TinyBundles.Spec().id("zipped"));
        Path zip = tmp.resolve("zipped.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String name : new String[] {"manifest.json", "model.onnx", "tokenizer.json"}) {
                out.putNextEntry(new ZipEntry("zipped/" + name));
                Files.copy(dir.resolve(name), out);
                out.closeEntry();
            }
        }
        ModelBundle first = loader().load(zip.toString());
        ModelBundle second = loader().load(zip.toString());
        assertThat(first.id()).isEqualTo("zipped");
        assertThat(first.directory()).isEqualTo(second.directory());
        assertThat(first.directory()).startsWith(tmp.resolve("cache"));
    }

    @Test
    void zipSlipEntriesAreRejected() throws Exception {
        Path zip = tmp.resolve("evil.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("../../escaped.txt"));
            out.write("x".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        assertThat(reasonOf(() -> loader().load(zip.toString()))).isEqualTo(BundleException.Reason.UNRESOLVABLE_URI);
        assertThat(tmp.getParent().resolve("escaped.txt")).doesNotExist();
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @SuppressWarnings("unused")
    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
    }
}
