package dev.flinkslm.models.compliance;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * Confusion matrix with per-label precision, recall and F1 and their macro average.
 *
 * <p>Rows are gold labels, columns predicted labels. A label that is never predicted has precision 0, a
 * label with no gold examples has recall 0 (and is still counted in the macro average, so a fixture missing
 * a label is visibly penalised rather than silently skipped). Immutable after construction; thread-safe.
 *
 * <pre>{@code
 * EvalReport r = new EvalReport(ComplianceLabels.ALL, goldIndices, predictedIndices);
 * r.print(System.out); // last line: macro_f1=0.8664
 * }</pre>
 */
public final class EvalReport {

    private final List<String> labels;
    private final int[][] confusion;

    /** Builds a report from gold and predicted label indices. */
    public EvalReport(List<String> labels, int[] gold, int[] predicted) {
        if (gold.length != predicted.length) {
            throw new IllegalArgumentException("gold and predicted differ in length");
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

    /** Prints the matrix, the per-label table and, as the last line, {@code macro_f1=<4 decimals>}. */
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
        out.println(String.format(Locale.ROOT, "macro_f1=%.4f", macroF1()));
    }
}
