package dev.flinkslm.models.compliance.internal;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Runs a BERT-style ONNX graph (unfused encoder or fused classifier) on texts, batched.
 *
 * <p>This is the compliance tooling's own scorer (training, evaluation, bundle verification). Streaming
 * jobs use the shared {@code ScoringSession} runtime instead. Thread-safe for concurrent
 * {@link #run} calls; {@link #close()} only after the last run returned.
 */
public final class OrtTextModel implements AutoCloseable {

    /** Default batch size for offline work: large enough to amortise call overhead, small enough for padding. */
    public static final int BATCH = 32;

    private final OrtSession session;
    private final EncoderTokenizer tokenizer;
    private final boolean hasTokenTypes;

    private OrtTextModel(OrtSession session, EncoderTokenizer tokenizer) {
        this.session = session;
        this.tokenizer = tokenizer;
        this.hasTokenTypes = session.getInputNames().contains("token_type_ids");
    }

    /** Opens a graph held in memory; the tokenizer is owned (closed) by this instance. */
    public static OrtTextModel open(byte[] onnx, EncoderTokenizer tokenizer) {
        try {
            return new OrtTextModel(env().createSession(onnx, options()), tokenizer);
        } catch (OrtException e) {
            tokenizer.close();
            throw new IllegalStateException("ONNX Runtime cannot load the model graph: " + e.getMessage(), e);
        }
    }

    /** Opens a graph file; the tokenizer is owned (closed) by this instance. */
    public static OrtTextModel open(Path onnx, EncoderTokenizer tokenizer) {
        try {
            return new OrtTextModel(env().createSession(onnx.toString(), options()), tokenizer);
        } catch (OrtException e) {
            tokenizer.close();
            throw new IllegalStateException("ONNX Runtime cannot load " + onnx + ": " + e.getMessage(), e);
        }
    }

    private static OrtEnvironment env() {
        return OrtEnvironment.getEnvironment();
    }

    private static OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        // Two cores on the build machines; more threads only add contention.
        o.setIntraOpNumThreads(Math.min(2, Runtime.getRuntime().availableProcessors()));
        // Idle workers block instead of spinning. A spinning worker holds a core between ops and while Java
        // tokenizes or pools; on a shared 2-core machine with other load, embedding took 1.5-2x as long with
        // spinning, while on an idle one spinning was only ~10% faster. Results are bit-identical either way.
        o.addConfigEntry("session.intra_op.allow_spinning", "0");
        return o;
    }

    /** Output names of the graph. */
    public Set<String> outputNames() {
        return session.getOutputNames();
    }

    /** Tokenizer used by this model. */
    public EncoderTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Runs one already tokenized batch and returns the requested float outputs, flattened row-major.
     */
    public Map<String, float[]> run(TokenizedBatch b, List<String> outputs) {
        OrtEnvironment env = env();
        long[] shape = {b.batch(), b.seq()};
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(b.inputIds()), shape));
            in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(b.attentionMask()), shape));
            if (hasTokenTypes) {
                in.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(b.tokenTypeIds()), shape));
            }
            try (OrtSession.Result r = session.run(in, Set.copyOf(outputs))) {
                Map<String, float[]> out = new HashMap<>();
                for (String name : outputs) {
                    OnnxValue v = r.get(name)
                            .orElseThrow(() -> new IllegalStateException("Model has no output '" + name + "'"));
                    FloatBuffer fb = ((OnnxTensor) v).getFloatBuffer();
                    float[] a = new float[fb.remaining()];
                    fb.get(a);
                    out.put(name, a);
                }
                return out;
            }
        } catch (OrtException e) {
            throw new IllegalStateException(
                    "ONNX Runtime failed on a batch of " + b.batch() + ": " + e.getMessage(), e);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    /**
     * Runs all texts and returns one row per text for each requested output whose per-text size is
     * {@code width} (e.g. 384 for an embedding, 5 for probabilities). Texts are sorted by token length
     * before batching so that each batch pads little; rows come back in input order.
     */
    public float[][] runAll(List<String> texts, String output, int width) {
        return runAll(texts, output, width, false);
    }

    /**
     * Sentence embeddings of an unfused encoder: masked mean pooling of {@code last_hidden_state}, then L2
     * normalisation, computed in Java, as wide as the graph's hidden size. This is the reference the fused graph
     * is tested against.
     */
    public float[][] embedUnfused(List<String> texts) {
        return runAll(texts, "last_hidden_state", -1, true);
    }

    private float[][] runAll(List<String> texts, String output, int width, boolean pool) {
        int n = texts.size();
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            lengths[i] = tokenizer.length(texts.get(i));
        }
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(
                order, Comparator.comparingInt((Integer i) -> lengths[i]).thenComparingInt(i -> i));
        float[][] rows = new float[n][];
        for (int start = 0; start < n; start += BATCH) {
            int end = Math.min(n, start + BATCH);
            List<String> chunk = new ArrayList<>(end - start);
            for (int k = start; k < end; k++) {
                chunk.add(texts.get(order[k]));
            }
            TokenizedBatch b = tokenizer.encode(chunk);
            float[] flat = run(b, List.of(output)).get(output);
            float[][] part = pool
                    ? meanPoolNormalise(
                            flat, b.attentionMask(), b.batch(), b.seq(), flat.length / (b.batch() * b.seq()))
                    : split(flat, b.batch(), width);
            for (int k = start; k < end; k++) {
                rows[order[k]] = part[k - start];
            }
        }
        return rows;
    }

    private static float[][] split(float[] flat, int n, int width) {
        if (flat.length != n * width) {
            throw new IllegalStateException("Expected " + n + "x" + width + " values, got " + flat.length);
        }
        float[][] rows = new float[n][width];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * width, rows[i], 0, width);
        }
        return rows;
    }

    /** Masked mean over the sequence axis followed by L2 normalisation (both in double for a stable reference). */
    public static float[][] meanPoolNormalise(float[] hidden, long[] mask, int n, int seq, int dim) {
        float[][] out = new float[n][dim];
        double[] acc = new double[dim];
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(acc, 0);
            double count = 0;
            for (int t = 0; t < seq; t++) {
                if (mask[i * seq + t] == 0) {
                    continue;
                }
                count++;
                int base = (i * seq + t) * dim;
                for (int d = 0; d < dim; d++) {
                    acc[d] += hidden[base + d];
                }
            }
            count = Math.max(count, 1e-9);
            double norm = 0;
            for (int d = 0; d < dim; d++) {
                acc[d] /= count;
                norm += acc[d] * acc[d];
            }
            norm = Math.max(Math.sqrt(norm), 1e-12);
            for (int d = 0; d < dim; d++) {
                out[i][d] = (float) (acc[d] / norm);
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("Cannot close ONNX Runtime session", e);
        } finally {
            tokenizer.close();
        }
    }
}
