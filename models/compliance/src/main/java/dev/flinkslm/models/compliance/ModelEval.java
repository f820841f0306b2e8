package dev.flinkslm.models.compliance;

import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.compliance.internal.BundleClassifier;
import dev.flinkslm.models.compliance.internal.LabeledText;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Logic of the {@code model eval} command: scores a labelled JSON-lines file with a bundle and prints the
 * confusion matrix, per-label precision/recall/F1 and, as the last line,
 * {@code macro_f1=<v> clear_fpr=<v> ece=<v>} (see {@link EvalReport}; {@code clear} is the bundle's
 * negative label). When examples carry {@code "kind":"hard_negative"} (benign texts about a risky topic, as in
 * the independent evaluation set), the line before the report's says how many of them were flagged.
 *
 * <pre>{@code
 * EvalReport r = ModelEval.run(DefaultModel.bundleDirectory(Precision.INT8), Path.of("eval.jsonl"), System.out);
 * }</pre>
 *
 * <p>Stateless and thread-safe. Lines whose label is not one of the bundle's labels are rejected with the line's
 * label and the valid set, so a mismatched data file fails loudly instead of skewing the figures.
 */
public final class ModelEval {

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private ModelEval() {}

    /** Per example (blank lines skipped), whether its {@code kind} is {@code hard_negative}. */
    private static List<Boolean> hardNegatives(Path dataJsonl) {
        List<Boolean> out = new java.util.ArrayList<>();
        try {
            for (String line : java.nio.file.Files.readAllLines(dataJsonl)) {
                if (!line.isBlank()) {
                    out.add("hard_negative"
                            .equals(JSON.readTree(line).path("kind").asText("")));
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("Cannot read " + dataJsonl, e);
        }
        return out;
    }

    /**
     * Evaluates {@code bundleDir} on {@code dataJsonl} (lines {@code {"text":..,"label":..}}).
     *
     * @return the report that was printed
     */
    public static EvalReport run(Path bundleDir, Path dataJsonl, PrintStream out) {
        List<LabeledText> data = LabeledText.read(dataJsonl);
        if (data.isEmpty()) {
            throw new IllegalArgumentException(dataJsonl + " holds no examples");
        }
        try (BundleClassifier c = BundleClassifier.open(bundleDir)) {
            List<String> labels = c.labels();
            int[] gold = new int[data.size()];
            for (int i = 0; i < gold.length; i++) {
                gold[i] = labels.indexOf(data.get(i).label());
                if (gold[i] < 0) {
                    throw new IllegalArgumentException(dataJsonl + ": example " + (i + 1) + " has label '"
                            + data.get(i).label() + "', which the bundle does not know; its labels are " + labels);
                }
            }
            long t0 = System.nanoTime();
            List<Prediction> p = c.predict(data.stream().map(LabeledText::text).toList());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            EvalReport r = EvalReport.of(labels, gold, p, c.negativeLabelIndex());
            out.printf(
                    Locale.ROOT,
                    "bundle=%s data=%s examples=%d scoring_ms=%d%n",
                    bundleDir,
                    dataJsonl,
                    data.size(),
                    ms);
            List<Boolean> hard = hardNegatives(dataJsonl);
            if (hard.contains(Boolean.TRUE) && c.negativeLabelIndex() >= 0) {
                int n = 0;
                int flagged = 0;
                for (int i = 0; i < data.size(); i++) {
                    // a hard negative is a text of the negative label; a mislabelled kind does not count
                    if (hard.get(i) && gold[i] == c.negativeLabelIndex()) {
                        n++;
                        flagged += p.get(i).labelIndex() != c.negativeLabelIndex() ? 1 : 0;
                    }
                }
                out.printf(
                        Locale.ROOT,
                        "hard_negatives=%d flagged=%d hard_negative_fpr=%.4f%n",
                        n,
                        flagged,
                        (double) flagged / n);
            }
            r.print(out);
            return r;
        }
    }
}
