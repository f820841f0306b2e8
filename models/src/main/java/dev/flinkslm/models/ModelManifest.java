package dev.flinkslm.models;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code manifest.json} of a model bundle: identity, labels, graph input/output names,
 * tokenizer settings, the SHA-256 of every file and optional golden examples.
 *
 * <pre>{@code
 * {
 *   "manifestVersion": 1,
 *   "id": "compliance-minilm", "version": "1.0.0-int8", "task": "text-classification",
 *   "labels": ["clear", "sanctions", "structuring", "fraud", "market_abuse"], "negativeLabel": "clear",
 *   "model": "model.onnx", "tokenizer": "tokenizer.json", "maxSequenceLength": 128,
 *   "inputs":  {"inputIds": "input_ids", "attentionMask": "attention_mask", "tokenTypeIds": "token_type_ids"},
 *   "outputs": {"probabilities": "probabilities", "embedding": "sentence_embedding"},
 *   "sha256":  {"model.onnx": "...", "tokenizer.json": "..."},
 *   "golden":  [{"text": "...", "label": "fraud"}]
 * }
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe. {@link #parse(byte[])} validates structure only;
 * {@link BundleLoader} verifies files and checksums and {@link ScoringSession} verifies the graph.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelManifest(
        @JsonProperty("manifestVersion") int manifestVersion,
        @JsonProperty("id") String id,
        @JsonProperty("version") String version,
        @JsonProperty("task") String task,
        @JsonProperty("description") String description,
        @JsonProperty("labels") List<String> labels,
        @JsonProperty("negativeLabel") String negativeLabel,
        @JsonProperty("model") String model,
        @JsonProperty("tokenizer") String tokenizer,
        @JsonProperty("maxSequenceLength") int maxSequenceLength,
        @JsonProperty("inputs") Inputs inputs,
        @JsonProperty("outputs") Outputs outputs,
        @JsonProperty("sha256") Map<String, String> sha256,
        @JsonProperty("golden") List<GoldenExample> golden,
        @JsonProperty("metadata") Map<String, String> metadata) {

    /** The manifest format version this runtime reads and writes. */
    public static final int CURRENT_VERSION = 1;

    /** The only task supported so far. */
    public static final String TASK_TEXT_CLASSIFICATION = "text-classification";

    /** The file name of the manifest inside a bundle. */
    public static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** Names of the graph inputs. {@code tokenTypeIds} is null when the graph has no such input. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Inputs(
            @JsonProperty("inputIds") String inputIds,
            @JsonProperty("attentionMask") String attentionMask,
            @JsonProperty("tokenTypeIds") String tokenTypeIds) {}

    /** Names of the graph outputs. {@code embedding} is optional. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Outputs(
            @JsonProperty("probabilities") String probabilities,
            @JsonProperty("embedding") String embedding) {}

    /** A text and the label the model must give it before the version may go live. */
    public record GoldenExample(@JsonProperty("text") String text, @JsonProperty("label") String label) {}

    public ModelManifest {
        labels = labels == null ? null : List.copyOf(labels);
        sha256 = sha256 == null ? null : Map.copyOf(new LinkedHashMap<>(sha256));
        golden = golden == null ? List.of() : List.copyOf(golden);
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    /** A manifest without {@code negativeLabel} (every label aggregates by maximum over windows). */
    public ModelManifest(int manifestVersion, String id, String version, String task, String description,
            List<String> labels, String model, String tokenizer, int maxSequenceLength, Inputs inputs,
            Outputs outputs, Map<String, String> sha256, List<GoldenExample> golden, Map<String, String> metadata) {
        this(manifestVersion, id, version, task, description, labels, null, model, tokenizer, maxSequenceLength,
                inputs, outputs, sha256, golden, metadata);
    }

    /** Index of {@link #negativeLabel()} in {@link #labels()}, or -1 when the manifest names none. */
    public int negativeLabelIndex() {
        return negativeLabel == null || labels == null ? -1 : labels.indexOf(negativeLabel);
    }

    /** Parses and structurally validates a manifest. */
    public static ModelManifest parse(byte[] json) throws BundleException {
        ModelManifest manifest;
        try {
            manifest = MAPPER.readValue(json, ModelManifest.class);
        } catch (JsonProcessingException e) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST,
                    "manifest.json is not a valid manifest: " + e.getOriginalMessage(),
                    e);
        } catch (IOException e) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST, "manifest.json cannot be read: " + e.getMessage(), e);
        }
        if (manifest == null) {
            throw new BundleException(BundleException.Reason.INVALID_MANIFEST, "manifest.json is empty");
        }
        manifest.validate();
        return manifest;
    }

    /** Reads and validates {@code dir/manifest.json}. */
    public static ModelManifest read(Path dir) throws BundleException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    "no " + FILE_NAME + " in bundle directory " + dir + "; a bundle is a directory with "
                            + FILE_NAME + ", the ONNX graph and the tokenizer");
        }
        try {
            return parse(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new BundleException(BundleException.Reason.MISSING_FILE, "cannot read " + file + ": " + e, e);
        }
    }

    /** Serialises the manifest as pretty-printed JSON. */
    public byte[] toJson() {
        try {
            return MAPPER.writeValueAsString(this).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("manifest cannot be serialised", e);
        }
    }

    /** Writes {@code dir/manifest.json}. */
    public void write(Path dir) throws IOException {
        Files.write(dir.resolve(FILE_NAME), toJson());
    }

    /** The number of classes the model scores. */
    public int labelCount() {
        return labels.size();
    }

    /** Returns a copy with the given checksums (used by tooling that writes bundles). */
    public ModelManifest withSha256(Map<String, String> checksums) {
        return new ModelManifest(manifestVersion, id, version, task, description, labels, negativeLabel, model,
                tokenizer, maxSequenceLength, inputs, outputs, checksums, golden, metadata);
    }

    /** Returns a copy with another version string. */
    public ModelManifest withVersion(String newVersion) {
        return new ModelManifest(manifestVersion, id, newVersion, task, description, labels, negativeLabel, model,
                tokenizer, maxSequenceLength, inputs, outputs, sha256, golden, metadata);
    }

    /** Returns a copy with other golden examples. */
    public ModelManifest withGolden(List<GoldenExample> examples) {
        return new ModelManifest(manifestVersion, id, version, task, description, labels, negativeLabel, model,
                tokenizer, maxSequenceLength, inputs, outputs, sha256, examples, metadata);
    }

    /** Returns a copy with another negative label (null for none). */
    public ModelManifest withNegativeLabel(String label) {
        return new ModelManifest(manifestVersion, id, version, task, description, labels, label, model,
                tokenizer, maxSequenceLength, inputs, outputs, sha256, golden, metadata);
    }

    private void validate() throws BundleException {
        if (manifestVersion != CURRENT_VERSION) {
            throw new BundleException(
                    BundleException.Reason.UNSUPPORTED_MANIFEST_VERSION,
                    "manifestVersion " + manifestVersion + " is not supported; this runtime reads version "
                            + CURRENT_VERSION + " (rebuild the bundle with matching tooling)");
        }
        List<String> problems = new ArrayList<>();
        requireText(problems, "id", id);
        requireText(problems, "version", version);
        requireText(problems, "model", model);
        requireText(problems, "tokenizer", tokenizer);
        if (task != null && !TASK_TEXT_CLASSIFICATION.equals(task)) {
            problems.add("task '" + task + "' is not supported (only " + TASK_TEXT_CLASSIFICATION + ")");
        }
        if (labels == null || labels.isEmpty()) {
            problems.add("labels must list at least one label");
        } else {
            Set<String> seen = new HashSet<>();
            for (String label : labels) {
                if (label == null || label.isBlank()) {
                    problems.add("labels must not contain empty names");
                } else if (!seen.add(label)) {
                    problems.add("label '" + label + "' appears twice");
                }
            }
        }
        if (negativeLabel != null && (labels == null || !labels.contains(negativeLabel))) {
            problems.add("negativeLabel '" + negativeLabel + "' is not one of the labels " + labels);
        }
        if (maxSequenceLength < 2 || maxSequenceLength > 8192) {
            problems.add("maxSequenceLength must be between 2 and 8192, was " + maxSequenceLength);
        }
        if (inputs == null) {
            problems.add("inputs must name inputIds and attentionMask");
        } else {
            requireText(problems, "inputs.inputIds", inputs.inputIds());
            requireText(problems, "inputs.attentionMask", inputs.attentionMask());
        }
        if (outputs == null) {
            problems.add("outputs must name probabilities");
        } else {
            requireText(problems, "outputs.probabilities", outputs.probabilities());
        }
        if (sha256 == null || sha256.isEmpty()) {
            problems.add("sha256 must list the checksum of every bundle file");
        } else {
            for (String file : new String[] {model, tokenizer}) {
                if (file != null && !sha256.containsKey(file)) {
                    problems.add("sha256 has no checksum for " + file);
                }
            }
            for (Map.Entry<String, String> e : sha256.entrySet()) {
                if (e.getValue() == null || !e.getValue().matches("[0-9a-fA-F]{64}")) {
                    problems.add("sha256 of " + e.getKey() + " is not a 64-digit hex SHA-256");
                }
                if (e.getKey().contains("..") || e.getKey().startsWith("/")) {
                    problems.add("file name " + e.getKey() + " must be relative to the bundle directory");
                }
            }
        }
        for (GoldenExample g : golden) {
            if (g == null || g.text() == null || g.label() == null) {
                problems.add("golden examples need text and label");
            } else if (labels != null && !labels.contains(g.label())) {
                problems.add("golden example label '" + g.label() + "' is not one of " + labels);
            }
        }
        if (!problems.isEmpty()) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST, "manifest.json: " + String.join("; ", problems));
        }
    }

    private static void requireText(List<String> problems, String field, String value) {
        if (value == null || value.isBlank()) {
            problems.add(field + " is required");
        }
    }
}
