package dev.flinkslm.models;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns a Hugging Face / Optimum export of a sequence-classification model into a bundle, as it is:
 * the folder's {@code model.onnx} (whose output is {@code logits}), {@code tokenizer.json} and
 * {@code config.json} are copied, and the manifest is written from them: the labels from
 * {@code id2label} in index order, the maximum sequence length from {@code max_position_embeddings}
 * (at most {@value #MAX_SEQUENCE_LENGTH_CAP}), the input names from the graph, the output as logits
 * (the session applies a softmax, or for a {@code multi_label_classification} export a sigmoid per
 * label with a threshold each) and the SHA-256 of every file. The new bundle is then verified and
 * warmed up like any other, so an export the runtime cannot score is refused here, not at DEPLOY.
 *
 * <pre>{@code
 * Path bundle = ModelImport.fromHuggingFace(Path.of("export"), Path.of("bundles/fraud/1.0.0"),
 *         new ModelImport.Options("fraud-distilbert", "1.0.0", "clear"));
 * }</pre>
 *
 * <p>A multi-label export ({@code problem_type} {@code multi_label_classification}) needs a negative
 * label that is not one of its own: the bundle lists it first, and the session scores it as 1 minus
 * the highest label score, the answer when no label reaches its threshold. Threading: stateless.
 */
public final class ModelImport {

    /** The longest sequence an imported manifest declares, whatever the config allows. */
    public static final int MAX_SEQUENCE_LENGTH_CAP = 512;

    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelImport() {}

    /**
     * What the export does not say.
     *
     * @param id the bundle id, e.g. {@code fraud-distilbert}
     * @param version the model version, e.g. {@code 1.0.0}
     * @param negativeLabel the label meaning "nothing found" (it gets the minimum over the windows of a
     *     long text and loses ties), or null; a multi-label export needs one, named apart from its own labels
     *     (it is the answer when no label reaches its threshold)
     * @param thresholds multi-label exports only: threshold per label, in (0, 1); labels not named get
     *     {@value #DEFAULT_THRESHOLD}
     */
    public record Options(String id, String version, String negativeLabel, Map<String, Double> thresholds) {

        public Options {
            thresholds = thresholds == null ? Map.of() : Map.copyOf(thresholds);
        }

        /** Options of a single-label export (no thresholds). */
        public Options(String id, String version, String negativeLabel) {
            this(id, version, negativeLabel, Map.of());
        }
    }

    /** Threshold of a multi-label export's label when the options give none. */
    public static final double DEFAULT_THRESHOLD = 0.5;

    /**
     * Imports {@code exportDir} into {@code bundleDir} (created; it must not exist or be empty).
     *
     * @return {@code bundleDir}
     * @throws BundleException naming what is missing or wrong in the export
     */
    public static Path fromHuggingFace(Path exportDir, Path bundleDir, Options options) throws BundleException {
        Path model = require(exportDir, "model.onnx");
        Path tokenizer = require(exportDir, "tokenizer.json");
        Path config = require(exportDir, "config.json");
        if (options.id() == null
                || options.id().isBlank()
                || options.version() == null
                || options.version().isBlank()) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST, "an imported bundle needs an id and a version");
        }
        JsonNode cfg;
        try {
            cfg = JSON.readTree(config.toFile());
        } catch (IOException e) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST, config + " is not valid JSON: " + e.getMessage(), e);
        }
        boolean multiLabel =
                "multi_label_classification".equals(cfg.path("problem_type").asText(null));
        List<String> exportLabels = labels(cfg, config);
        List<String> labels = exportLabels;
        ModelManifest.Outputs outputs = new ModelManifest.Outputs(null, "logits", null);
        if (multiLabel) {
            if (options.negativeLabel() == null) {
                throw new BundleException(
                        BundleException.Reason.INVALID_MANIFEST,
                        config + " says problem_type=multi_label_classification: name the label meaning nothing found"
                                + " (--negative-label, e.g. clear); it is the answer when no label reaches its"
                                + " threshold");
            }
            if (exportLabels.contains(options.negativeLabel())) {
                throw new BundleException(
                        BundleException.Reason.INVALID_MANIFEST,
                        "negative label '" + options.negativeLabel() + "' is one of the multi-label export's labels "
                                + exportLabels + "; in a multi-label bundle it is derived (1 minus the highest"
                                + " score), so name a label the export does not have");
            }
            for (String l : options.thresholds().keySet()) {
                if (!exportLabels.contains(l)) {
                    throw new BundleException(
                            BundleException.Reason.INVALID_MANIFEST,
                            "threshold for '" + l + "', which is not one of the export's labels " + exportLabels);
                }
            }
            Map<String, Double> thresholds = new LinkedHashMap<>();
            for (String l : exportLabels) {
                thresholds.put(l, options.thresholds().getOrDefault(l, DEFAULT_THRESHOLD));
            }
            labels = new ArrayList<>();
            labels.add(options.negativeLabel());
            labels.addAll(exportLabels);
            outputs = ModelManifest.Outputs.multiLabel("logits", null, thresholds);
        } else {
            if (!options.thresholds().isEmpty()) {
                throw new BundleException(
                        BundleException.Reason.INVALID_MANIFEST,
                        "thresholds apply to multi-label exports only; " + config + " is single-label (the top"
                                + " label is the most probable one)");
            }
            if (options.negativeLabel() != null && !labels.contains(options.negativeLabel())) {
                throw new BundleException(
                        BundleException.Reason.INVALID_MANIFEST,
                        "negative label '" + options.negativeLabel() + "' is not one of the export's labels " + labels);
            }
        }
        int maxLength = Math.min(
                MAX_SEQUENCE_LENGTH_CAP, cfg.path("max_position_embeddings").asInt(MAX_SEQUENCE_LENGTH_CAP));
        ModelManifest.Inputs inputs = inputs(model);
        try {
            try {
                FileTrees.requireNoBundleAt(bundleDir, "import");
            } catch (FileAlreadyExistsException taken) {
                throw new BundleException(BundleException.Reason.INVALID_MANIFEST, taken.getMessage());
            }
            Files.createDirectories(bundleDir);
            Files.copy(model, bundleDir.resolve("model.onnx"), StandardCopyOption.COPY_ATTRIBUTES);
            Files.copy(tokenizer, bundleDir.resolve("tokenizer.json"), StandardCopyOption.COPY_ATTRIBUTES);
            Files.copy(config, bundleDir.resolve("config.json"), StandardCopyOption.COPY_ATTRIBUTES);
            Map<String, String> sha = new LinkedHashMap<>();
            for (String f : List.of("model.onnx", "tokenizer.json", "config.json")) {
                sha.put(f, Digests.sha256(bundleDir.resolve(f)));
            }
            Map<String, String> metadata = new TreeMap<>();
            metadata.put("importedFrom", "huggingface");
            if (multiLabel) {
                metadata.put("problem_type", "multi_label_classification");
            }
            for (String key : List.of("_name_or_path", "model_type", "architectures")) {
                JsonNode v = cfg.get(key);
                if (v != null && !v.isNull()) {
                    metadata.put(key, v.isTextual() ? v.asText() : v.toString());
                }
            }
            ModelManifest manifest = new ModelManifest(
                    1,
                    options.id(),
                    options.version(),
                    ModelManifest.TASK_TEXT_CLASSIFICATION,
                    "imported Hugging Face export",
                    labels,
                    options.negativeLabel(),
                    "model.onnx",
                    "tokenizer.json",
                    maxLength,
                    inputs,
                    outputs,
                    sha,
                    List.of(),
                    metadata);
            manifest.write(bundleDir);
        } catch (IOException e) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE, "cannot write the bundle to " + bundleDir + ": " + e, e);
        }
        ModelBundle bundle = BundleLoader.verify(bundleDir.toUri(), bundleDir, null);
        try (ScoringSession ignored = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
            return bundleDir; // verified and warmed up
        }
    }

    private static Path require(Path dir, String name) throws BundleException {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    dir + " has no " + name + "; a Hugging Face / Optimum export holds model.onnx, tokenizer.json"
                            + " and config.json");
        }
        return p;
    }

    /** {@code id2label} in index order; the indices must be 0..n-1. */
    private static List<String> labels(JsonNode cfg, Path config) throws BundleException {
        JsonNode map = cfg.get("id2label");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST, config + " has no id2label; the labels must be named");
        }
        TreeMap<Integer, String> byIndex = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            try {
                byIndex.put(Integer.parseInt(e.getKey()), e.getValue().asText());
            } catch (NumberFormatException ex) {
                throw new BundleException(
                        BundleException.Reason.INVALID_MANIFEST,
                        config + ": id2label key '" + e.getKey() + "' is not an index");
            }
        }
        if (byIndex.firstKey() != 0 || byIndex.lastKey() != byIndex.size() - 1) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST,
                    config + ": id2label indices " + byIndex.keySet() + " are not 0.." + (byIndex.size() - 1));
        }
        if (byIndex.size() < 2) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST,
                    config + ": id2label names " + byIndex.size() + " label; a classifier needs at least two"
                            + " (a one-output regression head cannot be scored as classes)");
        }
        List<String> labels = new ArrayList<>(byIndex.values());
        if (Set.copyOf(labels).size() != labels.size()) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST, config + ": id2label repeats a label: " + labels);
        }
        return labels;
    }

    /** The graph's input names; {@code input_ids} and {@code attention_mask} are required. */
    private static ModelManifest.Inputs inputs(Path model) throws BundleException {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                OrtSession s = OrtEnvironment.getEnvironment().createSession(model.toString(), o)) {
            Set<String> names = s.getInputNames();
            if (!names.contains("input_ids") || !names.contains("attention_mask")) {
                throw new BundleException(
                        BundleException.Reason.INPUT_OUTPUT_MISMATCH,
                        model + " has inputs " + names + "; an export needs input_ids and attention_mask");
            }
            if (!s.getOutputNames().contains("logits")) {
                throw new BundleException(
                        BundleException.Reason.INPUT_OUTPUT_MISMATCH,
                        model + " has outputs " + s.getOutputNames() + "; a sequence-classification export outputs"
                                + " logits (an encoder-only export needs a head first)");
            }
            return new ModelManifest.Inputs(
                    "input_ids", "attention_mask", names.contains("token_type_ids") ? "token_type_ids" : null);
        } catch (OrtException e) {
            throw new BundleException(
                    BundleException.Reason.UNREADABLE_MODEL, model + " cannot be read by ONNX Runtime: " + e, e);
        }
    }
}
