package dev.flinkslm.models.compliance.internal;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkslm.models.compliance.Precision;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A frozen encoder a head is trained on and fused into: a graph whose output {@code last_hidden_state} is
 * pooled (masked mean, L2 norm), and its {@code tokenizer.json}. Either one of the built-in MiniLM graphs or an
 * encoder-only Hugging Face / Optimum export (a folder with {@code model.onnx} and {@code tokenizer.json}).
 * Immutable.
 *
 * @param name what the model card and manifest call it, e.g. {@code all-MiniLM-L6-v2}
 * @param tag the precision tag appended to bundle versions ({@code int8}, {@code fp32}), or null for one export
 * @param onnx the encoder graph
 * @param tokenizer the tokenizer.json
 * @param tokenTypes whether the graph has a {@code token_type_ids} input
 * @param maxLength tokens per window: {@value EncoderTokenizer#MAX_LENGTH}, or fewer when the export's
 *     {@code config.json} allows fewer ({@code max_position_embeddings})
 */
public record TrainingEncoder(
        String name, String tag, byte[] onnx, byte[] tokenizer, boolean tokenTypes, int maxLength) {

    /** Name of the built-in encoder. */
    public static final String BUILT_IN = "all-MiniLM-L6-v2, layers 5-6 tuned on the compliance corpus";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The built-in MiniLM encoder in both precisions, fp32 (the training reference) first. */
    public static List<TrainingEncoder> builtIn() {
        List<TrainingEncoder> out = new ArrayList<>();
        for (Precision p : List.of(Precision.FP32, Precision.INT8)) {
            out.add(new TrainingEncoder(
                    BUILT_IN,
                    p.tag(),
                    p.encoderGraph(),
                    Resources.read(p.tokenizerResource()),
                    true, // both MiniLM graphs take token_type_ids (FusedGraphTest runs them)
                    EncoderTokenizer.MAX_LENGTH));
        }
        return out;
    }

    /**
     * An encoder-only export: {@code model.onnx} with inputs {@code input_ids}, {@code attention_mask} and output
     * {@code last_hidden_state}, plus {@code tokenizer.json}; {@code config.json}, if present, names it.
     *
     * @throws IllegalArgumentException naming what is missing or of the wrong shape
     */
    public static TrainingEncoder fromExport(Path dir) {
        Path model = dir.resolve("model.onnx");
        Path tokenizer = dir.resolve("tokenizer.json");
        for (Path p : List.of(model, tokenizer)) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("encoder folder " + dir + " has no " + p.getFileName()
                        + "; an encoder-only export holds model.onnx (output last_hidden_state) and tokenizer.json");
            }
        }
        try {
            byte[] onnx = Files.readAllBytes(model);
            boolean tokenTypes = checkGraph(onnx, model);
            String name = dir.getFileName() == null
                    ? dir.toString()
                    : dir.getFileName().toString();
            int maxLength = EncoderTokenizer.MAX_LENGTH;
            Path config = dir.resolve("config.json");
            if (Files.isRegularFile(config)) {
                JsonNode cfg = JSON.readTree(config.toFile());
                String named = cfg.path("_name_or_path").asText("");
                name = named.isBlank() ? name : named;
                int positions = cfg.path("max_position_embeddings").asInt(maxLength);
                if (positions < 8) {
                    throw new IllegalArgumentException(
                            config + ": max_position_embeddings " + positions + " is too small for a text encoder");
                }
                maxLength = Math.min(maxLength, positions);
            }
            return new TrainingEncoder(name, null, onnx, Files.readAllBytes(tokenizer), tokenTypes, maxLength);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the encoder in " + dir, e);
        }
    }

    /** Checks the graph's inputs and outputs; returns whether it has a {@code token_type_ids} input. */
    private static boolean checkGraph(byte[] onnx, Path model) {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                OrtSession s = OrtEnvironment.getEnvironment().createSession(onnx, o)) {
            if (!s.getInputNames().contains("input_ids") || !s.getInputNames().contains("attention_mask")) {
                throw new IllegalArgumentException(
                        model + " has inputs " + s.getInputNames() + "; an encoder needs input_ids and attention_mask");
            }
            Map<String, NodeInfo> outputs = s.getOutputInfo();
            NodeInfo hidden = outputs.get(OnnxHeadFusion.HIDDEN);
            if (hidden == null) {
                throw new IllegalArgumentException(model + " has outputs " + outputs.keySet() + "; an encoder-only"
                        + " export outputs " + OnnxHeadFusion.HIDDEN
                        + (outputs.containsKey("logits")
                                ? " (this one is a classifier already: use model import instead)"
                                : ""));
            }
            if (!(hidden.getInfo() instanceof TensorInfo t) || t.getShape().length != 3) {
                throw new IllegalArgumentException(model + ": " + OnnxHeadFusion.HIDDEN
                        + " must be [batch, sequence, hidden], not " + hidden.getInfo());
            }
            return s.getInputNames().contains("token_type_ids");
        } catch (OrtException e) {
            throw new IllegalArgumentException(model + " cannot be read by ONNX Runtime: " + e.getMessage(), e);
        }
    }

    /** Opens the unfused graph for embedding texts (the caller closes it). */
    public OrtTextModel open() {
        return OrtTextModel.open(onnx, EncoderTokenizer.fromBytes(tokenizer, maxLength));
    }

    /** {@code version} with this encoder's precision tag, e.g. {@code 2.0.0-int8}. */
    public String version(String version) {
        return tag == null ? version : version + "-" + tag;
    }
}
