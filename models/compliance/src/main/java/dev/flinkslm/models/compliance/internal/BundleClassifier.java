package dev.flinkslm.models.compliance.internal;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringException;
import dev.flinkslm.models.ScoringSession;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores many texts with a fused bundle for the model tooling (evaluation, build reports, golden
 * checks), in batches on the shared {@link ScoringSession} runtime. Not thread-safe.
 */
public final class BundleClassifier implements AutoCloseable {

    private static final int BATCH = 64;

    private final ScoringSession session;

    private BundleClassifier(ScoringSession session) {
        this.session = session;
    }

    /** Verifies and opens the bundle in {@code bundleDir} on the CPU. */
    public static BundleClassifier open(Path bundleDir) {
        try {
            ModelBundle bundle = BundleLoader.verify(bundleDir.toUri(), bundleDir, null);
            int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
            return new BundleClassifier(
                    ScoringSession.open(bundle, RuntimeOptions.cpu().withIntraOpThreads(threads)));
        } catch (BundleException e) {
            throw new IllegalArgumentException("bundle " + bundleDir + " cannot be opened: " + e.getMessage(), e);
        }
    }

    public List<String> labels() {
        return session.labels();
    }

    /** Index of the bundle's negative label (for example {@code clear}) in {@link #labels()}, or -1. */
    public int negativeLabelIndex() {
        return session.manifest().negativeLabelIndex();
    }

    /** The session's prediction for every text (label, score, probabilities), in input order. */
    public List<Prediction> predict(List<String> texts) {
        List<Prediction> out = new ArrayList<>(texts.size());
        for (int from = 0; from < texts.size(); from += BATCH) {
            List<String> chunk = texts.subList(from, Math.min(texts.size(), from + BATCH));
            List<Prediction> predictions;
            try {
                predictions = session.scoreTexts(chunk);
            } catch (ScoringException e) {
                throw new IllegalStateException("scoring failed: " + e.getMessage(), e);
            }
            out.addAll(predictions);
        }
        return out;
    }

    @Override
    public void close() {
        session.close();
    }
}
