package dev.flinkslm.models.compliance.internal;

import dev.flinkslm.models.ModelManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores texts with a text-classification bundle directory (fused graph + tokenizer + manifest).
 *
 * <p>Offline tooling only (evaluation, bundle verification); streaming jobs use the shared
 * {@code ScoringSession}. Thread-safe for concurrent calls; close after the last call.
 */
public final class BundleClassifier implements AutoCloseable {

    private final OrtTextModel model;
    private final List<String> labels;
    private final String probabilitiesOutput;

    private BundleClassifier(OrtTextModel model, List<String> labels, String probabilitiesOutput) {
        this.model = model;
        this.labels = labels;
        this.probabilitiesOutput = probabilitiesOutput;
    }

    /** Opens a bundle directory; the manifest's model and tokenizer files must exist. */
    public static BundleClassifier open(Path bundleDir) {
        ModelManifest m = BundleWriter.readManifest(bundleDir);
        Path model = bundleDir.resolve(m.model());
        Path tok = bundleDir.resolve(m.tokenizer());
        for (Path f : List.of(model, tok)) {
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("Bundle " + bundleDir + " lacks " + f.getFileName() + " named in its manifest");
            }
        }
        return new BundleClassifier(OrtTextModel.open(model, MiniLmTokenizer.fromFile(tok)), m.labels(), m.outputs().probabilities());
    }

    public List<String> labels() {
        return labels;
    }

    /** Probabilities per text, in input order. */
    public float[][] probabilities(List<String> texts) {
        return model.runAll(texts, probabilitiesOutput, labels.size());
    }

    /** Sentence embeddings from the fused graph, in input order. */
    public float[][] embeddings(List<String> texts) {
        return model.runAll(texts, OnnxHeadFusion.EMBEDDING, 384);
    }

    @Override
    public void close() {
        model.close();
    }
}
