package dev.flinkslm.models;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;

import java.io.IOException;
import java.io.InputStream;
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
 * <p>{@code negativeLabel} (optional) names the label that means "nothing found"; it changes how
 * the windows of a long text are aggregated (see {@link ScoringSession#combine}).
 *
 * <p>Parsing is strict, because a manifest decides what runs: duplicate keys, unknown fields,
 * trailing content and coerced scalars (a string or a fraction where a number belongs, a number
 * where a string belongs) are errors, {@code manifestVersion} must be a JSON integer, and the
 * manifest and its golden examples must stay within {@link BundleLimits}.
 *
 * <p>Instances are immutable and thread-safe. {@link #parse(byte[])} validates structure only;
 * {@link BundleLoader} verifies files and checksums and {@link ScoringSession} verifies the graph.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
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

    private static final JsonMapper MAPPER = strictMapper();

    private static JsonMapper strictMapper() {
        JsonMapper mapper = JsonMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
                .enable(SerializationFeature.INDENT_OUTPUT)
                // maps (checksums, metadata, thresholds) are held in Map.copyOf, whose order differs per JVM:
                // written sorted, the same manifest has the same bytes (and SHA-256) wherever it is written
                .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                .build();
        for (CoercionInputShape shape : new CoercionInputShape[] {
            CoercionInputShape.String,
            CoercionInputShape.Float,
            CoercionInputShape.Boolean,
            CoercionInputShape.EmptyString
        }) {
            mapper.coercionConfigFor(LogicalType.Integer).setCoercion(shape, CoercionAction.Fail);
        }
        for (CoercionInputShape shape : new CoercionInputShape[] {
            CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean
        }) {
            mapper.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
        for (LogicalType type : new LogicalType[] {LogicalType.Collection, LogicalType.Map, LogicalType.POJO}) {
            mapper.coercionConfigFor(type).setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
            mapper.coercionConfigFor(type).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        }
        return mapper;
    }

    /** Names of the graph inputs. {@code tokenTypeIds} is null when the graph has no such input. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Inputs(
            @JsonProperty("inputIds") String inputIds,
            @JsonProperty("attentionMask") String attentionMask,
            @JsonProperty("tokenTypeIds") String tokenTypeIds) {}

    /**
     * Names of the graph outputs: exactly one of {@code probabilities} (a distribution over the
     * labels, for example after a Softmax) and {@code logits} (raw scores, as Hugging Face / Optimum
     * exports output them); {@code embedding} is optional.
     *
     * <p>{@code activation} says how the session turns logits into probabilities: {@code softmax}
     * (the default; the labels exclude each other) or {@code sigmoid} (multi-label: each label is
     * scored on its own). A sigmoid graph has one column per label except the manifest's
     * {@code negativeLabel}, which it must name; the negative label's score is 1 minus the highest
     * other score. {@code thresholds} (sigmoid only, one per other label, each in (0, 1)) decide
     * which labels are found: the top label is the highest-scoring label at or above its threshold,
     * and the negative label when there is none.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Outputs(
            @JsonProperty("probabilities") String probabilities,
            @JsonProperty("logits") String logits,
            @JsonProperty("embedding") String embedding,
            @JsonProperty("activation") String activation,
            @JsonProperty("thresholds") Map<String, Double> thresholds) {

        /** {@code activation} of exclusive labels. */
        public static final String SOFTMAX = "softmax";

        /** {@code activation} of multi-label logits. */
        public static final String SIGMOID = "sigmoid";

        public Outputs {
            if (thresholds != null) {
                for (Map.Entry<String, Double> e : thresholds.entrySet()) {
                    if (e.getKey() == null || e.getValue() == null) {
                        throw new IllegalArgumentException("outputs.thresholds has a null entry (" + e.getKey() + ": "
                                + e.getValue() + "); every threshold is a number in (0, 1)");
                    }
                }
                thresholds = Map.copyOf(thresholds);
            }
        }

        /** Outputs of a graph that computes probabilities. */
        public Outputs(String probabilities, String embedding) {
            this(probabilities, null, embedding, null, null);
        }

        /** Outputs of a graph with exclusive labels (probabilities, or logits with a softmax). */
        public Outputs(String probabilities, String logits, String embedding) {
            this(probabilities, logits, embedding, null, null);
        }

        /** Outputs of a multi-label graph: sigmoid logits with a threshold per label. */
        public static Outputs multiLabel(String logits, String embedding, Map<String, Double> thresholds) {
            return new Outputs(null, logits, embedding, SIGMOID, thresholds);
        }

        /** The output the session scores from: the probabilities, or else the logits. */
        @JsonIgnore
        public String scoreOutput() {
            return probabilities != null ? probabilities : logits;
        }

        /** Whether {@link #scoreOutput()} holds logits that an activation turns into probabilities. */
        @JsonIgnore
        public boolean readsLogits() {
            return probabilities == null && logits != null;
        }

        /** Whether the labels are scored each on its own (sigmoid logits) rather than as one distribution. */
        @JsonIgnore
        public boolean multiLabel() {
            return SIGMOID.equals(activation);
        }
    }

    /** A text and the label the model must give it before the version may go live. */
    public record GoldenExample(
            @JsonProperty("text") String text,
            @JsonProperty("label") String label) {}

    public ModelManifest {
        labels = labels == null ? null : List.copyOf(labels);
        sha256 = sha256 == null ? null : Map.copyOf(new LinkedHashMap<>(sha256));
        golden = golden == null ? List.of() : List.copyOf(golden);
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    /** A manifest without {@code negativeLabel} (every label aggregates by maximum over windows). */
    public ModelManifest(
            int manifestVersion,
            String id,
            String version,
            String task,
            String description,
            List<String> labels,
            String model,
            String tokenizer,
            int maxSequenceLength,
            Inputs inputs,
            Outputs outputs,
            Map<String, String> sha256,
            List<GoldenExample> golden,
            Map<String, String> metadata) {
        this(
                manifestVersion,
                id,
                version,
                task,
                description,
                labels,
                null,
                model,
                tokenizer,
                maxSequenceLength,
                inputs,
                outputs,
                sha256,
                golden,
                metadata);
    }

    /** Index of {@link #negativeLabel()} in {@link #labels()}, or -1 when the manifest names none. */
    public int negativeLabelIndex() {
        return negativeLabel == null || labels == null ? -1 : labels.indexOf(negativeLabel);
    }

    /** Parses and structurally validates a manifest within the {@linkplain BundleLimits#defaults() default limits}. */
    public static ModelManifest parse(byte[] json) throws BundleException {
        return parse(json, BundleLimits.defaults());
    }

    /** Parses and structurally validates a manifest. */
    public static ModelManifest parse(byte[] json, BundleLimits limits) throws BundleException {
        if (json.length > limits.maxManifestBytes()) {
            throw new BundleException(
                    BundleException.Reason.LIMIT_EXCEEDED,
                    "manifest.json has " + json.length + " bytes, more than the limit of " + limits.maxManifestBytes()
                            + " (BundleLimits.maxManifestBytes); keep data out of the manifest or raise the limit");
        }
        JsonNode tree;
        try {
            tree = MAPPER.readTree(json);
        } catch (IOException e) {
            throw invalid(e);
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            throw new BundleException(BundleException.Reason.INVALID_MANIFEST, "manifest.json is empty");
        }
        if (!tree.isObject()) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST,
                    "manifest.json must be a JSON object, not " + tree.getNodeType());
        }
        // The version decides how the rest is read, so it is checked before anything else.
        JsonNode version = tree.get("manifestVersion");
        if (version == null || version.isNull()) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST, "manifest.json: manifestVersion is required");
        }
        if (!version.isIntegralNumber() || !version.canConvertToInt()) {
            throw new BundleException(
                    BundleException.Reason.INVALID_MANIFEST,
                    "manifest.json: manifestVersion must be a JSON integer such as " + CURRENT_VERSION + ", was "
                            + version);
        }
        if (version.intValue() != CURRENT_VERSION) {
            throw unsupported(version.intValue());
        }
        JsonNode golden = tree.get("golden");
        if (golden != null && golden.isArray() && golden.size() > limits.maxGoldenExamples()) {
            throw new BundleException(
                    BundleException.Reason.LIMIT_EXCEEDED,
                    "manifest.json has " + golden.size() + " golden examples, more than the limit of "
                            + limits.maxGoldenExamples() + " (BundleLimits.maxGoldenExamples); golden examples are"
                            + " a smoke test run at every load, keep a few per label");
        }
        ModelManifest manifest;
        try {
            manifest = MAPPER.treeToValue(tree, ModelManifest.class);
        } catch (IOException | IllegalArgumentException e) {
            throw invalid(e);
        }
        manifest.validate();
        return manifest;
    }

    private static BundleException invalid(Exception e) {
        String detail = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
        return new BundleException(
                BundleException.Reason.INVALID_MANIFEST, "manifest.json is not a valid manifest: " + detail, e);
    }

    private static BundleException unsupported(int version) {
        return new BundleException(
                BundleException.Reason.UNSUPPORTED_MANIFEST_VERSION,
                "manifestVersion " + version + " is not supported; this runtime reads version " + CURRENT_VERSION
                        + " (rebuild the bundle with matching tooling)");
    }

    /** Reads and validates {@code dir/manifest.json} within the default limits. */
    public static ModelManifest read(Path dir) throws BundleException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    "no " + FILE_NAME + " in bundle directory " + dir + "; a bundle is a directory with " + FILE_NAME
                            + ", the ONNX graph and the tokenizer");
        }
        BundleLimits limits = BundleLimits.defaults();
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes((int) limits.maxManifestBytes() + 1);
        } catch (IOException e) {
            throw new BundleException(BundleException.Reason.MISSING_FILE, "cannot read " + file + ": " + e, e);
        }
        return parse(bytes, limits);
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

    /**
     * Width of the graph's score output: one column per label, except that a multi-label graph has none for
     * the negative label (the session derives it).
     */
    public int scoreColumns() {
        return outputs != null && outputs.multiLabel() ? labels.size() - 1 : labels.size();
    }

    /**
     * The threshold of each label in label order for a multi-label manifest (the negative label's is NaN: it is
     * the answer when no other label reaches its threshold), or null for exclusive labels.
     */
    public float[] thresholdsInLabelOrder() {
        if (outputs == null || !outputs.multiLabel() || outputs.thresholds() == null) {
            return null;
        }
        float[] t = new float[labels.size()];
        for (int c = 0; c < t.length; c++) {
            Double v = outputs.thresholds().get(labels.get(c));
            t[c] = v == null ? Float.NaN : v.floatValue();
        }
        return t;
    }

    private void multiLabelProblems(List<String> problems) {
        String activation = outputs.activation();
        if (activation != null && !Outputs.SOFTMAX.equals(activation) && !Outputs.SIGMOID.equals(activation)) {
            problems.add(
                    "outputs.activation '" + activation + "' is not " + Outputs.SOFTMAX + " or " + Outputs.SIGMOID);
            return;
        }
        if (activation != null && outputs.logits() == null) {
            problems.add("outputs.activation applies to logits only; a probabilities output is used as it is");
        }
        if (!outputs.multiLabel()) {
            if (outputs.thresholds() != null) {
                problems.add("outputs.thresholds apply to multi-label (sigmoid) outputs only");
            }
            return;
        }
        if (negativeLabel == null) {
            problems.add("a multi-label (sigmoid) output needs a negativeLabel: the answer when no label reaches its"
                    + " threshold");
            return;
        }
        if (labels != null && labels.size() < 2) {
            problems.add("a multi-label (sigmoid) output needs at least one label besides the negative label");
            return;
        }
        if (labels == null || outputs.thresholds() == null) {
            problems.add("a multi-label (sigmoid) output needs outputs.thresholds, one per label except the negative"
                    + " label");
            return;
        }
        Set<String> expected = new java.util.TreeSet<>(labels);
        expected.remove(negativeLabel);
        if (!expected.equals(new java.util.TreeSet<>(outputs.thresholds().keySet()))) {
            problems.add("outputs.thresholds must name exactly the labels " + expected + " (not the negative label),"
                    + " but name "
                    + new java.util.TreeSet<>(outputs.thresholds().keySet()));
        }
        outputs.thresholds().forEach((label, t) -> {
            if (t == null || !(t > 0 && t < 1)) {
                problems.add("threshold of '" + label + "' must be in (0, 1), was " + t);
            }
        });
    }

    /** Returns a copy with the given checksums (used by tooling that writes bundles). */
    public ModelManifest withSha256(Map<String, String> checksums) {
        return new ModelManifest(
                manifestVersion,
                id,
                version,
                task,
                description,
                labels,
                negativeLabel,
                model,
                tokenizer,
                maxSequenceLength,
                inputs,
                outputs,
                checksums,
                golden,
                metadata);
    }

    /** Returns a copy with another version string. */
    public ModelManifest withVersion(String newVersion) {
        return new ModelManifest(
                manifestVersion,
                id,
                newVersion,
                task,
                description,
                labels,
                negativeLabel,
                model,
                tokenizer,
                maxSequenceLength,
                inputs,
                outputs,
                sha256,
                golden,
                metadata);
    }

    /** Returns a copy with other golden examples. */
    public ModelManifest withGolden(List<GoldenExample> examples) {
        return new ModelManifest(
                manifestVersion,
                id,
                version,
                task,
                description,
                labels,
                negativeLabel,
                model,
                tokenizer,
                maxSequenceLength,
                inputs,
                outputs,
                sha256,
                examples,
                metadata);
    }

    /** Returns a copy with another negative label (null for none). */
    public ModelManifest withNegativeLabel(String label) {
        return new ModelManifest(
                manifestVersion,
                id,
                version,
                task,
                description,
                labels,
                label,
                model,
                tokenizer,
                maxSequenceLength,
                inputs,
                outputs,
                sha256,
                golden,
                metadata);
    }

    /** Returns a copy with other metadata. */
    public ModelManifest withMetadata(Map<String, String> newMetadata) {
        return new ModelManifest(
                manifestVersion,
                id,
                version,
                task,
                description,
                labels,
                negativeLabel,
                model,
                tokenizer,
                maxSequenceLength,
                inputs,
                outputs,
                sha256,
                golden,
                newMetadata);
    }

    private void validate() throws BundleException {
        if (manifestVersion != CURRENT_VERSION) {
            throw unsupported(manifestVersion);
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
        if (outputs == null || outputs.probabilities() == null && outputs.logits() == null) {
            problems.add("outputs must name the probabilities or the logits output of the graph");
        } else if (outputs.probabilities() != null && outputs.logits() != null) {
            problems.add("outputs name both probabilities and logits; name the one the session should read");
        } else if (outputs.probabilities() != null) {
            requireText(problems, "outputs.probabilities", outputs.probabilities());
        } else {
            requireText(problems, "outputs.logits", outputs.logits());
        }
        if (outputs != null) {
            multiLabelProblems(problems);
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
                String nameProblem = fileNameProblem(e.getKey());
                if (nameProblem != null) {
                    problems.add("file name '" + e.getKey() + "' " + nameProblem);
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

    /**
     * Bundle file names are relative paths of plain segments ({@code model.onnx},
     * {@code onnx/model.onnx}): no {@code .} or {@code ..} segment, no empty segment, no backslash,
     * no absolute path, no control character, and never the manifest itself.
     */
    static String fileNameProblem(String name) {
        if (name == null || name.isEmpty()) {
            return "is empty";
        }
        if (FILE_NAME.equals(name)) {
            return "is the manifest itself, whose checksum the manifest cannot hold";
        }
        if (name.length() > 255) {
            return "is longer than 255 characters";
        }
        for (String segment : name.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "must be a relative path of plain names (no leading '/', no '//', '.' or '..')";
            }
            if (!segment.matches("[A-Za-z0-9_][A-Za-z0-9._+-]*")) {
                return "may only use letters, digits and . _ + - (and / between folders)";
            }
        }
        return null;
    }

    private static void requireText(List<String> problems, String field, String value) {
        if (value == null || value.isBlank()) {
            problems.add(field + " is required");
        }
    }
}
