package dev.flinkslm.models;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a bundle's golden examples on an open session: a version whose golden examples do not get
 * their expected labels, or whose output for them is not a valid probability distribution, is not
 * admitted.
 *
 * <pre>{@code
 * GoldenCheck.require(session); // BundleException ADMISSION_FAILED or MODEL_OUTPUT_INVALID
 * }</pre>
 *
 * <p>Golden examples are scored the way {@link ScoringSession#scoreTexts(List)} scores texts (whole,
 * in windows), so every output row passes the same validation as production batches. Stateless and
 * thread-safe.
 */
public final class GoldenCheck {

    /** Golden examples scored per batch (bounds the memory of one check). */
    static final int BATCH = 64;

    private GoldenCheck() {}

    /** One golden example the model got wrong. The text is not included: it may be customer data. */
    public record Miss(int index, String expected, String actual, float score) {}

    /**
     * Scores every golden example; returns the misses (empty when all pass).
     *
     * @throws ScoringException when scoring fails; kind {@link ScoringException.Kind#OUTPUT_INVALID}
     *     when the model's output for a golden example is not a probability distribution
     */
    public static List<Miss> run(ScoringSession session) throws ScoringException {
        List<ModelManifest.GoldenExample> golden = session.manifest().golden();
        List<Prediction> predictions = predictions(session);
        List<Miss> misses = new ArrayList<>();
        for (int i = 0; i < golden.size(); i++) {
            Prediction p = predictions.get(i);
            if (!p.label().equals(golden.get(i).label())) {
                misses.add(new Miss(i, golden.get(i).label(), p.label(), p.score()));
            }
        }
        return misses;
    }

    /**
     * The session's prediction for every golden example, scored in the batches {@link #run} scores them in (an
     * int8 graph's scores depend a little on which texts share a batch): tools that choose golden examples use
     * it to keep only those with a margin.
     */
    public static List<Prediction> predictions(ScoringSession session) throws ScoringException {
        List<ModelManifest.GoldenExample> golden = session.manifest().golden();
        List<Prediction> out = new ArrayList<>(golden.size());
        for (int from = 0; from < golden.size(); from += BATCH) {
            List<ModelManifest.GoldenExample> chunk = golden.subList(from, Math.min(golden.size(), from + BATCH));
            out.addAll(session.scoreTexts(
                    chunk.stream().map(ModelManifest.GoldenExample::text).toList()));
        }
        return out;
    }

    /**
     * Throws {@code MODEL_OUTPUT_INVALID} when the output for a golden example is not a probability
     * distribution, {@code ADMISSION_FAILED} listing the misses (or when scoring fails otherwise).
     */
    public static void require(ScoringSession session) throws BundleException {
        List<Miss> misses;
        try {
            misses = run(session);
        } catch (ScoringException e) {
            BundleException.Reason reason = e.kind() == ScoringException.Kind.OUTPUT_INVALID
                    ? BundleException.Reason.MODEL_OUTPUT_INVALID
                    : BundleException.Reason.ADMISSION_FAILED;
            throw new BundleException(
                    reason, "golden examples of " + session.bundle() + " could not be scored: " + e.getMessage(), e);
        }
        if (!misses.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (Miss m : misses) {
                sb.append(String.format(
                        java.util.Locale.ROOT,
                        " #%d expected %s got %s (%.3f);",
                        m.index(),
                        m.expected(),
                        m.actual(),
                        m.score()));
            }
            throw new BundleException(
                    BundleException.Reason.ADMISSION_FAILED,
                    misses.size() + " of " + session.manifest().golden().size() + " golden examples of "
                            + session.bundle().id() + ":" + session.bundle().version() + " failed:" + sb);
        }
    }
}
