package dev.flinkslm.models;

import static dev.flinkslm.models.BundleAssertions.reasonOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

class BundleLoaderTest {

    @TempDir
    Path tmp;

    private BundleLoader loader() {
        return BundleLoader.builder()
                .roots(ModelRoots.of(tmp.toString()))
                .cacheDirectory(tmp.resolve("cache"))
                .build();
    }

    @Test
    void loadsValidBundleAndExposesItsReference() throws Exception {
        Path dir = TinyBundles.write(
                tmp.resolve("ok"), new TinyBundles.Spec().id("fraud").version("7"));
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
        Files.writeString(
                dir.resolve("manifest.json"),
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
            assertThat(reasonOf(() -> loader().load(tmp.resolve("..")
                            .resolve(outside.getFileName())
                            .resolve("b")
                            .toString())))
                    .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
            // nor can a symbolic link inside a root
            Files.createSymbolicLink(tmp.resolve("link"), outside.resolve("b"));
            assertThat(reasonOf(() -> loader().load(tmp.resolve("link").toString())))
                    .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
            // a sibling whose name merely starts with the root's name is outside too
            assertThat(reasonOf(() -> BundleLoader.builder()
                            .roots(ModelRoots.of(tmp.resolve("mod").toString()))
                            .build()
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

    private Path zipOf(Path dir, String name) throws IOException {
        Path zip = tmp.resolve(name);
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String file : new String[] {"manifest.json", "model.onnx", "tokenizer.json"}) {
                out.putNextEntry(new ZipEntry("b/" + file));
                Files.copy(dir.resolve(file), out);
                out.closeEntry();
            }
        }
        return zip;
    }

    private BundleLoader loader(BundleLimits limits) {
        return BundleLoader.builder()
                .roots(ModelRoots.of(tmp.toString()))
                .cacheDirectory(tmp.resolve("cache"))
                .limits(limits)
                .build();
    }

    private void assertNothingLeftInTheCache() throws IOException {
        Path archives = tmp.resolve("cache").resolve("archives");
        if (Files.isDirectory(archives)) {
            try (var s = Files.list(archives)) {
                assertThat(s.toList())
                        .as("partly unpacked archives are deleted")
                        .isEmpty();
            }
        }
    }

    @Test
    void archiveEntryCountIsLimited() throws Exception {
        Path zip = zipOf(TinyBundles.write(tmp.resolve("src"), new TinyBundles.Spec()), "b.zip");
        assertThatThrownBy(() ->
                        loader(BundleLimits.defaults().withMaxArchiveEntries(2)).load(zip.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED))
                .hasMessageContaining("maxArchiveEntries");
        assertNothingLeftInTheCache();
        assertThat(loader(BundleLimits.defaults().withMaxArchiveEntries(3))
                        .load(zip.toString())
                        .id())
                .isEqualTo("tiny");
    }

    @Test
    void archiveEntryAndTotalSizesAreLimited() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("src"), new TinyBundles.Spec());
        Path zip = zipOf(dir, "b.zip");
        long tokenizer = Files.size(dir.resolve("tokenizer.json"));
        assertThatThrownBy(() -> loader(BundleLimits.defaults().withMaxArchiveEntryBytes(tokenizer - 1))
                        .load(zip.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED))
                .hasMessageContaining("tokenizer.json")
                .hasMessageContaining("maxArchiveEntryBytes");
        assertNothingLeftInTheCache();
        long total = tokenizer + Files.size(dir.resolve("model.onnx")) + Files.size(dir.resolve("manifest.json"));
        assertThatThrownBy(() -> loader(BundleLimits.defaults().withMaxArchiveBytes(total - 1))
                        .load(zip.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED))
                .hasMessageContaining("maxArchiveBytes");
        assertNothingLeftInTheCache();
        assertThat(loader(BundleLimits.defaults().withMaxArchiveBytes(total))
                        .load(zip.toString())
                        .id())
                .isEqualTo("tiny");
    }

    @Test
    void aZipBombIsStoppedAtTheLimitWhateverItsHeadersSay() throws Exception {
        Path zip = tmp.resolve("bomb.zip");
        byte[] zeros = new byte[1 << 20];
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("manifest.json"));
            for (int i = 0; i < 64; i++) {
                out.write(zeros); // 64 MiB that deflate to about 64 KiB
            }
            out.closeEntry();
        }
        assertThat(Files.size(zip)).isLessThan(1L << 20);
        BundleLimits limits =
                BundleLimits.defaults().withMaxArchiveEntryBytes(4L << 20).withMaxArchiveBytes(8L << 20);
        assertThatThrownBy(() -> loader(limits).load(zip.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED))
                .hasMessageContaining("zip bomb");
        assertNothingLeftInTheCache();
        // many small entries add up against the total
        Path many = tmp.resolve("many.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(many))) {
            for (int i = 0; i < 12; i++) {
                out.putNextEntry(new ZipEntry("part" + i));
                out.write(zeros);
                out.closeEntry();
            }
        }
        assertThatThrownBy(() -> loader(limits).load(many.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED))
                .hasMessageContaining("maxArchiveBytes");
        assertNothingLeftInTheCache();
    }

    @Test
    void anArchiveWithAnUnlistedFileIsRejected() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("src"), new TinyBundles.Spec());
        Path zip = tmp.resolve("extra.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String file : new String[] {"manifest.json", "model.onnx", "tokenizer.json"}) {
                out.putNextEntry(new ZipEntry(file));
                Files.copy(dir.resolve(file), out);
                out.closeEntry();
            }
            out.putNextEntry(new ZipEntry("run.sh"));
            out.write("#!/bin/sh".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        assertThatThrownBy(() -> loader().load(zip.toString()))
                .isInstanceOfSatisfying(
                        BundleException.class,
                        e -> assertThat(e.reason()).isEqualTo(BundleException.Reason.UNEXPECTED_FILE))
                .hasMessageContaining("run.sh");
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
