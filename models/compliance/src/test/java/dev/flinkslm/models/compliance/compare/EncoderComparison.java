package dev.flinkslm.models.compliance.compare;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.compliance.ComplianceLabels;
import dev.flinkslm.models.compliance.EvalReport;
import dev.flinkslm.models.compliance.internal.ComplianceTraining;
import dev.flinkslm.models.compliance.internal.EncoderTokenizer;
import dev.flinkslm.models.compliance.internal.HeadTrainer;
import dev.flinkslm.models.compliance.internal.LabeledText;
import dev.flinkslm.models.compliance.internal.OnnxHeadFusion;
import dev.flinkslm.models.compliance.internal.OrtTextModel;
import dev.flinkslm.models.compliance.internal.Resources;
import dev.flinkslm.models.compliance.internal.SoftmaxHead;
import dev.flinkslm.models.compliance.internal.TokenizedBatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * Compares encoders x pooling x head for the compliance classifier and writes one markdown table.
 *
 * <p>Not a unit test (its name does not end in {@code Test}, so surefire never runs it): a test-scope program.
 * From the repository root, after {@code mvn -o -q -B install -DskipTests}:
 *
 * <pre>{@code
 * cd models/compliance
 * mvn -o -q -B dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * CP=$(sed -e 's#[^:]*flink-slm-models-0.1.0-SNAPSHOT.jar#../runtime/target/classes#' target/cp.txt)
 * java -Xmx8g -cp $CP:target/classes:target/test-classes \
 *     dev.flinkslm.models.compliance.compare.EncoderComparison CORPUS.jsonl EVAL.jsonl OUT.md \
 *     [--encoders all-MiniLM-L6-v2/int8,bge-small-en-v1.5/int8] [--rounds 5] [--threads 2]
 * }</pre>
 *
 * <p>The {@code sed} puts this tree's runtime classes in place of the shared local repository's jar, which another
 * build may overwrite while the comparison runs (a jar replaced under a running JVM fails with
 * NoClassDefFoundError). Heap: the token states of one encoder at a time (~0.3 GB for 8,000 texts of ~25 tokens).
 *
 * <p>Procedure, per encoder: one forward pass over the corpus and the evaluation texts keeps the token states
 * (at most {@value EncoderTokenizer#MAX_LENGTH} tokens per text) and the mean- and CLS-pooled, L2-normalised
 * vectors in memory; each head is fitted on the {@code train} split with every value of its regularisation grid,
 * the value with the best {@code val} macro-F1 is kept (ties: the stronger one), and the head is refitted on
 * train+val with it (the procedure of {@link ComplianceTraining}, which trains the linear heads). Before that,
 * throughput is measured with all encoders loaded, in interleaved rounds on the evaluation texts. Single-threaded
 * driver; training jobs of one encoder run on {@code --threads} threads while no encoder runs.
 */
public final class EncoderComparison {

    static final String HIDDEN = OnnxHeadFusion.HIDDEN;
    static final int MLP_HIDDEN = 128;
    /**
     * Decoupled weight decay grid of the Adam-trained heads, per unit learning rate (~1070 steps on an 8,000-text
     * corpus shrink a weight that gets no gradient by exp(-1.6 wd)). A first run with {0.01, 0.1, 1} chose 1, the
     * edge, for 19 of 24 heads, and 0.01 and 0.1 scored alike; hence this range.
     */
    static final double[] WEIGHT_DECAY_GRID = {0.1, 1.0, 3.0};

    private static final List<String> LABELS = ComplianceLabels.ALL;
    private static final int CLEAR = ComplianceLabels.indexOf(ComplianceLabels.CLEAR);
    private static final int ECE_BINS = 15;

    private EncoderComparison() {}

    /** Token states and pooled vectors of a list of texts under one encoder (same order as the texts). */
    record Encoded(List<float[]> states, int[] tokens, float[][] mean, float[][] cls) {}

    /** Evaluation rows, their gold label indices, and the rows whose clear-FPR counts (hard negatives). */
    record EvalData(List<LabeledText> rows, int[] gold, int[] negatives, boolean byKind) {}

    /** One trained combination's probabilities on the evaluation set and on the corpus test split. */
    record Outcome(String pooling, String head, String setting, double[][] eval, double[][] test, long trainMs) {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: EncoderComparison CORPUS.jsonl EVAL.jsonl OUT.md [--encoders id,id] "
                    + "[--rounds N] [--threads N]\n  encoder ids: "
                    + ComparedEncoder.ALL.stream().map(ComparedEncoder::id).toList());
            System.exit(2);
        }
        Path corpusPath = Path.of(args[0]);
        Path evalPath = Path.of(args[1]);
        Path outPath = Path.of(args[2]);
        List<ComparedEncoder> encoders = ComparedEncoder.ALL;
        int rounds = 5;
        int threads = 2;
        for (int i = 3; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--encoders" -> {
                    List<String> ids = List.of(args[i + 1].split(","));
                    encoders = ComparedEncoder.ALL.stream()
                            .filter(e -> ids.contains(e.id()))
                            .toList();
                    if (encoders.size() != ids.size()) {
                        throw new IllegalArgumentException("Unknown encoder in " + ids + "; known: "
                                + ComparedEncoder.ALL.stream()
                                        .map(ComparedEncoder::id)
                                        .toList());
                    }
                }
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        if (rounds < 3) {
            throw new IllegalArgumentException("--rounds must be at least 3 for a median and a range");
        }
        String md = run(corpusPath, evalPath, encoders, rounds, threads);
        Files.writeString(outPath, md, StandardCharsets.UTF_8);
        System.out.println(md);
        System.out.println("written to " + outPath);
    }

    static String run(Path corpusPath, Path evalPath, List<ComparedEncoder> encoders, int rounds, int threads)
            throws InterruptedException, ExecutionException {
        long t0 = System.nanoTime();
        String loadAtStart = loadAverage();
        List<LabeledText> corpus = LabeledText.read(corpusPath);
        EvalData eval = readEval(evalPath);
        List<Integer> train = ComplianceTraining.indices(corpus, "train");
        List<Integer> val = ComplianceTraining.indices(corpus, "val");
        List<Integer> test = ComplianceTraining.indices(corpus, "test");
        List<Integer> trainVal = new ArrayList<>(train);
        trainVal.addAll(val);
        int[] yAll = ComplianceTraining.labels(
                corpus, IntStream.range(0, corpus.size()).boxed().toList());

        // 1. throughput, all encoders loaded, interleaved rounds on the evaluation texts
        Map<String, double[]> rates = new LinkedHashMap<>();
        Map<String, String> sizes = new LinkedHashMap<>();
        List<OrtTextModel> models = new ArrayList<>();
        List<List<TokenizedBatch>> benchBatches = new ArrayList<>();
        try {
            for (ComparedEncoder e : encoders) {
                byte[] onnx = Resources.read(e.onnxResource());
                sizes.put(e.id(), sizeCell(onnx));
                OrtTextModel m = OrtTextModel.open(onnx, EncoderTokenizer.fromResource(e.tokenizerResource()));
                models.add(m);
                List<TokenizedBatch> bs = batches(m.tokenizer(), prefixed(e, texts(eval.rows())));
                benchBatches.add(bs);
                forwardPass(m, bs); // warm-up
                rates.put(e.id(), new double[rounds]);
            }
            int n = eval.rows().size();
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < encoders.size(); k++) {
                    double secs = forwardPass(models.get(k), benchBatches.get(k));
                    rates.get(encoders.get(k).id())[r] = n / secs;
                }
            }
        } finally {
            models.forEach(OrtTextModel::close);
        }
        long benchMs = (System.nanoTime() - t0) / 1_000_000;
        String loadAfterBench = loadAverage();
        log("throughput measured in %d ms", benchMs);

        // 2. per encoder: one encoding pass, then all heads
        Map<String, List<Outcome>> outcomes = new LinkedHashMap<>();
        Map<String, Encoded> evalVectors = new LinkedHashMap<>();
        Map<String, Long> encodeMs = new LinkedHashMap<>();
        Map<String, Double> meanTokens = new LinkedHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (ComparedEncoder e : encoders) {
                long te = System.nanoTime();
                Encoded c;
                Encoded ev;
                try (OrtTextModel m = OrtTextModel.open(
                        Resources.read(e.onnxResource()), EncoderTokenizer.fromResource(e.tokenizerResource()))) {
                    c = encode(m, prefixed(e, texts(corpus)));
                    ev = encode(m, prefixed(e, texts(eval.rows())));
                }
                encodeMs.put(e.id(), (System.nanoTime() - te) / 1_000_000);
                meanTokens.put(e.id(), Arrays.stream(c.tokens()).average().orElse(0));
                log(
                        "%s: encoded %d + %d texts in %d ms (%.1f tokens per text)",
                        e.id(), corpus.size(), eval.rows().size(), encodeMs.get(e.id()), meanTokens.get(e.id()));
                evalVectors.put(e.id(), new Encoded(List.of(), ev.tokens(), ev.mean(), ev.cls()));
                List<Future<Outcome>> jobs = new ArrayList<>();
                for (String pooling : List.of("mean", "cls")) {
                    float[][] x = pooling.equals("mean") ? c.mean() : c.cls();
                    float[][] xe = pooling.equals("mean") ? ev.mean() : ev.cls();
                    jobs.add(pool.submit(() -> linear(pooling, corpus, x, xe, test)));
                    jobs.add(pool.submit(() -> adam(
                            pooling,
                            false,
                            MLP_HIDDEN,
                            asStates(x),
                            ones(x.length),
                            asStates(xe),
                            ones(xe.length),
                            yAll,
                            train,
                            val,
                            trainVal,
                            test)));
                }
                for (int hidden : new int[] {0, MLP_HIDDEN}) {
                    jobs.add(pool.submit(() -> adam(
                            "attention",
                            true,
                            hidden,
                            c.states(),
                            c.tokens(),
                            ev.states(),
                            ev.tokens(),
                            yAll,
                            train,
                            val,
                            trainVal,
                            test)));
                }
                List<Outcome> done = new ArrayList<>();
                for (Future<Outcome> f : jobs) {
                    done.add(f.get());
                }
                outcomes.put(e.id(), done);
                log("%s: trained %d heads in %d ms", e.id(), done.size(), (System.nanoTime() - te) / 1_000_000);
            }
        } finally {
            pool.shutdown();
        }
        long totalMs = (System.nanoTime() - t0) / 1_000_000;
        return markdown(
                corpusPath,
                evalPath,
                corpus,
                eval,
                train,
                val,
                test,
                encoders,
                rates,
                sizes,
                outcomes,
                evalVectors,
                encodeMs,
                meanTokens,
                benchMs,
                totalMs,
                rounds,
                threads,
                "load average (1, 5, 15 min) at start " + loadAtStart + ", after the throughput rounds "
                        + loadAfterBench + ", at the end " + loadAverage());
    }

    // ---------------------------------------------------------------- training

    private static Outcome linear(
            String pooling, List<LabeledText> corpus, float[][] x, float[][] xe, List<Integer> test) {
        long t = System.nanoTime();
        ComplianceTraining.Result r = ComplianceTraining.train(corpus, x, HeadTrainer.DEFAULT_ITERATIONS);
        SoftmaxHead h = r.head();
        log("%s linear: L2=%s (%d ms)", pooling, r.l2(), (System.nanoTime() - t) / 1_000_000);
        double[][] pe = new double[xe.length][];
        for (int i = 0; i < xe.length; i++) {
            pe[i] = h.probabilities(xe[i]);
        }
        double[][] pt = new double[test.size()][];
        for (int i = 0; i < pt.length; i++) {
            pt[i] = h.probabilities(x[test.get(i)]);
        }
        return new Outcome(pooling, "linear", "HeadTrainer, L2=" + r.l2(), pe, pt, (System.nanoTime() - t) / 1_000_000);
    }

    private static Outcome adam(
            String pooling,
            boolean attention,
            int hidden,
            List<float[]> states,
            int[] tokens,
            List<float[]> evalStates,
            int[] evalTokens,
            int[] y,
            List<Integer> train,
            List<Integer> val,
            List<Integer> trainVal,
            List<Integer> test) {
        long t = System.nanoTime();
        IntFunction<TokenHeadTrainer.Config> cfg = k -> attention
                ? TokenHeadTrainer.Config.attention(hidden, WEIGHT_DECAY_GRID[k])
                : TokenHeadTrainer.Config.mlp(hidden, WEIGHT_DECAY_GRID[k]);
        double best = -1;
        int bestK = 0;
        StringBuilder grid = new StringBuilder();
        for (int k = 0; k < WEIGHT_DECAY_GRID.length; k++) {
            TokenHead h = fit(states, tokens, y, train, cfg.apply(k));
            int[] pred = new int[val.size()];
            for (int i = 0; i < pred.length; i++) {
                pred[i] = SoftmaxHead.argmax(h.probabilities(states.get(val.get(i)), tokens[val.get(i)]));
            }
            double f1 = new EvalReport(LABELS, pick(y, val), pred).macroF1();
            grid.append(String.format(Locale.ROOT, "%s%s:%.3f", k == 0 ? "" : " ", WEIGHT_DECAY_GRID[k], f1));
            // ">=" prefers the stronger decay on ties, as ComplianceTraining does for L2
            if (f1 >= best) {
                best = f1;
                bestK = k;
            }
        }
        TokenHead h = fit(states, tokens, y, trainVal, cfg.apply(bestK));
        double[][] pe = new double[evalStates.size()][];
        for (int i = 0; i < pe.length; i++) {
            pe[i] = h.probabilities(evalStates.get(i), evalTokens[i]);
        }
        double[][] pt = new double[test.size()][];
        for (int i = 0; i < pt.length; i++) {
            pt[i] = h.probabilities(states.get(test.get(i)), tokens[test.get(i)]);
        }
        log(
                "%s %s: val macro-F1 by weight decay %s -> wd=%s (%d ms)",
                pooling,
                hidden == 0 ? "linear" : "mlp",
                grid,
                WEIGHT_DECAY_GRID[bestK],
                (System.nanoTime() - t) / 1_000_000);
        String setting = (attention ? "w + " : "") + (hidden == 0 ? "softmax" : "MLP " + hidden + " ReLU")
                + " by Adam, wd=" + WEIGHT_DECAY_GRID[bestK];
        return new Outcome(
                pooling, hidden == 0 ? "linear" : "mlp", setting, pe, pt, (System.nanoTime() - t) / 1_000_000);
    }

    private static TokenHead fit(
            List<float[]> states, int[] tokens, int[] y, List<Integer> idx, TokenHeadTrainer.Config cfg) {
        List<float[]> s = new ArrayList<>(idx.size());
        int[] tk = new int[idx.size()];
        for (int i = 0; i < tk.length; i++) {
            s.add(states.get(idx.get(i)));
            tk[i] = tokens[idx.get(i)];
        }
        return TokenHeadTrainer.train(s, tk, pick(y, idx), LABELS.size(), cfg).head();
    }

    // ---------------------------------------------------------------- encoding and timing

    /** Length-sorted batches of {@link OrtTextModel#BATCH}, as {@link OrtTextModel#runAll} forms them. */
    private static List<TokenizedBatch> batches(EncoderTokenizer tok, List<String> texts) {
        List<TokenizedBatch> out = new ArrayList<>();
        for (int[] chunk : sortedChunks(tok, texts)) {
            out.add(tok.encode(Arrays.stream(chunk).mapToObj(texts::get).toList()));
        }
        return out;
    }

    private static List<int[]> sortedChunks(EncoderTokenizer tok, List<String> texts) {
        int n = texts.size();
        int[] len = new int[n];
        for (int i = 0; i < n; i++) {
            len[i] = tok.length(texts.get(i));
        }
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> len[i]).thenComparingInt(i -> i));
        List<int[]> chunks = new ArrayList<>();
        for (int s = 0; s < n; s += OrtTextModel.BATCH) {
            int[] c = new int[Math.min(n, s + OrtTextModel.BATCH) - s];
            for (int k = 0; k < c.length; k++) {
                c[k] = order[s + k];
            }
            chunks.add(c);
        }
        return chunks;
    }

    /** Seconds for the encoder forward pass over pre-tokenized batches (tokenization is not timed). */
    private static double forwardPass(OrtTextModel m, List<TokenizedBatch> bs) {
        long t = System.nanoTime();
        for (TokenizedBatch b : bs) {
            m.run(b, List.of(HIDDEN));
        }
        return (System.nanoTime() - t) / 1e9;
    }

    private static Encoded encode(OrtTextModel m, List<String> texts) {
        int n = texts.size();
        List<float[]> states = new ArrayList<>(java.util.Collections.nCopies(n, (float[]) null));
        int[] tokens = new int[n];
        float[][] mean = new float[n][];
        float[][] cls = new float[n][];
        for (int[] chunk : sortedChunks(m.tokenizer(), texts)) {
            TokenizedBatch b = m.tokenizer()
                    .encode(Arrays.stream(chunk).mapToObj(texts::get).toList());
            float[] flat = m.run(b, List.of(HIDDEN)).get(HIDDEN);
            int seq = b.seq();
            int dim = flat.length / (b.batch() * seq);
            float[][] pooled = OrtTextModel.meanPoolNormalise(flat, b.attentionMask(), b.batch(), seq, dim);
            for (int r = 0; r < chunk.length; r++) {
                int i = chunk[r];
                int len = 0;
                for (int t = 0; t < seq; t++) {
                    len += (int) b.attentionMask()[r * seq + t];
                }
                tokens[i] = len;
                mean[i] = pooled[r];
                cls[i] = normalised(flat, r * seq * dim, dim);
                states.set(i, Arrays.copyOfRange(flat, r * seq * dim, (r * seq + len) * dim));
            }
        }
        return new Encoded(states, tokens, mean, cls);
    }

    private static float[] normalised(float[] a, int off, int dim) {
        double n = 0;
        for (int d = 0; d < dim; d++) {
            n += (double) a[off + d] * a[off + d];
        }
        n = Math.max(Math.sqrt(n), 1e-12);
        float[] out = new float[dim];
        for (int d = 0; d < dim; d++) {
            out[d] = (float) (a[off + d] / n);
        }
        return out;
    }

    // ---------------------------------------------------------------- metrics

    record Metrics(double macroF1, double testMacroF1, double clearFpr, double ece15, double ece10, int[] pred) {}

    static Metrics metrics(Outcome o, EvalData eval, int[] testGold) {
        List<Prediction> preds = predictions(o.eval());
        EvalReport all = EvalReport.of(LABELS, eval.gold(), preds, CLEAR);
        List<Prediction> neg =
                Arrays.stream(eval.negatives()).mapToObj(preds::get).toList();
        int[] negGold = Arrays.stream(eval.negatives()).map(i -> eval.gold()[i]).toArray();
        // on the hard-negative rows alone, the negative label's FPR is exactly the share given a non-clear label
        double fpr = neg.isEmpty()
                ? Double.NaN
                : EvalReport.of(LABELS, negGold, neg, CLEAR).negativeFalsePositiveRate();
        int[] pred = preds.stream().mapToInt(Prediction::labelIndex).toArray();
        int[] testPred = Arrays.stream(o.test()).mapToInt(SoftmaxHead::argmax).toArray();
        double testF1 = testGold.length == 0 ? Double.NaN : new EvalReport(LABELS, testGold, testPred).macroF1();
        return new Metrics(
                all.macroF1(), testF1, fpr, ece(preds, eval.gold(), ECE_BINS), all.expectedCalibrationError(), pred);
    }

    private static List<Prediction> predictions(double[][] probs) {
        List<Prediction> out = new ArrayList<>(probs.length);
        for (double[] p : probs) {
            int k = SoftmaxHead.argmax(p);
            float[] f = new float[p.length];
            for (int c = 0; c < p.length; c++) {
                f[c] = (float) p[c];
            }
            out.add(new Prediction(k, LABELS.get(k), f[k], f));
        }
        return out;
    }

    /**
     * Expected calibration error over {@code bins} equal-width bins of the top-label score, defined as in {@link
     * EvalReport#expectedCalibrationError()} (which has a fixed {@value EvalReport#BINS} bins).
     */
    static double ece(List<Prediction> preds, int[] gold, int bins) {
        double[] conf = new double[bins];
        int[] hits = new int[bins];
        int[] count = new int[bins];
        for (int i = 0; i < gold.length; i++) {
            double s = preds.get(i).score();
            int b = Math.min(bins - 1, Math.max(0, (int) (s * bins)));
            conf[b] += s;
            hits[b] += preds.get(i).labelIndex() == gold[i] ? 1 : 0;
            count[b]++;
        }
        double ece = 0;
        for (int b = 0; b < bins; b++) {
            if (count[b] > 0) {
                ece += Math.abs((double) hits[b] / count[b] - conf[b] / count[b]) * count[b] / gold.length;
            }
        }
        return ece;
    }

    // ---------------------------------------------------------------- report

    private static String markdown(
            Path corpusPath,
            Path evalPath,
            List<LabeledText> corpus,
            EvalData eval,
            List<Integer> train,
            List<Integer> val,
            List<Integer> test,
            List<ComparedEncoder> encoders,
            Map<String, double[]> rates,
            Map<String, String> sizes,
            Map<String, List<Outcome>> outcomes,
            Map<String, Encoded> evalVectors,
            Map<String, Long> encodeMs,
            Map<String, Double> meanTokens,
            long benchMs,
            long totalMs,
            int rounds,
            int threads,
            String load) {
        int[] testGold = ComplianceTraining.labels(corpus, test);
        StringBuilder md = new StringBuilder();
        md.append("# Compliance classifier: encoder x pooling x head\n\n");
        md.append(String.format(
                Locale.ROOT,
                "Run %s on %d cores (Java %s, %s). Corpus `%s`: %d train, %d val, %d test texts. Evaluation `%s`: "
                        + "%d texts; clear FPR over %d %s.\n\n",
                Instant.now().toString().substring(0, 19) + "Z",
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"),
                "ONNX Runtime " + ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion(),
                corpusPath,
                train.size(),
                val.size(),
                test.size(),
                evalPath,
                eval.rows().size(),
                eval.negatives().length,
                eval.byKind()
                        ? "rows with kind=hard_negative"
                        : "clear rows (the file has no \"kind\" field, so all clear rows count as hard negatives)"));
        md.append("| encoder | precision | pooling | head | macro-F1 | macro-F1 (corpus test split) "
                + "| clear hard-negative FPR | ECE (15 bins) [10 bins] | encoder texts/s (median, range) "
                + "| params/size |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|\n");
        Map<String, Map<String, Metrics>> all = new LinkedHashMap<>();
        for (ComparedEncoder e : encoders) {
            double[] r = rates.get(e.id()).clone();
            Arrays.sort(r);
            String rate = String.format(Locale.ROOT, "%.0f (%.0f-%.0f)", median(r), r[0], r[r.length - 1]);
            Map<String, Metrics> byCombo = new LinkedHashMap<>();
            for (Outcome o : outcomes.get(e.id())) {
                Metrics m = metrics(o, eval, testGold);
                byCombo.put(o.pooling() + "/" + o.head(), m);
                md.append(String.format(
                        Locale.ROOT,
                        "| %s | %s | %s | %s | %.4f | %.4f | %.4f | %.4f [%.4f] | %s | %s |\n",
                        e.family(),
                        e.precision(),
                        poolingCell(o.pooling()),
                        o.head() + " (" + o.setting() + ")",
                        m.macroF1(),
                        m.testMacroF1(),
                        m.clearFpr(),
                        m.ece15(),
                        m.ece10(),
                        rate,
                        sizes.get(e.id())));
            }
            all.put(e.id(), byCombo);
        }
        md.append("\n## int8 / fp32 agreement on the evaluation texts\n\n");
        md.append("| encoder | cosine mean-pooled (mean, min) | cosine CLS (mean, min) "
                + "| same label, per pooling/head |\n|---|---|---|---|\n");
        for (ComparedEncoder q : encoders) {
            if (!q.precision().equals("int8")) {
                continue;
            }
            ComparedEncoder f = encoders.stream()
                    .filter(e -> e.family().equals(q.family()) && e.precision().equals("fp32"))
                    .findFirst()
                    .orElse(null);
            if (f == null) {
                continue;
            }
            Encoded a = evalVectors.get(q.id());
            Encoded b = evalVectors.get(f.id());
            StringBuilder same = new StringBuilder();
            for (Map.Entry<String, Metrics> m : all.get(q.id()).entrySet()) {
                int[] pa = m.getValue().pred();
                int[] pb = all.get(f.id()).get(m.getKey()).pred();
                int agree = 0;
                for (int i = 0; i < pa.length; i++) {
                    agree += pa[i] == pb[i] ? 1 : 0;
                }
                same.append(String.format(
                        Locale.ROOT,
                        "%s%s %.3f",
                        same.length() == 0 ? "" : ", ",
                        m.getKey(),
                        (double) agree / pa.length));
            }
            md.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s |\n",
                    q.family(),
                    cosines(a.mean(), b.mean()),
                    cosines(a.cls(), b.cls()),
                    same));
        }
        md.append("\n## Encoders\n\n| encoder | artifact | .onnx / tokenizer resource | input prefix | weights licence "
                + "| mean tokens per corpus text | encoding pass (corpus + eval) |\n|---|---|---|---|---|---|---|\n");
        for (ComparedEncoder e : encoders) {
            md.append(String.format(
                    Locale.ROOT,
                    "| %s | `%s` | `%s` / `%s` | %s | %s | %.1f | %.1f s |\n",
                    e.id(),
                    e.artifact(),
                    e.onnxResource(),
                    e.tokenizerResource(),
                    e.prefix().isEmpty() ? "none" : "`" + e.prefix() + "`",
                    e.licence(),
                    meanTokens.get(e.id()),
                    encodeMs.get(e.id()) / 1000.0));
        }
        md.append(String.format(
                Locale.ROOT,
                "\nThroughput: forward pass only (pre-tokenized, length-sorted batches of %d, intra-op threads 2, "
                        + "ALL_OPT, as OrtTextModel opens sessions) over the %d evaluation texts, all encoders loaded, "
                        + "one warm-up pass each, then %d interleaved rounds (A,B,C,...,A,B,C,...); %d s in all. "
                        + "Heads trained on %d threads while no encoder ran. Total run time %.1f min; %s "
                        + "(other processes on the machine slow every encoder, and a 2-core machine shows it).\n",
                OrtTextModel.BATCH,
                eval.rows().size(),
                rounds,
                benchMs / 1000,
                threads,
                totalMs / 60000.0,
                load));
        return md.toString();
    }

    /** The first three fields of /proc/loadavg, or "unknown" where there is none. */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String poolingCell(String pooling) {
        return switch (pooling) {
            case "mean" -> "mean (masked) + L2";
            case "cls" -> "CLS + L2";
            default -> "attention (learned) + L2";
        };
    }

    private static String cosines(float[][] a, float[][] b) {
        double sum = 0;
        double min = 1;
        for (int i = 0; i < a.length; i++) {
            double c = TokenHead.dot(a[i], 0, b[i], 0, a[i].length);
            sum += c;
            min = Math.min(min, c);
        }
        return String.format(Locale.ROOT, "%.4f, %.4f", sum / a.length, min);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Parameter count (initializer and Constant tensor elements) and file size of an ONNX graph. */
    static String sizeCell(byte[] onnx) {
        GraphProto g = OnnxHeadFusion.parse(onnx).getGraph();
        long params = 0;
        for (TensorProto t : g.getInitializerList()) {
            params += elements(t);
        }
        for (NodeProto node : g.getNodeList()) {
            if (node.getOpType().equals("Constant")) {
                for (AttributeProto a : node.getAttributeList()) {
                    if (a.hasT()) {
                        params += elements(a.getT());
                    }
                }
            }
        }
        return String.format(Locale.ROOT, "%.1fM / %.0f MB", params / 1e6, onnx.length / 1e6);
    }

    private static long elements(TensorProto t) {
        long n = 1;
        for (long d : t.getDimsList()) {
            n *= d;
        }
        return n;
    }

    // ---------------------------------------------------------------- input

    private static EvalData readEval(Path file) {
        List<LabeledText> rows = LabeledText.read(file);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no examples");
        }
        List<String> kinds = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    JsonNode n = json.readTree(line);
                    kinds.add(n.hasNonNull("kind") ? n.get("kind").asText() : null);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file, e);
        }
        boolean byKind = kinds.stream().anyMatch(k -> k != null);
        int[] gold = ComplianceTraining.labels(
                rows, IntStream.range(0, rows.size()).boxed().toList());
        int[] negatives = IntStream.range(0, rows.size())
                .filter(i -> byKind ? "hard_negative".equals(kinds.get(i)) : gold[i] == CLEAR)
                .toArray();
        return new EvalData(rows, gold, negatives, byKind);
    }

    private static List<String> texts(List<LabeledText> rows) {
        return rows.stream().map(LabeledText::text).toList();
    }

    private static List<String> prefixed(ComparedEncoder e, List<String> texts) {
        return e.prefix().isEmpty()
                ? texts
                : texts.stream().map(t -> e.prefix() + t).toList();
    }

    private static List<float[]> asStates(float[][] x) {
        return Arrays.asList(x);
    }

    private static int[] ones(int n) {
        int[] a = new int[n];
        Arrays.fill(a, 1);
        return a;
    }

    private static int[] pick(int[] y, List<Integer> idx) {
        return idx.stream().mapToInt(i -> y[i]).toArray();
    }

    private static void log(String fmt, Object... args) {
        System.err.printf(Locale.ROOT, "[compare] " + fmt + "%n", args);
    }
}
