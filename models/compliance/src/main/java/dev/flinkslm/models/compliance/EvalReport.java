package dev.flinkslm.models.compliance;

import dev.flinkslm.models.Prediction;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * Confusion matrix with per-label precision, recall and F1 and their macro average; with the
 * predictions' scores also the false-positive rate of the negative label and the calibration error.
 *
 * <p>Rows are gold labels, columns predicted labels. A label that is never predicted has precision 0, a
 * label with no gold examples has recall 0 (and is still counted in the macro average, so a fixture missing
 * a label is visibly penalised rather than silently skipped). Immutable after construction; thread-safe.
 *
 * <pre>{@code
 * EvalReport r = new EvalReport(ComplianceLabels.ALL, goldIndices, predictedIndices);
 * EvalReport s = EvalReport.of(labels, goldIndices, predictions, negativeIndex);
 * s.print(System.out); // last line: macro_f1=0.8664 clear_fpr=0.1000 ece=0.0412
 * }</pre>
 *
 * <p>{@link #negativeFalsePositiveRate()}: of the examples whose gold label is the negative one
 * ({@code clear}), the share predicted as any other label: on a file of hard negatives, the rate at
 * which benign texts that mention a risky topic would alert. {@link #expectedCalibrationError()}:
 * the top-label scores in {@value #BINS} equal-width bins {@code [k/10, (k+1)/10)} (a score of 1 in
 * the last), the mean over bins of |accuracy - mean score| weighted by the bin's share of the
 * examples. For a text scored in several windows the top-label score is the combined one (the
 * maximum over windows, the minimum for the negative label), which is what alerts are decided on.
 */
public final class EvalReport {

    /** Confidence bins of the calibration error. */
    public static final int BINS = 10;

    private final List<String> labels;
    private final int[][] confusion;
    private final int negative;
    private final double[] confidence;
    private final boolean[] correct;
    private final int[] predicted;

    /** Builds a report from gold and predicted label indices. */
    public EvalReport(List<String> labels, int[] gold, int[] predicted) {
        this(labels, gold, predicted, null, -1);
    }

    /**
     * A report of a bundle's predictions (label index and score of each) against gold label
     * indices; {@code negativeIndex} is the bundle's negative label ({@code clear}), or -1.
     */
    public static EvalReport of(List<String> labels, int[] gold, List<Prediction> predictions, int negativeIndex) {
        if (negativeIndex < -1 || negativeIndex >= labels.size()) {
            throw new IllegalArgumentException(
                    "negative label index " + negativeIndex + " is not -1 or an index of " + labels);
        }
        int[] predicted = predictions.stream().mapToInt(Prediction::labelIndex).toArray();
        double[] scores = predictions.stream().mapToDouble(Prediction::score).toArray();
        for (int i = 0; i < scores.length; i++) {
            if (!(scores[i] >= 0 && scores[i] <= 1)) {
                throw new IllegalArgumentException("prediction " + i + " has score " + scores[i]
                        + "; the calibration error needs scores in [0, 1]");
            }
        }
        return new EvalReport(labels, gold, predicted, scores, negativeIndex);
    }

    private EvalReport(List<String> labels, int[] gold, int[] predicted, double[] scores, int negativeIndex) {
        if (gold.length != predicted.length || scores != null && scores.length != gold.length) {
            throw new IllegalArgumentException("gold, predicted and scores differ in length");
        }
        this.negative = negativeIndex;
        this.confidence = scores == null ? null : scores.clone();
        this.predicted = predicted.clone();
        this.correct = new boolean[gold.length];
        for (int i = 0; i < gold.length; i++) {
            correct[i] = gold[i] == predicted[i];
        }
        this.labels = List.copyOf(labels);
        this.confusion = new int[labels.size()][labels.size()];
        for (int i = 0; i < gold.length; i++) {
            confusion[gold[i]][predicted[i]]++;
        }
    }

    public List<String> labels() {
        return labels;
    }

    /** Copy of the confusion matrix, [gold][predicted]. */
    public int[][] confusion() {
        int[][] c = new int[confusion.length][];
        for (int i = 0; i < c.length; i++) {
            c[i] = confusion[i].clone();
        }
        return c;
    }

    public int total() {
        int n = 0;
        for (int[] row : confusion) {
            for (int v : row) {
                n += v;
            }
        }
        return n;
    }

    public double accuracy() {
        int ok = 0;
        for (int i = 0; i < confusion.length; i++) {
            ok += confusion[i][i];
        }
        return total() == 0 ? 0 : (double) ok / total();
    }

    public double precision(int k) {
        int col = 0;
        for (int[] row : confusion) {
            col += row[k];
        }
        return col == 0 ? 0 : (double) confusion[k][k] / col;
    }

    public double recall(int k) {
        int row = 0;
        for (int v : confusion[k]) {
            row += v;
        }
        return row == 0 ? 0 : (double) confusion[k][k] / row;
    }

    public double f1(int k) {
        double p = precision(k);
        double r = recall(k);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    public double macroF1() {
        double s = 0;
        for (int k = 0; k < labels.size(); k++) {
            s += f1(k);
        }
        return s / labels.size();
    }

    /**
     * Of the gold-negative examples, the share predicted as another label; NaN without a negative
     * label or without such examples.
     */
    public double negativeFalsePositiveRate() {
        if (negative < 0) {
            return Double.NaN;
        }
        int support = 0;
        for (int v : confusion[negative]) {
            support += v;
        }
        return support == 0 ? Double.NaN : (double) (support - confusion[negative][negative]) / support;
    }

    /**
     * Of the rows predicted as another label than the negative one (every row when there is none) with a score
     * of at least {@code threshold}: the share whose prediction is right, and how many there are
     * ({@code {precision, count}}; precision NaN when there are none or no scores).
     */
    public double[] alertPrecisionAt(double threshold) {
        if (confidence == null) {
            return new double[] {Double.NaN, 0};
        }
        int alerts = 0;
        int right = 0;
        for (int i = 0; i < predicted.length; i++) {
            if (predicted[i] != negative && confidence[i] >= threshold) {
                alerts++;
                right += correct[i] ? 1 : 0;
            }
        }
        return new double[] {alerts == 0 ? Double.NaN : (double) right / alerts, alerts};
    }

    /** Expected calibration error of the top-label confidence over {@value #BINS} bins; NaN without scores. */
    public double expectedCalibrationError() {
        if (confidence == null || confidence.length == 0) {
            return Double.NaN;
        }
        double[] conf = new double[BINS];
        int[] hits = new int[BINS];
        int[] count = new int[BINS];
        for (int i = 0; i < confidence.length; i++) {
            int b = Math.min(BINS - 1, Math.max(0, (int) (confidence[i] * BINS)));
            conf[b] += confidence[i];
            hits[b] += correct[i] ? 1 : 0;
            count[b]++;
        }
        double ece = 0;
        for (int b = 0; b < BINS; b++) {
            if (count[b] > 0) {
                ece += Math.abs((double) hits[b] / count[b] - conf[b] / count[b]) * count[b] / confidence.length;
            }
        }
        return ece;
    }

    /**
     * Prints the matrix, the per-label table and, as the last line, {@code macro_f1=<v>} followed,
     * when known, by {@code <negative>_fpr=<v>} and {@code ece=<v>} (4 decimals each).
     */
    public void print(PrintStream out) {
        int w = Math.max(12, labels.stream().mapToInt(String::length).max().orElse(0) + 2);
        out.println("confusion matrix (rows = gold, columns = predicted), n=" + total());
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", "gold\\pred"));
        for (String l : labels) {
            header.append(String.format(Locale.ROOT, "%" + w + "s", l));
        }
        out.println(header);
        for (int i = 0; i < labels.size(); i++) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", labels.get(i)));
            for (int j = 0; j < labels.size(); j++) {
                row.append(String.format(Locale.ROOT, "%" + w + "d", confusion[i][j]));
            }
            out.println(row);
        }
        out.println();
        out.println(String.format(
                Locale.ROOT, "%-" + w + "s%10s%10s%10s%10s", "label", "precision", "recall", "f1", "support"));
        for (int k = 0; k < labels.size(); k++) {
            int support = 0;
            for (int v : confusion[k]) {
                support += v;
            }
            out.println(String.format(
                    Locale.ROOT,
                    "%-" + w + "s%10.4f%10.4f%10.4f%10d",
                    labels.get(k),
                    precision(k),
                    recall(k),
                    f1(k),
                    support));
        }
        out.println(String.format(Locale.ROOT, "accuracy=%.4f", accuracy()));
        out.println(summaryLine());
    }

    /** {@code macro_f1=<v>[ <negative>_fpr=<v>][ ece=<v>]}, the last line {@link #print} writes. */
    public String summaryLine() {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "macro_f1=%.4f", macroF1()));
        double fpr = negativeFalsePositiveRate();
        if (!Double.isNaN(fpr)) {
            line.append(String.format(Locale.ROOT, " %s_fpr=%.4f", labels.get(negative), fpr));
        }
        double ece = expectedCalibrationError();
        if (!Double.isNaN(ece)) {
            line.append(String.format(Locale.ROOT, " ece=%.4f", ece));
        }
        return line.toString();
    }
}
