package dev.flinkslm.models.compliance.internal;

import dev.flinkslm.models.compliance.ComplianceLabels;
import dev.flinkslm.models.compliance.EvalReport;
import dev.flinkslm.models.compliance.Precision;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Training procedure of the compliance head: embed the corpus with the frozen fp32 encoder, choose the L2
 * penalty on the validation split, refit on train+validation with that penalty. Deterministic. Stateless.
 */
public final class ComplianceTraining {

    private static final Logger LOG = LoggerFactory.getLogger(ComplianceTraining.class);

    /** L2 penalties tried on the validation split (standardised feature space). */
    public static final double[] L2_GRID = {1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0};

    /** Outcome of {@link #train}. */
    public record Result(SoftmaxHead head, double l2, Map<Double, Double> validationMacroF1) {}

    private ComplianceTraining() {}

    /** Opens the unfused built-in encoder of a precision (the graph the default model's head sits on). */
    public static OrtTextModel openEncoder(Precision p) {
        return OrtTextModel.open(p.encoderGraph(), EncoderTokenizer.fromResource(p.tokenizerResource()));
    }

    /** Sentence embeddings of the unfused encoder for every text. */
    public static float[][] embed(List<LabeledText> texts, Precision p) {
        long t0 = System.nanoTime();
        try (OrtTextModel enc = openEncoder(p)) {
            float[][] e = enc.embedUnfused(texts.stream().map(LabeledText::text).toList());
            LOG.info(
                    "Embedded {} texts with the {} encoder in {} ms",
                    texts.size(),
                    p.tag(),
                    (System.nanoTime() - t0) / 1_000_000);
            return e;
        }
    }

    /** Trains the head on {@code corpus} whose fp32 embeddings are {@code emb} (same order). */
    public static Result train(List<LabeledText> corpus, float[][] emb, int iterations) {
        List<Integer> train = indices(corpus, "train");
        List<Integer> val = indices(corpus, "val");
        List<Integer> trainVal = new ArrayList<>(train);
        trainVal.addAll(val);
        if (train.isEmpty() || val.isEmpty()) {
            throw new IllegalArgumentException("Corpus needs non-empty train and val splits");
        }
        Map<Double, Double> scores = new LinkedHashMap<>();
        double best = -1;
        double bestL2 = L2_GRID[0];
        for (double l2 : L2_GRID) {
            SoftmaxHead h =
                    HeadTrainer.train(rows(emb, train), labels(corpus, train), ComplianceLabels.ALL, l2, iterations);
            double f1 = evaluate(h, rows(emb, val), labels(corpus, val)).macroF1();
            scores.put(l2, f1);
            LOG.info("l2={} validation macro-F1={}", l2, String.format(Locale.ROOT, "%.4f", f1));
            // ">=" prefers the stronger penalty on ties: smoother heads transfer better to unseen wording
            if (f1 >= best) {
                best = f1;
                bestL2 = l2;
            }
        }
        SoftmaxHead head = HeadTrainer.train(
                rows(emb, trainVal), labels(corpus, trainVal), ComplianceLabels.ALL, bestL2, iterations);
        return new Result(head, bestL2, scores);
    }

    /** Evaluates a head on given embeddings in plain Java. */
    public static EvalReport evaluate(SoftmaxHead h, float[][] x, int[] y) {
        int[] pred = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            pred[i] = h.predict(x[i]);
        }
        return new EvalReport(h.labels(), y, pred);
    }

    public static List<Integer> indices(List<LabeledText> corpus, String split) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) {
            if (split.equals(corpus.get(i).split())) {
                out.add(i);
            }
        }
        return out;
    }

    public static float[][] rows(float[][] emb, List<Integer> idx) {
        float[][] r = new float[idx.size()][];
        for (int i = 0; i < r.length; i++) {
            r[i] = emb[idx.get(i)];
        }
        return r;
    }

    public static int[] labels(List<LabeledText> corpus, List<Integer> idx) {
        int[] y = new int[idx.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = ComplianceLabels.indexOf(corpus.get(idx.get(i)).label());
        }
        return y;
    }
}
