package dev.flinkslm.models.compliance.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A linear softmax classifier over L2-normalised sentence embeddings: {@code p = softmax(W x + b)}.
 *
 * <p>{@code weights[k]} is the weight row of label {@code k}. Any input standardisation used during
 * training is already folded into {@code W} and {@code b}, so the head applies directly to the
 * normalised embedding, exactly as the fused ONNX graph does. Immutable and thread-safe.
 *
 * @param labels label names in output order
 * @param weights [labels][dim]
 * @param bias [labels]
 * @param info free-form provenance (hyper-parameters, corpus hash, measured scores)
 * @param golden held-out examples (text, label) the fused model must classify correctly
 */
public record SoftmaxHead(
        List<String> labels, float[][] weights, float[] bias, Map<String, String> info, List<LabeledText> golden) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public int dim() {
        return weights[0].length;
    }

    /** Logits {@code W x + b} of one embedding (computed in double). */
    public double[] logits(float[] x) {
        int k = labels.size();
        double[] z = new double[k];
        for (int c = 0; c < k; c++) {
            double s = bias[c];
            float[] w = weights[c];
            for (int d = 0; d < x.length; d++) {
                s += (double) w[d] * x[d];
            }
            z[c] = s;
        }
        return z;
    }

    /** Class probabilities for one embedding (computed in double). */
    public double[] probabilities(float[] x) {
        return softmax(logits(x), 1);
    }

    /** {@code softmax(z / temperature)}, max-subtracted; {@code z} is left unchanged. */
    public static double[] softmax(double[] logits, double temperature) {
        int k = logits.length;
        double[] z = new double[k];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < k; c++) {
            z[c] = logits[c] / temperature;
            max = Math.max(max, z[c]);
        }
        double sum = 0;
        for (int c = 0; c < k; c++) {
            z[c] = Math.exp(z[c] - max);
            sum += z[c];
        }
        for (int c = 0; c < k; c++) {
            z[c] /= sum;
        }
        return z;
    }

    /** Index of the most probable label. */
    public int predict(float[] x) {
        return argmax(probabilities(x));
    }

    /** Index of the largest value; the first one wins ties (training-time accuracy only). */
    public static int argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * The head whose logits are this head's divided by {@code temperature} (weights and bias scaled), so that
     * the fused graph's softmax outputs the calibrated probabilities.
     */
    public SoftmaxHead withTemperature(double temperature) {
        if (!(temperature > 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a positive number, not " + temperature);
        }
        float[][] w = new float[weights.length][];
        float[] b = new float[bias.length];
        for (int c = 0; c < weights.length; c++) {
            w[c] = new float[weights[c].length];
            for (int d = 0; d < w[c].length; d++) {
                w[c][d] = (float) (weights[c][d] / temperature);
            }
            b[c] = (float) (bias[c] / temperature);
        }
        return new SoftmaxHead(labels, w, b, info, golden);
    }

    /** Copy with other provenance/golden data (weights unchanged). */
    public SoftmaxHead with(Map<String, String> newInfo, List<LabeledText> newGolden) {
        return new SoftmaxHead(labels, weights, bias, newInfo, newGolden);
    }

    /** Serialises to JSON; floats are written with {@link Float#toString} so they read back bit-exactly. */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", "flink-slm-softmax-head/1");
        ArrayNode l = root.putArray("labels");
        labels.forEach(l::add);
        root.put("dim", dim());
        ObjectNode i = root.putObject("info");
        info.forEach(i::put);
        ArrayNode b = root.putArray("bias");
        for (float v : bias) {
            b.add(v);
        }
        ArrayNode w = root.putArray("weights");
        for (float[] row : weights) {
            ArrayNode r = w.addArray();
            for (float v : row) {
                r.add(v);
            }
        }
        ArrayNode g = root.putArray("golden");
        for (LabeledText t : golden) {
            g.addObject().put("text", t.text()).put("label", t.label());
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses {@link #toJson()} output. */
    public static SoftmaxHead fromJson(String json) {
        try {
            JsonNode root = JSON.readTree(json);
            if (!"flink-slm-softmax-head/1".equals(root.path("format").asText())) {
                throw new IllegalArgumentException("Not a flink-slm softmax head (format field missing or unknown)");
            }
            List<String> labels = new ArrayList<>();
            root.get("labels").forEach(n -> labels.add(n.asText()));
            int dim = root.get("dim").asInt();
            float[] bias = new float[labels.size()];
            float[][] w = new float[labels.size()][dim];
            for (int c = 0; c < labels.size(); c++) {
                bias[c] = (float) root.get("bias").get(c).asDouble();
                JsonNode row = root.get("weights").get(c);
                if (row.size() != dim) {
                    throw new IllegalArgumentException(
                            "Weight row " + c + " has " + row.size() + " values, expected " + dim);
                }
                for (int d = 0; d < dim; d++) {
                    w[c][d] = (float) row.get(d).asDouble();
                }
            }
            Map<String, String> info = new LinkedHashMap<>();
            root.path("info")
                    .fields()
                    .forEachRemaining(e -> info.put(e.getKey(), e.getValue().asText()));
            List<LabeledText> golden = new ArrayList<>();
            root.path("golden")
                    .forEach(n -> golden.add(new LabeledText(
                            n.get("text").asText(), n.get("label").asText(), null)));
            return new SoftmaxHead(List.copyOf(labels), w, bias, info, List.copyOf(golden));
        } catch (IOException e) {
            throw new UncheckedIOException("Malformed head JSON", e);
        }
    }
}
