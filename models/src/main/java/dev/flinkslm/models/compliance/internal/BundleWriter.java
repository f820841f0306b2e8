package dev.flinkslm.models.compliance.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flinkslm.models.compliance.Precision;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes and checks compliance model bundles (manifest.json + model.onnx + tokenizer.json).
 *
 * <p>The manifest is written by hand here until the shared {@code ModelManifest} type lands on main; the
 * field names and order follow the project's manifest format (manifestVersion 1). Stateless.
 */
public final class BundleWriter {

    public static final String ID = "compliance-minilm";
    public static final String BASE_VERSION = "1.0.0";
    public static final String MODEL_FILE = "model.onnx";
    public static final String TOKENIZER_FILE = "tokenizer.json";
    public static final String MANIFEST_FILE = "manifest.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private BundleWriter() {}

    public static String version(Precision p) {
        return BASE_VERSION + "-" + p.tag();
    }

    /** Directory name of a bundle, {@code <id>-<version>}. */
    public static String dirName(Precision p) {
        return ID + "-" + version(p);
    }

    /**
     * Writes a bundle into {@code dir} (created if needed; existing bundle files are overwritten).
     *
     * @param metadata extra string metadata (precision and encoder are added here)
     */
    public static void write(Path dir, Precision p, byte[] fusedModel, byte[] tokenizer, SoftmaxHead head,
                             Map<String, String> metadata) {
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve(MODEL_FILE), fusedModel);
            Files.write(dir.resolve(TOKENIZER_FILE), tokenizer);
            ObjectNode m = JSON.createObjectNode();
            m.put("manifestVersion", 1);
            m.put("id", ID);
            m.put("version", version(p));
            m.put("task", "text-classification");
            m.put("description", "Default compliance screening model: all-MiniLM-L6-v2 encoder (" + p.tag()
                    + ") with a fused softmax head over clear/sanctions/structuring/fraud/market_abuse. "
                    + "A screening aid that ranks text for human review, not a decision maker.");
            ArrayNode labels = m.putArray("labels");
            head.labels().forEach(labels::add);
            m.put("model", MODEL_FILE);
            m.put("tokenizer", TOKENIZER_FILE);
            m.put("maxSequenceLength", MiniLmTokenizer.MAX_LENGTH);
            ObjectNode in = m.putObject("inputs");
            in.put("inputIds", "input_ids");
            in.put("attentionMask", "attention_mask");
            in.put("tokenTypeIds", "token_type_ids");
            ObjectNode out = m.putObject("outputs");
            out.put("probabilities", OnnxHeadFusion.PROBABILITIES);
            out.put("embedding", OnnxHeadFusion.EMBEDDING);
            ObjectNode sha = m.putObject("sha256");
            sha.put(MODEL_FILE, Sha256.of(fusedModel));
            sha.put(TOKENIZER_FILE, Sha256.of(tokenizer));
            ArrayNode golden = m.putArray("golden");
            for (LabeledText g : head.golden()) {
                golden.addObject().put("text", g.text()).put("label", g.label());
            }
            ObjectNode meta = m.putObject("metadata");
            meta.put("precision", p.tag());
            meta.put("encoder", "all-MiniLM-L6-v2");
            metadata.forEach(meta::put);
            Files.writeString(dir.resolve(MANIFEST_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write bundle to " + dir, e);
        }
    }

    /** Reads a manifest; errors say which file is broken. */
    public static JsonNode readManifest(Path dir) {
        Path f = dir.resolve(MANIFEST_FILE);
        try {
            return JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read bundle manifest " + f + ": " + e.getMessage(), e);
        }
    }

    /**
     * True if {@code dir} holds a complete bundle whose files match the manifest checksums and whose
     * metadata entry {@code key} equals {@code expected} (used to tie a cached bundle to the head it was built from).
     */
    public static boolean isIntact(Path dir, String key, String expected) {
        if (!Files.isRegularFile(dir.resolve(MANIFEST_FILE))) {
            return false;
        }
        try {
            JsonNode m = readManifest(dir);
            if (expected != null && !expected.equals(m.path("metadata").path(key).asText(null))) {
                return false;
            }
            JsonNode sha = m.path("sha256");
            if (!sha.has(m.path("model").asText()) || !sha.has(m.path("tokenizer").asText())) {
                return false;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = sha.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                Path f = dir.resolve(e.getKey());
                if (!Files.isRegularFile(f) || !Sha256.of(f).equalsIgnoreCase(e.getValue().asText())) {
                    return false;
                }
            }
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Golden examples of a manifest. */
    public static List<LabeledText> golden(JsonNode manifest) {
        java.util.ArrayList<LabeledText> g = new java.util.ArrayList<>();
        manifest.path("golden").forEach(n -> g.add(new LabeledText(n.get("text").asText(), n.get("label").asText(), null)));
        return g;
    }
}
