package dev.flinkslm.jobs;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.models.GoldenCheck;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.ModelRoots;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.operators.versions.ModelCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code model inspect|validate|eval|build|import|train}: look at, check, evaluate, rebuild, import and train model
 * bundles.
 */
@Command(
        name = "model",
        description = "Inspect, validate, evaluate, build, import and train model bundles.",
        mixinStandardHelpOptions = true,
        subcommands = {
            ModelToolsCommand.Inspect.class,
            ModelToolsCommand.Validate.class,
            ModelToolsCommand.Eval.class,
            ModelToolsCommand.Build.class,
            ModelToolsCommand.Import.class,
            ModelToolsCommand.Train.class
        })
final class ModelToolsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Options shared by commands that load one bundle. */
    static class BundleOptions {
        @Option(
                names = "--bundle",
                required = true,
                paramLabel = "<dir|uri|default>",
                description = "Bundle directory, .zip, URI, or 'default' for the built-in compliance model.")
        String bundle;

        @Option(
                names = "--provider",
                defaultValue = "AUTO",
                paramLabel = "CPU|CUDA|AUTO",
                description = "Execution provider (default: ${DEFAULT-VALUE}).")
        String provider;

        @Option(names = "--strict", description = "Fail instead of falling back to CPU when CUDA is unusable.")
        boolean strict;

        @Option(
                names = "--intra-op-threads",
                defaultValue = "2",
                description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}).")
        int intraOpThreads;

        RuntimeOptions runtime() {
            return RuntimeOptions.defaults()
                    .withProvider(RuntimeOptions.parseProvider(provider))
                    .withStrict(strict)
                    .withIntraOpThreads(intraOpThreads);
        }

        /** {@code default} picks the int8 variant on CPU and fp32 when CUDA is requested. */
        String location() {
            if ("default".equals(bundle)) {
                return RuntimeOptions.parseProvider(provider) == ExecutionProvider.CUDA
                        ? "default:fp32"
                        : "default:int8";
            }
            return bundle;
        }

        ModelBundle load() throws BundleException {
            // The user names the bundle on the command line, so every location is allowed here.
            return BundleLoader.builder().roots(ModelRoots.allowAll()).build().load(location());
        }
    }

    @Command(
            name = "inspect",
            mixinStandardHelpOptions = true,
            description = "Print id, version, labels, inputs/outputs, sizes and the provider that would run.")
    static final class Inspect implements Callable<Integer> {
        @CommandLine.Mixin
        BundleOptions options;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            ModelBundle bundle = options.load();
            ModelManifest m = bundle.manifest();
            out.printf("id:                %s%n", m.id());
            out.printf("version:           %s%n", m.version());
            out.printf("task:              %s%n", m.task());
            out.printf("uri:               %s%n", bundle.uri());
            out.printf("directory:         %s%n", bundle.directory());
            out.printf("manifest sha256:   %s%n", bundle.manifestSha256());
            out.printf("labels (%d):        %s%n", m.labelCount(), String.join(", ", m.labels()));
            out.printf("max sequence len:  %d%n", m.maxSequenceLength());
            out.printf(
                    "inputs:            input_ids=%s attention_mask=%s token_type_ids=%s%n",
                    m.inputs().inputIds(),
                    m.inputs().attentionMask(),
                    m.inputs().tokenTypeIds());
            out.printf(
                    "outputs:           %s=%s%s embedding=%s%n",
                    m.outputs().readsLogits() ? "logits" : "probabilities",
                    m.outputs().scoreOutput(),
                    m.outputs().readsLogits() ? " (softmax applied)" : "",
                    m.outputs().embedding());
            for (Map.Entry<String, String> f : m.sha256().entrySet()) {
                out.printf(
                        "file:              %-20s %,12d bytes  sha256 %s%n",
                        f.getKey(), size(bundle, f.getKey()), f.getValue());
            }
            out.printf("golden examples:   %d%n", m.golden().size());
            m.metadata().forEach((k, v) -> out.printf("metadata:          %s=%s%n", k, v));
            try (ScoringSession session = ScoringSession.open(bundle, options.runtime())) {
                out.printf(
                        "provider:          %s%s%n",
                        session.executionProvider(),
                        session.fallbackReason() == null
                                ? ""
                                : " (CUDA unavailable: " + session.fallbackReason() + ")");
            }
            out.flush();
            return 0;
        }

        private static long size(ModelBundle bundle, String file) {
            try {
                return Files.size(bundle.directory().resolve(file));
            } catch (IOException e) {
                return -1;
            }
        }
    }

    @Command(
            name = "validate",
            mixinStandardHelpOptions = true,
            description = "Run every check (files, checksums, graph, tokenizer, warm-up, golden examples);"
                    + " exit non-zero with the reason on any failure.")
    static final class Validate implements Callable<Integer> {
        @CommandLine.Mixin
        BundleOptions options;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try {
                ModelBundle bundle = options.load();
                out.printf("files and checksums ok: %s:%s%n", bundle.id(), bundle.version());
                try (ScoringSession session = ScoringSession.open(bundle, options.runtime())) {
                    out.printf("graph, tokenizer and warm-up ok on %s%n", session.executionProvider());
                    List<GoldenCheck.Miss> misses = GoldenCheck.run(session);
                    if (!misses.isEmpty()) {
                        GoldenCheck.require(session);
                    }
                    out.printf(
                            "golden examples ok: %d/%d%n",
                            bundle.manifest().golden().size(),
                            bundle.manifest().golden().size());
                }
                out.println("valid");
                out.flush();
                return 0;
            } catch (BundleException e) {
                err.println("invalid: " + e.getMessage());
                err.flush();
                return 1;
            } catch (Exception e) {
                err.println("invalid: " + e);
                err.flush();
                return 1;
            }
        }
    }

    @Command(
            name = "eval",
            mixinStandardHelpOptions = true,
            description = "Score a labelled JSON-lines file (text, label) and print the confusion matrix, per-label"
                    + " precision/recall/F1 and, last, macro_f1=<v> clear_fpr=<v> ece=<v>: the share of the negative"
                    + " label's texts (clear) scored as another label, and the expected calibration error over 10"
                    + " bins.")
    static final class Eval implements Callable<Integer> {
        @CommandLine.Mixin
        BundleOptions options;

        @Option(
                names = "--data",
                required = true,
                paramLabel = "<file.jsonl>",
                description = "JSON lines with 'text' and 'label'.")
        java.nio.file.Path data;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(data)) {
                throw new IllegalArgumentException("--data " + data + " does not exist");
            }
            ModelBundle bundle = options.load();
            dev.flinkslm.models.compliance.ModelEval.run(bundle.directory(), data, System.out);
            System.out.flush();
            return 0;
        }
    }

    @Command(
            name = "build",
            mixinStandardHelpOptions = true,
            description = "Retrain the default compliance model from its corpus and write both bundles (int8, fp32)"
                    + " and the head weights into an output directory.")
    static final class Build implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "<dir>", description = "Output directory.")
        java.nio.file.Path out;

        @Option(
                names = "--corpus",
                paramLabel = "<file.jsonl>",
                description = "Corpus (text, label, split); default: the corpus shipped with flink-slm.")
        java.nio.file.Path corpus;

        @Option(
                names = "--eval",
                paramLabel = "<file.jsonl>",
                description = "Held-out evaluation set; default: the one shipped with flink-slm.")
        java.nio.file.Path eval;

        @Override
        public Integer call() {
            dev.flinkslm.models.compliance.ModelBuild.run(out, corpus, eval, System.out);
            System.out.flush();
            return 0;
        }
    }

    @Command(
            name = "import",
            mixinStandardHelpOptions = true,
            description = {
                "Turn a Hugging Face / Optimum export of a sequence-classification model (a folder with model.onnx"
                        + " whose output is logits, tokenizer.json and config.json with id2label) into a bundle, as it"
                        + " is, and verify it. Prints the bundle's path and a DEPLOY command for a canary.",
                "A multi-label export (problem_type=multi_label_classification) is scored with a sigmoid per label and"
                        + " a threshold each (--threshold, default 0.5); it needs --negative-label naming the answer"
                        + " when no label reaches its threshold (a label the export does not have)."
            })
    static final class Import implements Callable<Integer> {
        @Option(names = "--from", required = true, paramLabel = "<dir>", description = "The export folder.")
        java.nio.file.Path from;

        @Option(names = "--out", required = true, paramLabel = "<dir>", description = "New bundle directory.")
        java.nio.file.Path target;

        @Option(names = "--id", required = true, description = "Bundle id, e.g. fraud-distilbert.")
        String id;

        @Option(names = "--model-version", required = true, description = "Model version, e.g. 1.0.0.")
        String version;

        @Option(
                names = "--negative-label",
                description = "The label meaning nothing found (loses ties, minimum over windows), e.g. clear"
                        + " (default: none).")
        String negativeLabel;

        @Option(
                names = "--threshold",
                paramLabel = "<label>=<value>",
                description = "Multi-label exports: the threshold of a label in (0, 1) (repeatable; default 0.5).")
        Map<String, Double> thresholds;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try {
                java.nio.file.Path bundle = dev.flinkslm.models.ModelImport.fromHuggingFace(
                        from,
                        target,
                        new dev.flinkslm.models.ModelImport.Options(id, version, negativeLabel, thresholds));
                out.println("imported " + bundle.toAbsolutePath());
                out.println("deploy it as a 10% canary with, on the command topic:");
                out.println(ModelCommand.deploy(
                                "deploy-" + id + "-" + version,
                                bundle.toAbsolutePath().toUri().toString(),
                                ModelCommand.Role.CANARY)
                        .percent(10)
                        .toJson());
                out.flush();
                return 0;
            } catch (BundleException e) {
                spec.commandLine().getErr().println("import failed: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(
            name = "train",
            mixinStandardHelpOptions = true,
            description = {
                "Train a classifier for your own labels on a frozen encoder (the built-in all-MiniLM-L6-v2 or an"
                        + " encoder-only Hugging Face export): class weights for imbalance, a temperature fitted on"
                        + " the holdout, int8 and fp32 bundles, golden examples from the holdout and a model card.",
                "Prints the holdout figures, the bundles and a DEPLOY command for a canary; --publish sends it."
            })
    static final class Train implements Callable<Integer> {
        @Option(
                names = "--data",
                required = true,
                paramLabel = "<file.jsonl>",
                description = "JSON lines with 'text' and 'label' (other fields are ignored).")
        java.nio.file.Path data;

        @Option(
                names = "--out",
                required = true,
                paramLabel = "<dir>",
                description = "New output directory (bundles in <dir>/int8 and <dir>/fp32, model-card.md).")
        java.nio.file.Path out;

        @Option(names = "--id", required = true, description = "Bundle id, e.g. aml-triage.")
        String id;

        @Option(
                names = "--model-version",
                required = true,
                description = "Model version, e.g. 1.0.0 (bundles are <version>-int8 and <version>-fp32).")
        String version;

        @Option(
                names = "--encoder",
                paramLabel = "<dir>",
                description = "Encoder-only Hugging Face / Optimum export (model.onnx with last_hidden_state,"
                        + " tokenizer.json); one bundle in its own precision (default: the built-in MiniLM).")
        java.nio.file.Path encoder;

        @Option(
                names = "--holdout",
                defaultValue = "0.2",
                description = "Share of each label's texts held out for calibration and figures (default:"
                        + " ${DEFAULT-VALUE}).")
        double holdout;

        @Option(
                names = "--labels",
                split = ",",
                paramLabel = "<a,b,c>",
                description = "The labels in output order (default: the data's labels, the negative label first).")
        List<String> labels;

        @Option(
                names = "--negative-label",
                description = "The label meaning nothing found (no alert; loses ties), e.g. clear.")
        String negativeLabel;

        @Option(
                names = "--head",
                defaultValue = "MLP",
                description = "Classifier on the embedding: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        dev.flinkslm.models.compliance.ModelTrain.Head head;

        @Option(
                names = "--publish",
                paramLabel = "<bootstrap>",
                description = "Send the DEPLOY command for the int8 bundle (or the export's) to this Kafka cluster.")
        String publish;

        @Option(
                names = "--commands-topic",
                defaultValue = "slm-model-commands",
                description = "Command topic for --publish (default: ${DEFAULT-VALUE}).")
        String commandsTopic;

        @Option(
                names = "--canary-percent",
                defaultValue = "10",
                description = "Share of keys the canary serves (default: ${DEFAULT-VALUE}).")
        double canaryPercent;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            if (!(canaryPercent > 0 && canaryPercent <= 100)) {
                err.println("--canary-percent must be in (0, 100], not " + canaryPercent);
                return 2;
            }
            dev.flinkslm.models.compliance.ModelTrain.Result r;
            try {
                r = dev.flinkslm.models.compliance.ModelTrain.run(
                        new dev.flinkslm.models.compliance.ModelTrain.Options(
                                data, out, id, version, encoder, holdout, labels, negativeLabel, head),
                        System.out);
            } catch (IllegalArgumentException e) {
                err.println("train failed: " + e.getMessage());
                return 1;
            } catch (RuntimeException e) {
                err.println("train failed: " + e);
                return 1;
            }
            System.out.flush();
            String tag = r.bundles().containsKey("int8")
                    ? "int8"
                    : r.bundles().keySet().iterator().next();
            ModelCommand deploy = ModelCommand.deploy(
                            "deploy-" + id + "-" + r.versions().get(tag),
                            r.bundles().get(tag).toAbsolutePath().toUri().toString(),
                            ModelCommand.Role.CANARY)
                    .percent(canaryPercent);
            PrintWriter o = spec.commandLine().getOut();
            o.printf(
                    java.util.Locale.ROOT,
                    "deploy it as a %s%% canary with, on the command topic:%n%s%n",
                    fmtPercent(canaryPercent),
                    deploy.toJson());
            if (r.bundles().containsKey("fp32")) {
                o.println("(on GPUs deploy "
                        + r.bundles().get("fp32").toAbsolutePath().toUri() + " instead)");
            }
            o.flush();
            if (publish != null) {
                try {
                    o.println("published to " + CommandPublisher.send(publish, commandsTopic, id, deploy.toJson()));
                    o.flush();
                } catch (Exception e) {
                    err.println("publish failed (the bundles are written): " + e.getMessage());
                    return 1;
                }
            }
            return 0;
        }

        private static String fmtPercent(double p) {
            return p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p);
        }
    }
}
