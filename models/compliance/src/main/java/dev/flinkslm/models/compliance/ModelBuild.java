package dev.flinkslm.models.compliance;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Logic of the {@code model build} command: retrains the default compliance head from the authored corpus
 * ({@link ModelTrain}: MLP head, class weights, temperature, golden examples from a 20% holdout) and writes
 * {@code compliance-head.json} and both bundles ({@code compliance-minilm-<version>-int8/}, {@code -fp32/}) into
 * an output directory, then prints holdout and independent-evaluation figures for both variants.
 *
 * <p>To make a new head the default, copy {@code <outDir>/compliance-head.json} over
 * {@code models/compliance/src/main/resources/dev/flinkslm/models/compliance/compliance-head.json} and commit it; cached
 * bundles built from the old head are rebuilt automatically on next use. Stateless and thread-safe, but a
 * build uses both cores for minutes: run one at a time.
 *
 * <pre>{@code
 * DefaultModel.TrainingSummary s = ModelBuild.run(Path.of("/tmp/compliance-build"), null, null, System.out);
 * }</pre>
 */
public final class ModelBuild {

    private ModelBuild() {}

    /**
     * @param outDir output directory (created)
     * @param corpusJsonl corpus with text/label, or null for the committed authored corpus
     * @param evalJsonl evaluation set, or null for the committed independent one
     */
    public static DefaultModel.TrainingSummary run(Path outDir, Path corpusJsonl, Path evalJsonl, PrintStream out) {
        long t0 = System.nanoTime();
        DefaultModel.TrainingSummary s = DefaultModel.trainAndWrite(corpusJsonl, evalJsonl, outDir, out);
        for (Precision p : Precision.values()) {
            out.println();
            out.println("== " + p.tag() + " on the holdout ==");
            s.holdout().get(p).print(out);
            out.println();
            out.println("== " + p.tag() + " on the evaluation set ==");
            s.eval().get(p).print(out);
        }
        out.println();
        out.printf(
                Locale.ROOT,
                "int8/fp32 agreement: holdout %.4f, evaluation set %.4f%n",
                s.holdoutAgreement(),
                s.evalAgreement());
        out.println("head: " + s.headFile());
        s.bundles().forEach((p, d) -> out.println("bundle " + p.tag() + ": " + d));
        out.printf(Locale.ROOT, "build took %d s%n", (System.nanoTime() - t0) / 1_000_000_000L);
        return s;
    }

    /** {@code ModelBuild <outDir> [corpus.jsonl] [eval.jsonl]} for use without the CLI module. */
    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: ModelBuild <outDir> [corpus.jsonl] [eval.jsonl]");
            System.exit(2);
        }
        run(
                Path.of(args[0]),
                args.length > 1 ? Path.of(args[1]) : null,
                args.length > 2 ? Path.of(args[2]) : null,
                System.out);
    }
}
