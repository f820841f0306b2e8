package dev.flinkslm.models.compliance;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.Digests;
import dev.flinkslm.models.GoldenCheck;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringException;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.compliance.internal.BundleClassifier;
import dev.flinkslm.models.compliance.internal.BundleWriter;
import dev.flinkslm.models.compliance.internal.EncoderPatch;
import dev.flinkslm.models.compliance.internal.LabeledText;
import dev.flinkslm.models.compliance.internal.OnnxHeadFusion;
import dev.flinkslm.models.compliance.internal.Resources;
import dev.flinkslm.models.compliance.internal.SoftmaxHead;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The project's default compliance model ({@code compliance-minilm}): resolves a ready bundle directory and
 * (re)trains the head.
 *
 * <p>Only the small trained head is committed (class-path resource {@value #HEAD_RESOURCE}); on first use it is
 * fused into the pretrained MiniLM encoder from the Maven artifact and written as a bundle to the cache
 * directory ({@code ${user.home}/.cache/flink-slm/models/<id>-<version>/}, overridable by the system property
 * {@value #CACHE_DIR_PROPERTY} or the environment variable {@value #CACHE_DIR_ENV}). The bundle is built in a
 * temporary sibling directory and renamed into place, so concurrent JVMs never see a half-written bundle; an
 * existing bundle is reused when its checksums match and it was built from the current head and the encoder
 * artifact on the class path.
 *
 * <pre>{@code
 * Path bundle = DefaultModel.bundleDirectory(Precision.INT8); // first call ~2 s, later calls ~0.3 s
 * }</pre>
 *
 * <p>Thread-safe: all methods may be called concurrently (resolution is serialised per JVM).
 */
public final class DefaultModel {

    private static final Logger LOG = LoggerFactory.getLogger(DefaultModel.class);

    /** Model id of the default bundle. */
    public static final String ID = BundleWriter.ID;
    /** Committed trained head (weights, provenance, golden examples). */
    public static final String HEAD_RESOURCE = "dev/flinkslm/models/compliance/compliance-head.json";
    /** Committed training corpus (JSON lines with text, label, split). */
    public static final String CORPUS_RESOURCE = "dev/flinkslm/models/compliance/compliance-corpus.jsonl";
    /**
     * Hand-written texts in many voices (e-mails, chats, case notes, payment references, news; JSON lines with
     * text, label, split), written apart from the templates and from the independent evaluation set. It
     * includes the texts of {@link #EVAL_RESOURCE}.
     */
    public static final String AUTHORED_RESOURCE = "dev/flinkslm/models/compliance/compliance-authored.jsonl";
    /**
     * The frozen independent evaluation set: 331 realistic texts (text, label, kind, style), 125 of them
     * {@code clear} hard negatives, written before any model was scored on them and never trained on.
     */
    public static final String INDEPENDENT_EVAL_RESOURCE = "dev/flinkslm/models/compliance/independent-eval.jsonl";
    /** Hand-written held-out evaluation set (JSON lines with text, label); never used for training. */
    public static final String EVAL_RESOURCE = "dev/flinkslm/models/compliance/compliance-eval.jsonl";

    public static final String CACHE_DIR_PROPERTY = BundleLoader.CACHE_DIR_PROPERTY;
    /** Manifest metadata key of {@link #sourceSha}: what a cached bundle was built from. */
    static final String SOURCE_KEY = "sourceSha256";
    /** Per precision, the digests of the encoder graph and tokenizer on the class path (they cannot change). */
    private static final Map<Precision, String> ENCODER_SHA = new java.util.concurrent.ConcurrentHashMap<>();

    public static final String CACHE_DIR_ENV = BundleLoader.CACHE_DIR_ENV;
    /** Golden examples per label placed in each manifest. */
    public static final int GOLDEN_PER_LABEL = 3;

    private static final Object LOCK = new Object();
    private static final Map<Path, Boolean> VERIFIED = new ConcurrentHashMap<>();

    private DefaultModel() {}

    /** Version string of the default bundle of a precision, e.g. {@code 1.0.0-int8}. */
    public static String version(Precision p) {
        return BundleWriter.version(p);
    }

    /** Where built-in bundles are cached: {@code models/} under {@link BundleLoader#defaultCacheDirectory()}. */
    public static Path cacheRoot() {
        return BundleLoader.defaultCacheDirectory().resolve("models");
    }

    /** Bundle directory of the default model in the default cache root, built on first use. */
    public static Path bundleDirectory(Precision precision) {
        return bundleDirectory(precision, cacheRoot());
    }

    /** Bundle directory of the default model under {@code cacheRoot}, built on first use. */
    public static Path bundleDirectory(Precision precision, Path cacheRoot) {
        byte[] headJson = Resources.read(HEAD_RESOURCE);
        String headSha = Digests.sha256(headJson);
        Path target = cacheRoot.toAbsolutePath().resolve(BundleWriter.dirName(precision));
        synchronized (LOCK) {
            if (Boolean.TRUE.equals(VERIFIED.get(target)) && Files.isDirectory(target)) {
                return target;
            }
            String sourceSha = sourceSha(precision, headSha);
            if (BundleWriter.isIntact(target, SOURCE_KEY, sourceSha)) {
                VERIFIED.put(target, true);
                return target;
            }
            try {
                Files.createDirectories(cacheRoot);
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "Cannot create model cache directory " + cacheRoot + "; set -D" + CACHE_DIR_PROPERTY + " or "
                                + CACHE_DIR_ENV + " to a writable directory",
                        e);
            }
            Path tmp = target.resolveSibling(".tmp-" + target.getFileName() + "-" + UUID.randomUUID());
            long t0 = System.nanoTime();
            try {
                SoftmaxHead head = SoftmaxHead.fromJson(new String(headJson, StandardCharsets.UTF_8));
                writeBundle(tmp, precision, head, headSha, sourceSha);
                verifyGolden(tmp);
                boolean won = publish(tmp, target, sourceSha);
                LOG.info(
                        "Built default model bundle {} in {} ms{}",
                        target,
                        (System.nanoTime() - t0) / 1_000_000,
                        won ? "" : " (another process published it first; using that one)");
            } finally {
                deleteRecursively(tmp);
            }
            VERIFIED.put(target, true);
            return target;
        }
    }

    /** Moves a complete temp bundle into place; returns false if another JVM published an identical bundle first. */
    private static boolean publish(Path tmp, Path target, String sourceSha) {
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                return true;
            } catch (AtomicMoveNotSupportedException e) {
                throw new IllegalStateException(
                        "Cache directory " + target.getParent() + " does not support atomic renames; point "
                                + CACHE_DIR_PROPERTY + " to a local file system",
                        e);
            } catch (IOException e) {
                if (!Files.exists(target)) {
                    throw new UncheckedIOException("Cannot publish model bundle to " + target, e);
                }
                // rename(2) onto a non-empty directory fails (EEXIST/ENOTEMPTY): the target was created meanwhile
                if (BundleWriter.isIntact(target, SOURCE_KEY, sourceSha)) {
                    return false; // another process published the same bundle first
                }
                // stale or corrupt bundle from an older head: move it aside (atomic) and retry
                Path stale = target.resolveSibling(".stale-" + target.getFileName() + "-" + UUID.randomUUID());
                try {
                    Files.move(target, stale, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException ignored) {
                    // someone else moved it already; retry the publish
                }
                deleteRecursively(stale);
            }
        }
        throw new IllegalStateException("Could not publish model bundle " + target + " after 3 attempts");
    }

    /**
     * What a cached default bundle is built from: the head, the encoder graph and the tokenizer of {@code
     * precision} (metadata {@value #SOURCE_KEY}). A new head or a new encoder artifact on the class path (an
     * upgraded dependency) gives a new key, so the cached bundle is rebuilt instead of reused.
     */
    static String sourceSha(Precision precision, String headSha) {
        String encoder = ENCODER_SHA.computeIfAbsent(
                precision,
                p -> Digests.sha256(Resources.read(p.encoderResource())) + " "
                        + Digests.sha256(Resources.read(EncoderPatch.BUILT_IN_RESOURCE)) + " patch-rules "
                        + EncoderPatch.RULES_VERSION + " "
                        + Digests.sha256(Resources.read(p.tokenizerResource())));
        return Digests.sha256((headSha + " " + encoder).getBytes(StandardCharsets.UTF_8));
    }

    /** Fuses {@code head} into the encoder of {@code precision} and writes a bundle into {@code dir}. */
    static void writeBundle(Path dir, Precision precision, SoftmaxHead head, String headSha, String sourceSha) {
        byte[] fused = OnnxHeadFusion.fuse(precision.encoderGraph(), head);
        byte[] tokenizer = Resources.read(precision.tokenizerResource());
        Map<String, String> info = head.info();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(
                "trainedOn",
                "flink-slm authored compliance corpus (" + info.getOrDefault("trainExamples", "?")
                        + " training texts, corpus sha256 " + info.getOrDefault("corpusSha256", "?") + ")");
        meta.put("head", info.getOrDefault("head", "linear"));
        meta.put("macroF1", info.getOrDefault("macroF1.test." + precision.tag(), ""));
        meta.put("macroF1Split", "holdout (20% of the authored corpus)");
        meta.put("evalMacroF1", info.getOrDefault("macroF1.eval." + precision.tag(), ""));
        meta.put("evalSet", "independent evaluation set (" + INDEPENDENT_EVAL_RESOURCE + ")");
        meta.put("headSha256", headSha);
        meta.put(SOURCE_KEY, sourceSha);
        BundleWriter.write(dir, precision, fused, tokenizer, head, meta);
    }

    private static void verifyGolden(Path bundle) {
        try {
            ModelBundle b = BundleLoader.verify(bundle.toUri(), bundle, null);
            try (ScoringSession session = ScoringSession.open(b, RuntimeOptions.cpu())) {
                List<GoldenCheck.Miss> misses = GoldenCheck.run(session);
                if (!misses.isEmpty()) {
                    GoldenCheck.Miss m = misses.get(0);
                    throw new IllegalStateException("Default model bundle failed golden example " + m.index()
                            + " (expected " + m.expected() + ", got " + m.actual()
                            + "); the ONNX Runtime build may differ numerically from the one the head was built"
                            + " with. Rebuild the head with ModelBuild.");
                }
            }
        } catch (BundleException | ScoringException e) {
            throw new IllegalStateException(
                    "Default model bundle " + bundle + " fails its checks: " + e.getMessage(), e);
        }
    }

    /**
     * Figures measured by {@link #trainAndWrite}.
     *
     * @param holdout each precision's report on the training run's holdout
     * @param eval each precision's report on the evaluation set
     * @param holdoutAgreement int8/fp32 agreement on the holdout
     * @param evalAgreement int8/fp32 agreement on the evaluation set
     */
    public record TrainingSummary(
            Path headFile,
            Map<Precision, Path> bundles,
            double weightDecay,
            double temperature,
            Map<Precision, EvalReport> holdout,
            Map<Precision, EvalReport> eval,
            double holdoutAgreement,
            double evalAgreement) {}

    /** The {@link ModelTrain} options the built-in head is trained with, on {@code data} into {@code outDir}. */
    public static ModelTrain.Options trainingOptions(Path data, Path outDir) {
        return new ModelTrain.Options(
                data,
                outDir,
                ID,
                BundleWriter.BASE_VERSION,
                null,
                0.2,
                ComplianceLabels.ALL,
                ComplianceLabels.CLEAR,
                ModelTrain.Head.MLP);
    }

    /**
     * Retrains the head with {@link ModelTrain} (MLP head, class weights, temperature, golden examples from the
     * holdout) on the authored corpus and writes {@code compliance-head.json} plus both bundles into
     * {@code outDir}, then scores both bundles on the evaluation set. Deterministic: the same corpus and encoder
     * artifacts give the same head file.
     *
     * @param corpusJsonl training corpus ({@code text}, {@code label}); null for {@link #AUTHORED_RESOURCE}
     * @param evalJsonl evaluation set; null for {@link #INDEPENDENT_EVAL_RESOURCE}
     * @param out progress and reports (no example text)
     */
    public static TrainingSummary trainAndWrite(Path corpusJsonl, Path evalJsonl, Path outDir, PrintStream out) {
        List<LabeledText> eval =
                evalJsonl == null ? LabeledText.readResource(INDEPENDENT_EVAL_RESOURCE) : LabeledText.read(evalJsonl);
        try {
            Files.createDirectories(outDir);
            Path data = corpusJsonl;
            if (data == null) {
                data = outDir.resolve("compliance-authored.jsonl");
                Files.write(data, Resources.read(AUTHORED_RESOURCE));
            }
            ModelTrain.Result r = ModelTrain.run(trainingOptions(data, outDir.resolve("train")), out);
            SoftmaxHead trained = SoftmaxHead.fromJson(r.headJson());
            Map<Precision, EvalReport> holdout = new LinkedHashMap<>();
            Map<Precision, EvalReport> evalR = new LinkedHashMap<>();
            Map<Precision, List<Prediction>> evalP = new LinkedHashMap<>();
            Map<String, String> info = new LinkedHashMap<>(trained.info());
            info.put("corpusSha256", info.getOrDefault("dataSha256", ""));
            for (Precision p : Precision.values()) {
                holdout.put(p, r.holdout().get(p.tag()));
                try (BundleClassifier c = BundleClassifier.open(r.bundles().get(p.tag()))) {
                    evalP.put(p, c.predict(eval.stream().map(LabeledText::text).toList()));
                }
                evalR.put(p, report(eval, evalP.get(p)));
                info.put("macroF1.test." + p.tag(), fmt(holdout.get(p).macroF1()));
                info.put("macroF1.eval." + p.tag(), fmt(evalR.get(p).macroF1()));
            }
            double evalAgree = agreement(evalP.get(Precision.INT8), evalP.get(Precision.FP32));
            info.put("agreement.test", fmt(r.agreement()));
            info.put("agreement.eval", fmt(evalAgree));
            SoftmaxHead head = trained.with(info, trained.golden());
            Path headFile = outDir.resolve("compliance-head.json");
            String json = head.toJson();
            Files.writeString(headFile, json);
            String headSha = Digests.sha256(json.getBytes(StandardCharsets.UTF_8));
            Map<Precision, Path> bundles = new LinkedHashMap<>();
            for (Precision p : Precision.values()) {
                Path dir = outDir.resolve(BundleWriter.dirName(p));
                writeBundle(dir, p, head, headSha, sourceSha(p, headSha));
                verifyGolden(dir);
                bundles.put(p, dir);
            }
            return new TrainingSummary(
                    headFile, bundles, r.l2(), r.temperature(), holdout, evalR, r.agreement(), evalAgree);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write build output to " + outDir, e);
        }
    }

    static EvalReport report(List<LabeledText> data, List<Prediction> predictions) {
        int[] gold = new int[data.size()];
        for (int i = 0; i < gold.length; i++) {
            gold[i] = ComplianceLabels.indexOf(data.get(i).label());
        }
        return EvalReport.of(ComplianceLabels.ALL, gold, predictions, ComplianceLabels.indexOf(ComplianceLabels.CLEAR));
    }

    static double agreement(List<Prediction> a, List<Prediction> b) {
        int same = 0;
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i).labelIndex() == b.get(i).labelIndex()) {
                same++;
            }
        }
        return a.isEmpty() ? 1 : (double) same / a.size();
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    static void deleteRecursively(Path dir) {
        try {
            dev.flinkslm.models.FileTrees.deleteRecursively(dir);
        } catch (IOException e) {
            LOG.warn("Cannot delete {}: {}", dir, e.getMessage());
        }
    }
}
