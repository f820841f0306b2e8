package dev.flinkslm.models.compliance.internal;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.Digests;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.compliance.ComplianceLabels;
import dev.flinkslm.models.compliance.Precision;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes and checks compliance model bundles (manifest.json + model.onnx + tokenizer.json) using the shared
 * {@link ModelManifest} format. Stateless.
 */
public final class BundleWriter {

    public static final String ID = "compliance-minilm";
    public static final String BASE_VERSION = "1.3.0";
    public static final String MODEL_FILE = "model.onnx";
    public static final String TOKENIZER_FILE = "tokenizer.json";

    /**
     * Layout version of the bundles this writer produces, recorded as metadata {@value #FORMAT_KEY}.
     * Bump it whenever the written manifest changes (2: {@code negativeLabel}), so that a bundle
     * cached by an older build is rebuilt instead of reused.
     */
    public static final String FORMAT = "2";

    /** Metadata key holding {@link #FORMAT}. */
    public static final String FORMAT_KEY = "bundleFormat";

    private BundleWriter() {}

    public static String version(Precision p) {
        return BASE_VERSION + "-" + p.tag();
    }

    /** Directory name of a bundle, {@code <id>-<version>}. */
    public static String dirName(Precision p) {
        return ID + "-" + version(p);
    }

    /**
     * Writes a bundle into {@code dir} (created if needed; existing bundle files are overwritten).
     *
     * @param metadata extra string metadata (precision and encoder are added here)
     */
    public static void write(
            Path dir,
            Precision p,
            byte[] fusedModel,
            byte[] tokenizer,
            SoftmaxHead head,
            Map<String, String> metadata) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("precision", p.tag());
        meta.put("encoder", TrainingEncoder.BUILT_IN);
        meta.putAll(metadata);
        meta.put(FORMAT_KEY, FORMAT);
        write(
                dir,
                new Identity(
                        ID,
                        version(p),
                        "Default compliance screening model: all-MiniLM-L6-v2 encoder, upper layers tuned on the"
                                + " compliance corpus (" + p.tag() + "), with a fused"
                                + " softmax head over clear/sanctions/structuring/fraud/market_abuse. A screening aid"
                                + " that ranks text for human review, not a decision maker.",
                        ComplianceLabels.CLEAR),
                fusedModel,
                true,
                EncoderTokenizer.MAX_LENGTH,
                tokenizer,
                head,
                meta,
                Map.of());
    }

    /**
     * What a bundle is called and what it means.
     *
     * @param negativeLabel the label meaning "nothing found", or null
     */
    public record Identity(String id, String version, String description, String negativeLabel) {}

    /**
     * Writes a bundle of a fused head into {@code dir} (created if needed; existing bundle files are
     * overwritten): the graph, the tokenizer, {@code extraFiles} (for example a model card; hashed like the
     * others) and a manifest with the head's labels and golden examples.
     *
     * @param tokenTypes whether the graph has a {@code token_type_ids} input
     * @param maxLength the manifest's maximum sequence length (tokens per window)
     */
    public static void write(
            Path dir,
            Identity identity,
            byte[] fusedModel,
            boolean tokenTypes,
            int maxLength,
            byte[] tokenizer,
            SoftmaxHead head,
            Map<String, String> metadata,
            Map<String, byte[]> extraFiles) {
        Map<String, String> sha = new LinkedHashMap<>();
        sha.put(MODEL_FILE, Digests.sha256(fusedModel));
        sha.put(TOKENIZER_FILE, Digests.sha256(tokenizer));
        extraFiles.forEach((name, bytes) -> sha.put(name, Digests.sha256(bytes)));
        ModelManifest m = new ModelManifest(
                ModelManifest.CURRENT_VERSION,
                identity.id(),
                identity.version(),
                ModelManifest.TASK_TEXT_CLASSIFICATION,
                identity.description(),
                head.labels(),
                identity.negativeLabel(),
                MODEL_FILE,
                TOKENIZER_FILE,
                maxLength,
                new ModelManifest.Inputs("input_ids", "attention_mask", tokenTypes ? "token_type_ids" : null),
                new ModelManifest.Outputs(OnnxHeadFusion.PROBABILITIES, OnnxHeadFusion.EMBEDDING),
                sha,
                head.golden().stream()
                        .map(g -> new ModelManifest.GoldenExample(g.text(), g.label()))
                        .toList(),
                metadata);
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve(MODEL_FILE), fusedModel);
            Files.write(dir.resolve(TOKENIZER_FILE), tokenizer);
            for (Map.Entry<String, byte[]> e : extraFiles.entrySet()) {
                Files.write(dir.resolve(e.getKey()), e.getValue());
            }
            m.write(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write bundle to " + dir, e);
        }
    }

    /** Reads and validates a manifest; errors say which bundle is broken and why. */
    public static ModelManifest readManifest(Path dir) {
        try {
            return ModelManifest.read(dir);
        } catch (BundleException e) {
            throw new IllegalArgumentException("Invalid model bundle " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * True if {@code dir} holds a complete bundle of the current {@link #FORMAT} whose files match the manifest
     * checksums and, when {@code expected} is not null, whose metadata entry {@code key} equals it (ties a cached
     * bundle to the head it was built from).
     */
    public static boolean isIntact(Path dir, String key, String expected) {
        if (!Files.isRegularFile(dir.resolve(ModelManifest.FILE_NAME))) {
            return false;
        }
        try {
            ModelManifest m = ModelManifest.read(dir);
            if (!FORMAT.equals(m.metadata().get(FORMAT_KEY))
                    || expected != null && !expected.equals(m.metadata().get(key))) {
                return false;
            }
            for (Map.Entry<String, String> e : m.sha256().entrySet()) {
                Path f = dir.resolve(e.getKey());
                if (!Files.isRegularFile(f) || !Digests.sha256(f).equalsIgnoreCase(e.getValue())) {
                    return false;
                }
            }
            return true;
        } catch (BundleException | java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /** Golden examples of a manifest. */
    public static List<LabeledText> golden(ModelManifest manifest) {
        return manifest.golden().stream()
                .map(g -> new LabeledText(g.text(), g.label(), null))
                .toList();
    }
}
