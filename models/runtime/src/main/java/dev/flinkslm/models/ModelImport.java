package dev.flinkslm.models;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
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
 * (the session applies a softmax) and the SHA-256 of every file. The new bundle is then verified and
 * warmed up like any other, so an export the runtime cannot score is refused here, not at DEPLOY.
 *
 * <pre>{@code
 * Path bundle = ModelImport.fromHuggingFace(Path.of("export"), Path.of("bundles/fraud/1.0.0"),
 *         new ModelImport.Options("fraud-distilbert", "1.0.0", "clear"));
 * }</pre>
 *
 * <p>Only exclusive labels are imported: a config whose {@code problem_type} is
 * {@code multi_label_classification} is refused with a message (its labels are independent sigmoids,
 * which a softmax over the logits would misread). Threading: stateless.
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
     *     long text and loses ties), or null
     */
    public record Options(String id, String version, String negativeLabel) {}

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
        if ("multi_label_classification".equals(cfg.path("problem_type").asText(null))) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST,
                    config + " says problem_type=multi_label_classification: multi-label exports (independent"
                            + " sigmoids per label) are not supported; export a single-label classifier");
        }
        List<String> labels = labels(cfg, config);
        if (options.negativeLabel() != null && !labels.contains(options.negativeLabel())) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST,
                    "negative label '" + options.negativeLabel() + "' is not one of the export's labels " + labels);
        }
        int maxLength = Math.min(
                MAX_SEQUENCE_LENGTH_CAP, cfg.path("max_position_embeddings").asInt(MAX_SEQUENCE_LENGTH_CAP));
        ModelManifest.Inputs inputs = inputs(model);
        try {
            Files.createDirectories(bundleDir);
            try (var entries = Files.list(bundleDir)) {
                if (entries.findAny().isPresent()) {
                    throw new BundleException(
                            BundleException.Reason.INVALID_MANIFEST,
                            bundleDir + " is not empty; import into a new directory (bundles are immutable)");
                }
            }
            Files.copy(model, bundleDir.resolve("model.onnx"), StandardCopyOption.COPY_ATTRIBUTES);
            Files.copy(tokenizer, bundleDir.resolve("tokenizer.json"), StandardCopyOption.COPY_ATTRIBUTES);
            Files.copy(config, bundleDir.resolve("config.json"), StandardCopyOption.COPY_ATTRIBUTES);
            Map<String, String> sha = new LinkedHashMap<>();
            for (String f : List.of("model.onnx", "tokenizer.json", "config.json")) {
                sha.put(f, Digests.sha256(bundleDir.resolve(f)));
            }
            Map<String, String> metadata = new TreeMap<>();
            metadata.put("importedFrom", "huggingface");
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
                    new ModelManifest.Outputs(null, "logits", null),
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
