package dev.flinkslm.models.compliance;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.Digests;
import dev.flinkslm.models.FileTrees;
import dev.flinkslm.models.GoldenCheck;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringException;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.compliance.internal.BundleClassifier;
import dev.flinkslm.models.compliance.internal.BundleWriter;
import dev.flinkslm.models.compliance.internal.HeadTrainer;
import dev.flinkslm.models.compliance.internal.LabeledText;
import dev.flinkslm.models.compliance.internal.MlpTrainer;
import dev.flinkslm.models.compliance.internal.OnnxHeadFusion;
import dev.flinkslm.models.compliance.internal.OrtTextModel;
import dev.flinkslm.models.compliance.internal.SoftmaxHead;
import dev.flinkslm.models.compliance.internal.Temperature;
import dev.flinkslm.models.compliance.internal.TrainingEncoder;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Logic of the {@code model train} command: trains a classifier for the user's own labels on a frozen encoder
 * and writes verified bundles.
 *
 * <p>From a JSON-lines file of labelled texts ({@code text}, {@code label}; other fields are ignored), it
 * <ol>
 *   <li>splits off a stratified holdout (each label's texts ordered by a hash of the text, so the split is
 *       the same on every run and a text repeated in the data never lands on both sides);
 *   <li>embeds every text with the frozen encoder (mean pooling, L2 norm; the fp32 MiniLM by default, or an
 *       encoder-only Hugging Face export) and trains a linear softmax head with class weights
 *       {@code n / (k * n_label)}, picking the L2 penalty on a validation part of the training texts;
 *   <li>fits a temperature on the holdout so that a score means what it says (of the alerts scored 0.8, about
 *       80% are right), folds it into the head, fuses the head into the encoder graph, once per precision
 *       (int8 for CPUs and fp32 for GPUs with the built-in encoder, the export's own precision otherwise);
 *   <li>scores the holdout through the runtime's own session for each bundle, takes golden examples from it,
 *       writes a model card ({@code model-card.md}, also inside each bundle) and checks every bundle's golden
 *       examples.
 * </ol>
 *
 * <p>Deterministic: the same data, options and encoder give the same bundles. Progress and figures go to
 * {@code out}; no text of the data is printed. Stateless; a run uses both cores for a minute or more.
 *
 * <pre>{@code
 * ModelTrain.Result r = ModelTrain.run(new ModelTrain.Options(Path.of("dispositions.jsonl"),
 *         Path.of("out"), "aml-triage", "1.0.0", null, 0.2, null, "clear"), System.out);
 * }</pre>
 */
public final class ModelTrain {

    /** Fewest texts a label needs: enough for at least one holdout and one validation text. */
    public static final int MIN_PER_LABEL = 10;

    /** L2 penalties tried on the validation part (standardised feature space). */
    public static final double[] L2_GRID = {1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1};

    /** Share of the training texts used to pick the L2 penalty before the final fit on all of them. */
    public static final double VALIDATION_SHARE = 0.2;

    /** The probability a golden example's label must exceed, in the holdout and in the golden check's batches. */
    static final float GOLDEN_FLOOR = 0.6f;

    /** Golden examples per label written to each manifest. */
    public static final int GOLDEN_PER_LABEL = 3;

    /** File name of the model card, next to the bundles and inside each. */
    public static final String MODEL_CARD = "model-card.md";

    /** Alert thresholds whose holdout precision the model card reports. */
    static final double[] THRESHOLDS = {0.5, 0.7, 0.8, 0.9};

    private ModelTrain() {}

    /** The classifier on top of the frozen sentence embedding. */
    public enum Head {
        /** Linear softmax (multinomial logistic regression), L2 penalty chosen on the validation part. */
        LINEAR,
        /**
         * One hidden layer of {@value MlpTrainer.Config#HIDDEN} ReLU units (AdamW), weight decay chosen on the
         * validation part; better on wording the training texts do not use, at a negligible cost next to the
         * encoder.
         */
        MLP
    }

    /** Weight decays tried for the {@link Head#MLP} head. */
    public static final double[] WEIGHT_DECAY_GRID = {0.01, 0.03, 0.1, 0.3, 1.0};

    /**
     * What to train.
     *
     * @param data JSON lines with {@code text} and {@code label}
     * @param outDir output directory; it must not exist or be empty
     * @param id bundle id
     * @param version model version; with the built-in encoder the bundles are {@code <version>-int8} and
     *     {@code <version>-fp32}
     * @param encoder an encoder-only export folder ({@code model.onnx} with {@code last_hidden_state},
     *     {@code tokenizer.json}), or null for the built-in all-MiniLM-L6-v2
     * @param holdout share of each label's texts held out for calibration, golden examples and figures, in
     *     (0, 0.5]
     * @param labels the label set in output order, or null for the data's labels (sorted, the negative label
     *     first)
     * @param negativeLabel the label meaning "nothing found" (for example {@code clear}), or null
     * @param head the classifier on the embedding (null: {@link Head#MLP})
     */
    public record Options(
            Path data,
            Path outDir,
            String id,
            String version,
            Path encoder,
            double holdout,
            List<String> labels,
            String negativeLabel,
            Head head) {

        /** Options with the default {@link Head#MLP} head. */
        public Options(
                Path data,
                Path outDir,
                String id,
                String version,
                Path encoder,
                double holdout,
                List<String> labels,
                String negativeLabel) {
            this(data, outDir, id, version, encoder, holdout, labels, negativeLabel, Head.MLP);
        }

        public Options {
            head = head == null ? Head.MLP : head;
            for (String[] field : new String[][] {{"id", id}, {"version", version}}) {
                if (field[1] == null || !field[1].matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
                    throw new IllegalArgumentException("the bundle " + field[0] + " '" + field[1] + "' must be 1-128"
                            + " letters, digits, '.', '_' or '-', starting with a letter or digit");
                }
            }
            if (!(holdout > 0 && holdout <= 0.5)) {
                throw new IllegalArgumentException("holdout must be in (0, 0.5], not " + holdout);
            }
        }
    }

    /**
     * What a run produced.
     *
     * @param bundles bundle directory per precision tag ({@code int8}, {@code fp32}; the export's one as
     *     {@code model})
     * @param versions bundle version per precision tag
     * @param holdout the holdout report of each bundle (temperature fitted on the whole holdout)
     * @param crossFitted the fp32 reference's holdout report with the temperature fitted on the other half of
     *     the holdout (an honest calibration error)
     * @param temperature the temperature folded into the head
     * @param l2 the chosen penalty: the L2 penalty of a linear head, the weight decay of an MLP head
     * @param agreement share of holdout texts on which all bundles give the same label
     * @param modelCard the model card next to the bundles
     * @param seconds wall time of the run
     * @param headJson the calibrated head with its golden examples and provenance, in the format of the built-in
     *     model's committed head ({@code compliance-head.json})
     */
    public record Result(
            Map<String, Path> bundles,
            Map<String, String> versions,
            Map<String, EvalReport> holdout,
            EvalReport crossFitted,
            double temperature,
            double l2,
            double agreement,
            Path modelCard,
            double seconds,
            String headJson) {}

    /**
     * Trains and writes the bundles; errors say what to fix in the data or options. Everything is written into a
     * hidden sibling directory that is renamed to {@code outDir} once every bundle passed its checks, so a run
     * that fails or is killed never leaves a partial {@code outDir} (a killed run may leave the hidden
     * {@code .tmp-<name>-*} directory, which can be deleted); parent directories the run created are removed
     * again when it fails.
     */
    public static Result run(Options o, PrintStream out) {
        return run(o, out, null);
    }

    /**
     * {@link #run(Options, PrintStream)} with the penalties to choose from ({@code null}: the head's grid,
     * {@link #WEIGHT_DECAY_GRID} or {@link #L2_GRID}). A single value skips the choice and fits with it, which
     * reproduces a head trained with the full grid that chose that value.
     */
    static Result run(Options o, PrintStream out, double[] penalties) {
        Path target = o.outDir().toAbsolutePath().normalize();
        requireEmptyTarget(target);
        Path parent = target.getParent();
        List<Path> createdParents = new ArrayList<>();
        for (Path p = parent; p != null && !Files.exists(p); p = p.getParent()) {
            createdParents.add(p);
        }
        Path work = null;
        try {
            Files.createDirectories(parent);
            work = Files.createTempDirectory(parent, ".tmp-" + target.getFileName() + "-");
            Result r = train(o, work, out, penalties);
            if (Files.isDirectory(target)) {
                Files.delete(target); // empty, checked above
            }
            Files.move(work, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            work = null;
            Map<String, Path> bundles = new LinkedHashMap<>();
            r.bundles().forEach((tag, dir) -> bundles.put(tag, target.resolve(dir.getFileName())));
            Result placed = new Result(
                    bundles,
                    r.versions(),
                    r.holdout(),
                    r.crossFitted(),
                    r.temperature(),
                    r.l2(),
                    r.agreement(),
                    target.resolve(MODEL_CARD),
                    r.seconds(),
                    r.headJson());
            bundles.forEach((tag, dir) -> out.println("bundle " + tag + ": " + dir));
            out.println("model card: " + placed.modelCard());
            out.printf(Locale.ROOT, "trained in %.0f s%n", placed.seconds());
            return placed;
        } catch (IOException e) {
            throw cleanUp(
                    new UncheckedIOException("cannot write the output " + target + ": " + e.getMessage(), e),
                    work,
                    createdParents);
        } catch (RuntimeException e) {
            throw cleanUp(e, work, createdParents);
        } catch (Error e) {
            throw cleanUp(e, work, createdParents);
        }
    }

    private static <T extends Throwable> T cleanUp(T failure, Path work, List<Path> createdParents) {
        try {
            if (work != null) {
                FileTrees.deleteRecursively(work);
            }
            for (Path p : createdParents) { // deepest first
                try (var entries = Files.list(p)) {
                    if (entries.findAny().isPresent()) {
                        break;
                    }
                }
                Files.delete(p);
            }
        } catch (IOException cleanup) {
            failure.addSuppressed(cleanup);
        }
        return failure;
    }

    private static Result train(Options o, Path outDir, PrintStream out, double[] penalties) {
        long t0 = System.nanoTime();
        Data d = Data.read(o);
        out.printf(
                Locale.ROOT,
                "data: %d texts, %d labels %s (sha256 %s)%s%n",
                d.texts.size(),
                d.labels.size(),
                d.labels,
                d.sha256,
                (d.duplicates > 0 ? ", " + d.duplicates + " repeated texts kept on one side of the split" : "")
                        + (d.conflicting > 0
                                ? ", " + d.conflicting + " texts with conflicting labels (trained on, never held out)"
                                : ""));
        List<TrainingEncoder> encoders =
                o.encoder() == null ? TrainingEncoder.builtIn() : List.of(TrainingEncoder.fromExport(o.encoder()));
        TrainingEncoder reference = encoders.get(0);
        out.printf(Locale.ROOT, "embedding with %s (%s)%n", reference.name(), tagOf(reference));
        float[][] emb;
        try (OrtTextModel enc = reference.open()) {
            emb = enc.embedUnfused(d.texts);
        }
        int k = d.labels.size();
        int[] trainIdx = d.indices("train");
        int[] fitIdx = d.indices("fit");
        int[] valIdx = d.indices("val");
        int[] holdIdx = d.indices("holdout");

        double[] grid = penalties != null ? penalties : o.head() == Head.MLP ? WEIGHT_DECAY_GRID : L2_GRID;
        String what = o.head() == Head.MLP ? "weight decay" : "l2";
        double bestF1 = -1;
        double l2 = grid[0];
        // one given value: nothing to choose, no validation fit
        List<SoftmaxHead> candidates = grid.length == 1 ? List.of() : fitGrid(o.head(), emb, d, fitIdx, grid);
        for (int g = 0; g < candidates.size(); g++) {
            double candidate = grid[g];
            SoftmaxHead h = candidates.get(g);
            double f1 = new EvalReport(d.labels, d.gold(valIdx), predict(h, emb, valIdx)).macroF1();
            out.printf(Locale.ROOT, "%s=%g validation macro-F1=%.4f%n", what, candidate, f1);
            if (f1 >= bestF1) { // ties go to the stronger penalty: smoother heads transfer better
                bestF1 = f1;
                l2 = candidate;
            }
        }
        SoftmaxHead head = fit(o.head(), emb, d, trainIdx, l2);
        double[][] holdLogits = logits(head, emb, holdIdx);
        int[] holdGold = d.gold(holdIdx);
        double temperature = Temperature.fit(holdLogits, holdGold);
        EvalReport crossFitted = crossFitted(d, holdIdx, holdLogits, holdGold);
        out.printf(
                Locale.ROOT,
                "chosen %s=%g; temperature %.3f (holdout ECE with the temperature fitted on the other half: %.4f)%n",
                what,
                l2,
                temperature,
                crossFitted.expectedCalibrationError());
        SoftmaxHead calibrated = head.withTemperature(temperature);

        List<String> holdTexts = new ArrayList<>();
        for (int i : holdIdx) {
            holdTexts.add(d.texts.get(i));
        }
        Map<String, List<Prediction>> predictions = new LinkedHashMap<>();
        Map<String, byte[]> fused = new LinkedHashMap<>();
        Path scratch = outDir.resolve(".scratch");
        try {
            for (TrainingEncoder e : encoders) {
                byte[] graph = OnnxHeadFusion.fuse(e.onnx(), calibrated);
                fused.put(tagOf(e), graph);
                Path dir = scratch.resolve(tagOf(e));
                writeBundle(dir, o, e, graph, calibrated, Map.of(), Map.of());
                try (BundleClassifier c = BundleClassifier.open(dir)) {
                    predictions.put(tagOf(e), c.predict(holdTexts));
                }
            }
        } finally {
            delete(scratch);
        }
        Map<String, EvalReport> reports = new LinkedHashMap<>();
        predictions.forEach((tag, p) -> reports.put(tag, EvalReport.of(d.labels, holdGold, p, d.negativeIndex)));
        double agreement = agreement(new ArrayList<>(predictions.values()));
        List<LabeledText> golden = golden(d, holdIdx, new ArrayList<>(predictions.values()));

        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("trainedBy", "flink-slm model train");
        meta.put("dataSha256", d.sha256);
        meta.put("trainExamples", Integer.toString(trainIdx.length));
        meta.put("holdoutExamples", Integer.toString(holdIdx.length));
        meta.put("head", o.head().name().toLowerCase(Locale.ROOT));
        meta.put(o.head() == Head.MLP ? "weightDecay" : "l2", Double.toString(l2));
        meta.put("temperature", String.format(Locale.ROOT, "%.6f", temperature));
        Map<String, Path> bundles = new LinkedHashMap<>();
        Map<String, String> versions = new LinkedHashMap<>();
        byte[] cardBytes;
        // The golden check scores the golden texts together, in batches of their own. An int8 graph quantises
        // each batch's activations with that batch's range, so a text scored right within the holdout can
        // come out otherwise next to other texts: golden examples that fail the check as written are dropped.
        for (int round = 0; ; round++) {
            cardBytes = ModelCard.write(
                            o, d, reference, encoders, l2, temperature, reports, crossFitted, agreement, golden)
                    .getBytes(StandardCharsets.UTF_8);
            Set<String> missed = new LinkedHashSet<>();
            for (TrainingEncoder e : encoders) {
                String tag = tagOf(e);
                Path dir = outDir.resolve(tag);
                Map<String, String> m = new LinkedHashMap<>(meta);
                m.put("holdoutMacroF1", fmt(reports.get(tag).macroF1()));
                m.put("holdoutEce", fmt(reports.get(tag).expectedCalibrationError()));
                writeBundle(
                        dir, o, e, fused.get(tag), calibrated.with(Map.of(), golden), m, Map.of(MODEL_CARD, cardBytes));
                missed.addAll(goldenMisses(dir));
                bundles.put(tag, dir);
                versions.put(tag, e.version(o.version()));
            }
            if (missed.isEmpty()) {
                break;
            }
            if (round == 3) {
                throw new IllegalStateException(
                        "golden examples still fail after dropping the failing ones three times; the bundles"
                                + " disagree with themselves from one batch to the next");
            }
            golden = golden.stream().filter(g -> !missed.contains(g.text())).toList();
        }
        Path cardFile = outDir.resolve(MODEL_CARD);
        try {
            Files.write(cardFile, cardBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + cardFile, e);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (Map.Entry<String, EvalReport> r : reports.entrySet()) {
            out.printf(Locale.ROOT, "holdout %s: %s%n", r.getKey(), r.getValue().summaryLine());
        }
        if (encoders.size() > 1) {
            out.printf(Locale.ROOT, "int8/fp32 agreement on the holdout: %.4f%n", agreement);
        }
        Map<String, String> info = new LinkedHashMap<>(meta);
        info.put("encoder", reference.name());
        reports.forEach((tag, r) -> info.put("macroF1.holdout." + tag, fmt(r.macroF1())));
        String headJson = calibrated.with(info, golden).toJson();
        return new Result(
                bundles, versions, reports, crossFitted, temperature, l2, agreement, cardFile, seconds, headJson);
    }

    /**
     * Texts of the golden examples a bundle, verified, opened and checked like at a DEPLOY, gets wrong or gets
     * right with a probability of {@value #GOLDEN_FLOOR} or less (so close to the boundary that another CPU or
     * ONNX Runtime build could flip it).
     */
    private static Set<String> goldenMisses(Path dir) {
        try {
            ModelBundle bundle = BundleLoader.verify(dir.toUri(), dir, null);
            try (ScoringSession session = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
                List<dev.flinkslm.models.ModelManifest.GoldenExample> golden =
                        bundle.manifest().golden();
                List<Prediction> p = GoldenCheck.predictions(session);
                Set<String> missed = new LinkedHashSet<>();
                for (int i = 0; i < golden.size(); i++) {
                    int expected =
                            bundle.manifest().labels().indexOf(golden.get(i).label());
                    if (p.get(i).labelIndex() != expected || !(p.get(i).probabilities()[expected] > GOLDEN_FLOOR)) {
                        missed.add(golden.get(i).text());
                    }
                }
                return missed;
            }
        } catch (BundleException | ScoringException e) {
            throw new IllegalStateException("bundle " + dir + " does not pass its checks: " + e.getMessage(), e);
        }
    }

    /** The precision tag of an encoder's bundle directory. */
    static String tagOf(TrainingEncoder e) {
        return e.tag() == null ? "model" : e.tag();
    }

    private static void writeBundle(
            Path dir,
            Options o,
            TrainingEncoder e,
            byte[] graph,
            SoftmaxHead head,
            Map<String, String> meta,
            Map<String, byte[]> extra) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("encoder", e.name());
        if (e.tag() != null) {
            m.put("precision", e.tag());
        }
        m.putAll(meta);
        BundleWriter.write(
                dir,
                new BundleWriter.Identity(
                        o.id(),
                        e.version(o.version()),
                        "Classifier over " + String.join("/", head.labels()) + " trained by flink-slm model train: "
                                + e.name() + (e.tag() == null ? "" : " (" + e.tag() + ")")
                                + " encoder, mean pooling, calibrated linear softmax head. See " + MODEL_CARD + ".",
                        o.negativeLabel()),
                graph,
                e.tokenTypes(),
                e.maxLength(),
                e.tokenizer(),
                head,
                m,
                extra);
    }

    /**
     * One head per penalty of {@code grid}, in grid order, fitted on up to one thread per core: the fits are
     * independent and each is deterministic, so the result does not depend on the number of threads.
     */
    private static List<SoftmaxHead> fitGrid(Head kind, float[][] emb, Data d, int[] idx, double[] grid) {
        int threads = Math.max(1, Math.min(grid.length, Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "model-train-grid");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<SoftmaxHead>> fits = new ArrayList<>();
            for (double penalty : grid) {
                fits.add(pool.submit(() -> fit(kind, emb, d, idx, penalty)));
            }
            List<SoftmaxHead> heads = new ArrayList<>();
            for (int g = 0; g < grid.length; g++) {
                try {
                    heads.add(fits.get(g).get());
                } catch (ExecutionException e) {
                    throw new IllegalStateException(
                            "fitting the " + kind + " head with penalty " + grid[g] + " failed: " + e.getCause(),
                            e.getCause());
                }
            }
            return heads;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fitting the heads", e);
        } finally {
            pool.shutdownNow(); // the trainers stop at their next epoch or iteration
            try {
                pool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static SoftmaxHead fit(Head kind, float[][] emb, Data d, int[] idx, double penalty) {
        return fitHead(kind, rows(emb, idx), d.gold(idx), d.labels, penalty);
    }

    /**
     * Fits a head with balanced class weights and restores the label frequencies of {@code y} in its logits
     * (before any temperature).
     */
    static SoftmaxHead fitHead(Head kind, float[][] x, int[] y, List<String> labels, double penalty) {
        int k = labels.size();
        double[] weights = HeadTrainer.balancedWeights(y, k);
        SoftmaxHead h = kind == Head.MLP
                ? MlpTrainer.train(x, y, weights, labels, MlpTrainer.Config.withWeightDecay(penalty))
                : HeadTrainer.train(x, y, weights, labels, penalty, HeadTrainer.DEFAULT_ITERATIONS);
        // The weights make every label count alike in the fit, which is a head for equal label frequencies;
        // adding log(n_label / n) to its logits restores the real frequencies, so that scores are probabilities
        // again (a weighted head scores a rare label far too high) before the temperature is fitted.
        int[] count = new int[k];
        for (int label : y) {
            count[label]++;
        }
        double[] prior = new double[k];
        for (int c = 0; c < k; c++) {
            prior[c] = Math.log(Math.max(count[c], 1) / (double) y.length);
        }
        return h.withLogitOffsets(prior);
    }

    private static int[] predict(SoftmaxHead h, float[][] emb, int[] idx) {
        int[] p = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            p[i] = h.predict(emb[idx[i]]);
        }
        return p;
    }

    private static double[][] logits(SoftmaxHead h, float[][] emb, int[] idx) {
        double[][] z = new double[idx.length][];
        for (int i = 0; i < idx.length; i++) {
            z[i] = h.logits(emb[idx[i]]);
        }
        return z;
    }

    private static float[][] rows(float[][] emb, int[] idx) {
        float[][] r = new float[idx.length][];
        for (int i = 0; i < idx.length; i++) {
            r[i] = emb[idx[i]];
        }
        return r;
    }

    /**
     * The fp32 head's holdout predictions with the temperature of each half of the holdout fitted on the other
     * half: the calibration error a new text can expect (fitting and measuring on the same texts flatters it).
     */
    private static EvalReport crossFitted(Data d, int[] holdIdx, double[][] z, int[] y) {
        List<Integer> a = new ArrayList<>();
        List<Integer> b = new ArrayList<>();
        for (int i = 0; i < holdIdx.length; i++) {
            (d.half(holdIdx[i]) ? a : b).add(i);
        }
        List<Prediction> out = new ArrayList<>(java.util.Collections.nCopies(holdIdx.length, null));
        scoreHalf(d, z, y, a.isEmpty() ? b : a, b, out);
        scoreHalf(d, z, y, b.isEmpty() ? a : b, a, out);
        return EvalReport.of(d.labels, y, out, d.negativeIndex);
    }

    /** Predictions for the rows {@code scored} with the temperature fitted on the rows {@code fitOn}. */
    private static void scoreHalf(
            Data d, double[][] z, int[] y, List<Integer> fitOn, List<Integer> scored, List<Prediction> out) {
        double t = Temperature.fit(
                fitOn.stream().map(i -> z[i]).toArray(double[][]::new),
                fitOn.stream().mapToInt(i -> y[i]).toArray());
        for (int i : scored) {
            double[] p = SoftmaxHead.softmax(z[i], t);
            float[] pf = new float[p.length];
            for (int c = 0; c < p.length; c++) {
                pf[c] = (float) p[c];
            }
            out.set(i, Prediction.of(pf, d.labels, d.negativeIndex));
        }
    }

    /** Share of rows on which every list gives the same label. */
    private static double agreement(List<List<Prediction>> all) {
        int n = all.get(0).size();
        if (n == 0) {
            return 1;
        }
        int same = 0;
        for (int i = 0; i < n; i++) {
            int label = all.get(0).get(i).labelIndex();
            boolean agree = true;
            for (List<Prediction> p : all) {
                agree &= p.get(i).labelIndex() == label;
            }
            same += agree ? 1 : 0;
        }
        return (double) same / n;
    }

    /**
     * Up to {@value #GOLDEN_PER_LABEL} holdout texts per label that every bundle gets right with a probability
     * above 0.6 (away from the decision boundary, where int8/fp32 noise could flip them), in hash order.
     */
    private static List<LabeledText> golden(Data d, int[] holdIdx, List<List<Prediction>> all) {
        List<LabeledText> out = new ArrayList<>();
        for (int c = 0; c < d.labels.size(); c++) {
            int taken = 0;
            for (int i = 0; i < holdIdx.length && taken < GOLDEN_PER_LABEL; i++) {
                if (d.y[holdIdx[i]] != c) {
                    continue;
                }
                boolean sure = true;
                for (List<Prediction> p : all) {
                    Prediction pi = p.get(i);
                    sure &= pi.labelIndex() == c && pi.probabilities()[c] > GOLDEN_FLOOR;
                }
                if (sure) {
                    out.add(new LabeledText(d.texts.get(holdIdx[i]), d.labels.get(c), null));
                    taken++;
                }
            }
        }
        return out;
    }

    private static void requireEmptyTarget(Path dir) {
        try {
            FileTrees.requireNoBundleAt(dir, "train");
        } catch (FileAlreadyExistsException taken) {
            throw new IllegalArgumentException(taken.getMessage(), taken);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir, e);
        }
    }

    private static void delete(Path dir) {
        try {
            FileTrees.deleteRecursively(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    /** The training data: texts, label indices and the split of each text. */
    static final class Data {
        final List<String> texts = new ArrayList<>();
        final List<String> labels;
        final int negativeIndex;
        final int[] y;
        final String[] split;
        final long[] hash;
        final String sha256;
        final int duplicates;
        /** Distinct texts that carry more than one label; they are trained on, never held out. */
        final int conflicting;

        private Data(Options o, List<LabeledText> rows) {
            Map<String, Integer> counts = new TreeMap<>();
            for (LabeledText r : rows) {
                counts.merge(r.label(), 1, Integer::sum);
            }
            if (o.labels() != null) {
                Set<String> unknown = new TreeSet<>(counts.keySet());
                unknown.removeAll(o.labels());
                if (!unknown.isEmpty()) {
                    throw new IllegalArgumentException(o.data() + " has labels " + unknown + " that --labels "
                            + o.labels() + " does not list (texts per label: " + counts + ")");
                }
                if (Set.copyOf(o.labels()).size() != o.labels().size()) {
                    throw new IllegalArgumentException("--labels repeats a label: " + o.labels());
                }
                labels = List.copyOf(o.labels());
            } else {
                List<String> l = new ArrayList<>(counts.keySet());
                if (o.negativeLabel() != null && l.remove(o.negativeLabel())) {
                    l.add(0, o.negativeLabel());
                }
                labels = List.copyOf(l);
            }
            if (labels.size() < 2) {
                throw new IllegalArgumentException(o.data() + " has " + labels.size() + " label(s) " + labels
                        + "; a classifier needs two or more");
            }
            if (o.negativeLabel() != null && !labels.contains(o.negativeLabel())) {
                throw new IllegalArgumentException(
                        "negative label '" + o.negativeLabel() + "' is not one of the labels " + labels);
            }
            Map<String, Set<String>> distinct = new TreeMap<>();
            Map<String, Set<String>> labelsOfText = new java.util.HashMap<>();
            for (LabeledText r : rows) {
                distinct.computeIfAbsent(r.label(), l -> new java.util.HashSet<>())
                        .add(r.text().strip());
                labelsOfText
                        .computeIfAbsent(r.text().strip(), t -> new TreeSet<>())
                        .add(r.label());
            }
            List<String> few = new ArrayList<>();
            for (String l : labels) {
                int n = distinct.getOrDefault(l, Set.of()).size();
                if (n < MIN_PER_LABEL) {
                    few.add(l + " (" + n + ")");
                }
            }
            if (!few.isEmpty()) {
                throw new IllegalArgumentException("labels " + few + " have fewer than " + MIN_PER_LABEL
                        + " distinct texts each; add examples or leave the label out of the data");
            }
            negativeIndex = o.negativeLabel() == null ? -1 : labels.indexOf(o.negativeLabel());
            int n = rows.size();
            y = new int[n];
            split = new String[n];
            hash = new long[n];
            Set<String> seen = new LinkedHashSet<>();
            int dup = 0;
            StringBuilder all = new StringBuilder();
            for (int i = 0; i < n; i++) {
                LabeledText r = rows.get(i);
                texts.add(r.text());
                y[i] = labels.indexOf(r.label());
                hash[i] = textHash(r.text());
                dup += seen.add(r.text()) ? 0 : 1;
                all.append(r.toJsonLine()).append('\n');
            }
            duplicates = dup;
            int conflicting = 0;
            for (Set<String> l : labelsOfText.values()) {
                conflicting += l.size() > 1 ? 1 : 0;
            }
            this.conflicting = conflicting;
            sha256 = Digests.sha256(all.toString().getBytes(StandardCharsets.UTF_8));
            // per label, texts in hash order: the first share is the holdout; a fifth of the rest validates L2.
            // A text's side depends on its hash alone, so repeats of one text always share a side.
            for (int c = 0; c < labels.size(); c++) {
                List<Integer> idx = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if (y[i] == c) {
                        idx.add(i);
                    }
                }
                idx.sort(Comparator.comparingLong((Integer i) -> hash[i]).thenComparing(texts::get));
                // texts with conflicting labels may only be trained on: held out, one label would be "wrong"
                List<Long> candidates = idx.stream()
                        .filter(i -> labelsOfText.get(texts.get(i).strip()).size() == 1)
                        .map(i -> hash[i])
                        .distinct()
                        .toList();
                int distinctCount =
                        (int) idx.stream().map(i -> hash[i]).distinct().count();
                int holdCount = Math.max(1, (int) Math.round(o.holdout() * distinctCount));
                int valCount = Math.max(1, (int) Math.round(VALIDATION_SHARE * (distinctCount - holdCount)));
                if (candidates.size() < holdCount + valCount || distinctCount - holdCount - valCount < 1) {
                    throw new IllegalArgumentException("label " + labels.get(c) + " has only " + candidates.size()
                            + " distinct texts without conflicting labels; it needs " + MIN_PER_LABEL
                            + " or more to hold some out");
                }
                Set<Long> hold = new LinkedHashSet<>(candidates.subList(0, holdCount));
                Set<Long> val = new LinkedHashSet<>(candidates.subList(holdCount, holdCount + valCount));
                for (int i : idx) {
                    split[i] = hold.contains(hash[i]) ? "holdout" : val.contains(hash[i]) ? "val" : "fit";
                }
            }
        }

        static Data read(Options o) {
            if (!Files.isRegularFile(o.data())) {
                throw new IllegalArgumentException("--data " + o.data() + " does not exist");
            }
            List<LabeledText> rows = LabeledText.read(o.data());
            for (int i = 0; i < rows.size(); i++) {
                if (rows.get(i).text().isBlank() || rows.get(i).label().isBlank()) {
                    throw new IllegalArgumentException(o.data() + ": record " + (i + 1) + " (blank lines not counted)"
                            + " has an empty text or label");
                }
            }
            return new Data(o, rows);
        }

        /** Indices of a split: {@code fit} and {@code val} make up {@code train}; {@code holdout} is apart. */
        int[] indices(String which) {
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < split.length; i++) {
                if (which.equals(split[i]) || "train".equals(which) && !"holdout".equals(split[i])) {
                    out.add(i);
                }
            }
            // holdout rows in hash order (golden examples and halves do not depend on the file's order)
            if ("holdout".equals(which)) {
                out.sort(Comparator.comparingLong((Integer i) -> hash[i]).thenComparing(texts::get));
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }

        int[] gold(int[] idx) {
            int[] g = new int[idx.length];
            for (int i = 0; i < idx.length; i++) {
                g[i] = y[idx[i]];
            }
            return g;
        }

        /** Which half of the holdout a text belongs to (a hash bit independent of the split's ordering). */
        boolean half(int i) {
            return (hash[i] >>> 7 & 1) == 0;
        }

        int count(int label, String which) {
            int n = 0;
            for (int i = 0; i < y.length; i++) {
                if (y[i] == label && ("train".equals(which) ? !"holdout".equals(split[i]) : which.equals(split[i]))) {
                    n++;
                }
            }
            return n;
        }

        private static long textHash(String text) {
            String hex = Digests.sha256(text.strip().getBytes(StandardCharsets.UTF_8));
            return Long.parseUnsignedLong(hex.substring(0, 15), 16);
        }
    }
}
