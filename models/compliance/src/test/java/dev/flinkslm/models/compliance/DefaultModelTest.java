package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.Digests;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.compliance.internal.BundleClassifier;
import dev.flinkslm.models.compliance.internal.BundleWriter;
import dev.flinkslm.models.compliance.internal.LabeledText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

/** Default bundle resolution: manifest content, golden examples, caching and replacement of stale bundles. */
class DefaultModelTest {

    @TempDir
    Path cache;

    @ParameterizedTest
    @EnumSource(Precision.class)
    void defaultBundlePassesItsGoldenExamples(Precision p) throws Exception {
        Path dir = DefaultModel.bundleDirectory(p, cache);
        assertThat(dir.getFileName().toString()).isEqualTo("compliance-minilm-" + DefaultModel.version(p));

        ModelManifest m = BundleWriter.readManifest(dir);
        assertThat(m.manifestVersion()).isEqualTo(1);
        assertThat(m.id()).isEqualTo("compliance-minilm");
        assertThat(m.version()).isEqualTo(BundleWriter.BASE_VERSION + "-" + p.tag());
        assertThat(m.task()).isEqualTo("text-classification");
        List<String> labels = m.labels();
        assertThat(labels).containsExactly("clear", "sanctions", "structuring", "fraud", "market_abuse");
        assertThat(m.negativeLabel()).isEqualTo("clear");
        assertThat(m.metadata()).containsEntry(BundleWriter.FORMAT_KEY, BundleWriter.FORMAT);
        assertThat(m.maxSequenceLength()).isEqualTo(128);
        assertThat(m.inputs().tokenTypeIds()).isEqualTo("token_type_ids");
        assertThat(m.outputs().probabilities()).isEqualTo("probabilities");
        assertThat(m.outputs().embedding()).isEqualTo("sentence_embedding");
        assertThat(m.sha256())
                .containsEntry("model.onnx", Digests.sha256(dir.resolve("model.onnx")))
                .containsEntry("tokenizer.json", Digests.sha256(dir.resolve("tokenizer.json")));
        assertThat(m.metadata()).containsEntry("precision", p.tag()).containsKeys("macroF1", "trainedOn", "encoder");

        List<LabeledText> golden = BundleWriter.golden(m);
        assertThat(golden).extracting(LabeledText::label).containsAll(ComplianceLabels.ALL);
        try (BundleClassifier c = BundleClassifier.open(dir)) {
            List<Prediction> predictions =
                    c.predict(golden.stream().map(LabeledText::text).toList());
            for (int i = 0; i < golden.size(); i++) {
                assertThat(predictions.get(i).label())
                        .as("golden %d", i)
                        .isEqualTo(golden.get(i).label());
            }
        }
    }

    @Test
    void reusesAnIntactBundleAndReplacesAStaleOne() throws Exception {
        Path dir = DefaultModel.bundleDirectory(Precision.INT8, cache);
        FileTime built = Files.getLastModifiedTime(dir.resolve("model.onnx"));
        assertThat(DefaultModel.bundleDirectory(Precision.INT8, cache)).isEqualTo(dir);
        assertThat(Files.getLastModifiedTime(dir.resolve("model.onnx"))).isEqualTo(built);

        // a bundle whose files no longer match the manifest (e.g. a crash of an older, non-atomic writer)
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        Path other = cache.resolve("other");
        Files.createDirectories(other);
        // a fresh cache root forces a checksum check instead of the per-JVM memo
        Files.move(dir, other.resolve(dir.getFileName()));
        Path rebuilt = DefaultModel.bundleDirectory(Precision.INT8, other);
        assertThat(BundleWriter.isIntact(rebuilt, null, null)).isTrue();
        assertThat(Files.readString(rebuilt.resolve("tokenizer.json"))).isNotEqualTo("{}");
        try (var s = Files.list(other)) {
            assertThat(s.map(x -> x.getFileName().toString()))
                    .containsExactly(dir.getFileName().toString());
        }
    }

    @Test
    void aBundleCachedByAnOlderBuildIsRebuiltNotReused() throws Exception {
        Path dir = DefaultModel.bundleDirectory(Precision.INT8, cache);
        // what a build before bundle format 2 wrote: intact checksums, current head, no negativeLabel
        ModelManifest current = BundleWriter.readManifest(dir);
        java.util.Map<String, String> meta = new java.util.LinkedHashMap<>(current.metadata());
        meta.remove(BundleWriter.FORMAT_KEY);
        ModelManifest old = current.withMetadata(meta);
        Path other = Files.createDirectories(cache.resolve("old-build"));
        Path stale = other.resolve(dir.getFileName());
        Files.move(dir, stale);
        old.write(stale);
        assertThat(BundleWriter.isIntact(stale, null, null)).isFalse();

        Path rebuilt = DefaultModel.bundleDirectory(Precision.INT8, other);
        assertThat(rebuilt).isEqualTo(stale);
        assertThat(BundleWriter.readManifest(rebuilt).negativeLabel()).isEqualTo("clear");
        assertThat(BundleWriter.isIntact(rebuilt, null, null)).isTrue();
    }

    @Test
    void aBundleBuiltFromAnotherEncoderArtifactIsRebuiltNotReused() throws Exception {
        Path dir = DefaultModel.bundleDirectory(Precision.INT8, cache);
        ModelManifest current = BundleWriter.readManifest(dir);
        assertThat(current.metadata())
                .containsEntry(
                        DefaultModel.SOURCE_KEY,
                        DefaultModel.sourceSha(
                                Precision.INT8, current.metadata().get("headSha256")));
        // what the cache holds after the encoder dependency was upgraded: intact files, current head and format,
        // built from other encoder bytes
        java.util.Map<String, String> meta = new java.util.LinkedHashMap<>(current.metadata());
        meta.put(DefaultModel.SOURCE_KEY, "0".repeat(64));
        Path other = Files.createDirectories(cache.resolve("older-encoder"));
        Path stale = other.resolve(dir.getFileName());
        Files.move(dir, stale);
        current.withMetadata(meta).write(stale);
        assertThat(BundleWriter.isIntact(stale, null, null)).isTrue();

        Path rebuilt = DefaultModel.bundleDirectory(Precision.INT8, other);
        assertThat(rebuilt).isEqualTo(stale);
        assertThat(BundleWriter.readManifest(rebuilt).metadata())
                .containsEntry(DefaultModel.SOURCE_KEY, current.metadata().get(DefaultModel.SOURCE_KEY));
    }

    @Test
    void cacheRootHonoursSystemProperty() throws Exception {
        String old = System.getProperty(DefaultModel.CACHE_DIR_PROPERTY);
        try {
            System.setProperty(DefaultModel.CACHE_DIR_PROPERTY, cache.toString());
            assertThat(DefaultModel.cacheRoot()).isEqualTo(cache.resolve("models"));
        } finally {
            if (old == null) {
                System.clearProperty(DefaultModel.CACHE_DIR_PROPERTY);
            } else {
                System.setProperty(DefaultModel.CACHE_DIR_PROPERTY, old);
            }
        }
    }
}
