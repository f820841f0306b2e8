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
 * A softmax classifier over L2-normalised sentence embeddings: linear, {@code p = softmax(W x + b)}, or with one
 * hidden ReLU layer, {@code p = softmax(W relu(W1 x + b1) + b)}.
 *
 * <p>{@code weights[k]} is the weight row of label {@code k}. Any input standardisation used during
 * training is already folded into {@code W} and {@code b}, so the head applies directly to the
 * normalised embedding, exactly as the fused ONNX graph does. Immutable and thread-safe.
 *
 * @param labels label names in output order
 * @param weights [labels][dim], or [labels][hidden units] with a hidden layer
 * @param bias [labels]
 * @param hidden the hidden layer, or null for a linear head
 * @param info free-form provenance (hyper-parameters, corpus hash, measured scores)
 * @param golden held-out examples (text, label) the fused model must classify correctly
 */
public record SoftmaxHead(
        List<String> labels,
        float[][] weights,
        float[] bias,
        Hidden hidden,
        Map<String, String> info,
        List<LabeledText> golden) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A hidden ReLU layer {@code relu(W1 x + b1)}.
     *
     * @param weights [units][dim]
     * @param bias [units]
     */
    public record Hidden(float[][] weights, float[] bias) {}

    /** A linear head. */
    public SoftmaxHead(
            List<String> labels, float[][] weights, float[] bias, Map<String, String> info, List<LabeledText> golden) {
        this(labels, weights, bias, null, info, golden);
    }

    /** Width of the embedding the head reads. */
    public int dim() {
        return hidden != null ? hidden.weights()[0].length : weights[0].length;
    }

    /** Logits of one embedding (computed in double). */
    public double[] logits(float[] x) {
        float[] in = x;
        if (hidden != null) {
            in = new float[hidden.bias().length];
            for (int u = 0; u < in.length; u++) {
                double a = hidden.bias()[u];
                float[] w = hidden.weights()[u];
                for (int d = 0; d < x.length; d++) {
                    a += (double) w[d] * x[d];
                }
                in[u] = a > 0 ? (float) a : 0f;
            }
        }
        int k = labels.size();
        double[] z = new double[k];
        for (int c = 0; c < k; c++) {
            double s = bias[c];
            float[] w = weights[c];
            for (int d = 0; d < in.length; d++) {
                s += (double) w[d] * in[d];
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
        return new SoftmaxHead(labels, w, b, hidden, info, golden);
    }

    /** The head whose output logits are this head's plus {@code offsets[c]} (added to the output bias). */
    public SoftmaxHead withLogitOffsets(double[] offsets) {
        float[] b = new float[bias.length];
        for (int c = 0; c < b.length; c++) {
            b[c] = (float) (bias[c] + offsets[c]);
        }
        return new SoftmaxHead(labels, weights, b, hidden, info, golden);
    }

    /** Copy with other provenance/golden data (weights unchanged). */
    public SoftmaxHead with(Map<String, String> newInfo, List<LabeledText> newGolden) {
        return new SoftmaxHead(labels, weights, bias, hidden, newInfo, newGolden);
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
        if (hidden != null) {
            ObjectNode hn = root.putObject("hidden");
            ArrayNode hb = hn.putArray("bias");
            for (float v : hidden.bias()) {
                hb.add(v);
            }
            ArrayNode hw = hn.putArray("weights");
            for (float[] row : hidden.weights()) {
                ArrayNode r = hw.addArray();
                for (float v : row) {
                    r.add(v);
                }
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
            Hidden hidden = null;
            JsonNode hn = root.get("hidden");
            if (hn != null) {
                int units = hn.get("bias").size();
                hidden = new Hidden(matrix(hn.get("weights"), units, dim, "hidden weight"), vector(hn.get("bias")));
            }
            int width = hidden == null ? dim : hidden.bias().length;
            float[] bias = vector(root.get("bias"));
            float[][] w = matrix(root.get("weights"), labels.size(), width, "weight");
            Map<String, String> info = new LinkedHashMap<>();
            root.path("info")
                    .fields()
                    .forEachRemaining(e -> info.put(e.getKey(), e.getValue().asText()));
            List<LabeledText> golden = new ArrayList<>();
            root.path("golden")
                    .forEach(n -> golden.add(new LabeledText(
                            n.get("text").asText(), n.get("label").asText(), null)));
            return new SoftmaxHead(List.copyOf(labels), w, bias, hidden, info, List.copyOf(golden));
        } catch (IOException e) {
            throw new UncheckedIOException("Malformed head JSON", e);
        }
    }

    private static float[] vector(JsonNode a) {
        float[] v = new float[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) a.get(i).asDouble();
        }
        return v;
    }

    private static float[][] matrix(JsonNode a, int rows, int cols, String what) {
        if (a.size() != rows) {
            throw new IllegalArgumentException(what + " matrix has " + a.size() + " rows, expected " + rows);
        }
        float[][] m = new float[rows][];
        for (int r = 0; r < rows; r++) {
            if (a.get(r).size() != cols) {
                throw new IllegalArgumentException(
                        what + " row " + r + " has " + a.get(r).size() + " values, expected " + cols);
            }
            m[r] = vector(a.get(r));
        }
        return m;
    }
}
