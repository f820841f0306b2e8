package dev.flinkslm.models;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a bundle's golden examples on an open session: a version whose golden examples do not get
 * their expected labels is not admitted.
 */
public final class GoldenCheck {

    private GoldenCheck() {}

    /** One golden example the model got wrong. The text is not included: it may be customer data. */
    public record Miss(int index, String expected, String actual, float score) {}

    /** Scores every golden example; returns the misses (empty when all pass). */
    public static List<Miss> run(ScoringSession session) throws ScoringException {
        List<ModelManifest.GoldenExample> golden = session.manifest().golden();
        if (golden.isEmpty()) {
            return List.of();
        }
        List<String> texts = golden.stream().map(ModelManifest.GoldenExample::text).toList();
        List<Prediction> predictions = session.scoreTexts(texts);
        List<Miss> misses = new ArrayList<>();
        for (int i = 0; i < golden.size(); i++) {
            Prediction p = predictions.get(i);
            if (!p.label().equals(golden.get(i).label())) {
                misses.add(new Miss(i, golden.get(i).label(), p.label(), p.score()));
            }
        }
        return misses;
    }

    /** Throws {@code ADMISSION_FAILED} listing the misses, if any. */
    public static void require(ScoringSession session) throws BundleException {
        List<Miss> misses;
        try {
            misses = run(session);
        } catch (ScoringException e) {
            throw new BundleException(BundleException.Reason.ADMISSION_FAILED,
                    "golden examples of " + session.bundle() + " could not be scored: " + e.getMessage(), e);
        }
        if (!misses.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (Miss m : misses) {
                sb.append(String.format(" #%d expected %s got %s (%.3f);", m.index(), m.expected(), m.actual(), m.score()));
            }
            throw new BundleException(BundleException.Reason.ADMISSION_FAILED,
                    misses.size() + " of " + session.manifest().golden().size() + " golden examples of "
                            + session.bundle().id() + ":" + session.bundle().version() + " failed:" + sb);
        }
    }
}
