package dev.flinkslm.models;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.flinkslm.models.internal.Providers;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One model version loaded into ONNX Runtime, with its tokenizer: texts in, label probabilities out.
 *
 * <pre>{@code
 * try (ScoringSession session = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
 *     List<Prediction> out = session.scoreTexts(List.of("wire 9,500 again tomorrow", "lunch"));
 * }
 * }</pre>
 *
 * <p>Opening verifies the graph against the manifest (input and output names, element types and
 * ranks, label count) and runs a warm-up batch, so a session that opens can score. Batches are
 * padded to their longest text; input tensors are built on reused, native-order direct buffers.
 *
 * <p>Threading: {@link #encode} and {@link #score} may be called from many threads at once.
 * {@link #close()} never frees native memory under a running batch: it waits for the last
 * in-flight call to return and closes then (ONNX Runtime crashes the JVM when a session is closed
 * during a run). Calls that start after {@code close()} fail with {@link IllegalStateException}.
 * Most code should obtain sessions from {@link SessionCache}, which shares one per JVM.
 */
public final class ScoringSession implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ScoringSession.class);

    private static final List<String> WARM_UP_TEXTS =
            List.of("warm-up", "a second, somewhat longer text used to warm up the session before it serves");

    private final ModelBundle bundle;
    private final ModelManifest manifest;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final TextTokenizer tokenizer;
    private final ExecutionProvider provider;
    private final String fallbackReason;
    private final Set<String> requestedOutputs;
    private final ConcurrentLinkedQueue<Buffers> bufferPool = new ConcurrentLinkedQueue<>();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong texts = new AtomicLong();

    private final Object lifecycle = new Object();
    private int inFlight;
    private boolean closeRequested;
    private boolean closed;

    private ScoringSession(ModelBundle bundle, OrtEnvironment env, OrtSession session, TextTokenizer tokenizer,
            ExecutionProvider provider, String fallbackReason) {
        this.bundle = bundle;
        this.manifest = bundle.manifest();
        this.env = env;
        this.session = session;
        this.tokenizer = tokenizer;
        this.provider = provider;
        this.fallbackReason = fallbackReason;
        this.requestedOutputs = Set.of(manifest.outputs().probabilities());
    }

    /**
     * Creates a session for a verified bundle: selects the provider, loads the graph, checks it
     * against the manifest, loads the tokenizer and runs a warm-up batch.
     */
    public static ScoringSession open(ModelBundle bundle, RuntimeOptions runtime) throws BundleException {
        long start = System.nanoTime();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Providers.Selection selection = Providers.select(runtime);
        OrtSession ort;
        try (OrtSession.SessionOptions options = selection.options()) {
            ort = env.createSession(bundle.modelFile().toString(), options);
        } catch (OrtException | RuntimeException e) {
            throw new BundleException(
                    BundleException.Reason.UNREADABLE_MODEL,
                    "ONNX Runtime cannot load " + bundle.manifest().model() + " of " + bundle + ": " + e.getMessage(),
                    e);
        }
        TextTokenizer tokenizer = null;
        try {
            checkGraph(bundle.manifest(), ort);
            tokenizer = TextTokenizer.load(bundle.tokenizerFile(), bundle.manifest().maxSequenceLength());
            ScoringSession scoring =
                    new ScoringSession(bundle, env, ort, tokenizer, selection.provider(), selection.fallbackReason());
            scoring.warmUp();
            LOG.info("Opened model {}:{} on {} in {} ms", bundle.id(), bundle.version(), selection.provider(),
                    (System.nanoTime() - start) / 1_000_000);
            return scoring;
        } catch (BundleException | RuntimeException e) {
            closeQuietly(ort);
            if (tokenizer != null) {
                tokenizer.close();
            }
            throw e;
        }
    }

    public ModelBundle bundle() {
        return bundle;
    }

    public ModelManifest manifest() {
        return manifest;
    }

    public List<String> labels() {
        return manifest.labels();
    }

    /** The provider that actually runs (CPU when CUDA was requested but fell back). */
    public ExecutionProvider executionProvider() {
        return provider;
    }

    /** Why CUDA was not used although requested, or null. */
    public String fallbackReason() {
        return fallbackReason;
    }

    public long batchesScored() {
        return batches.get();
    }

    public long textsScored() {
        return texts.get();
    }

    /** Tokenizes one text (truncated to the manifest's maximum length). */
    public EncodedText encode(String text) {
        enter();
        try {
            return tokenizer.encode(text);
        } finally {
            exit();
        }
    }

    /** Tokenizes and scores texts as one batch. */
    public List<Prediction> scoreTexts(List<String> batch) throws ScoringException {
        if (batch.isEmpty()) {
            return List.of();
        }
        enter();
        try {
            List<EncodedText> encoded = new ArrayList<>(batch.size());
            for (String text : batch) {
                try {
                    encoded.add(tokenizer.encode(text));
                } catch (IllegalArgumentException e) {
                    throw new ScoringException("a text of the batch cannot be tokenized: " + e.getMessage(), e);
                }
            }
            return run(encoded);
        } finally {
            exit();
        }
    }

    /**
     * Scores pre-tokenized texts as one batch, padded to the longest. Returns one prediction per
     * text, in order.
     */
    public List<Prediction> score(List<EncodedText> batch) throws ScoringException {
        if (batch.isEmpty()) {
            return List.of();
        }
        enter();
        try {
            return run(batch);
        } finally {
            exit();
        }
    }

    private List<Prediction> run(List<EncodedText> batch) throws ScoringException {
        int rows = batch.size();
        int width = 0;
        for (EncodedText t : batch) {
            width = Math.max(width, t.length());
        }
        int cells = rows * width;
        Buffers buffers = borrow(cells);
        try {
            buffers.fill(batch, width);
            long[] shape = {rows, width};
            Map<String, OnnxTensor> inputs = new HashMap<>(4);
            try {
                ModelManifest.Inputs names = manifest.inputs();
                inputs.put(names.inputIds(), OnnxTensor.createTensor(env, buffers.ids, shape));
                inputs.put(names.attentionMask(), OnnxTensor.createTensor(env, buffers.mask, shape));
                if (names.tokenTypeIds() != null) {
                    inputs.put(names.tokenTypeIds(), OnnxTensor.createTensor(env, buffers.types, shape));
                }
                try (OrtSession.Result result = session.run(inputs, requestedOutputs)) {
                    List<Prediction> predictions = decode(result, rows);
                    batches.incrementAndGet();
                    texts.addAndGet(rows);
                    return predictions;
                }
            } finally {
                for (OnnxTensor t : inputs.values()) {
                    t.close();
                }
            }
        } catch (OrtException e) {
            throw new ScoringException("inference failed for a batch of " + rows + " texts on " + provider + ": "
                    + e.getMessage(), e);
        } finally {
            bufferPool.offer(buffers);
        }
    }

    private List<Prediction> decode(OrtSession.Result result, int rows) throws OrtException, ScoringException {
        OnnxValue value = result.get(manifest.outputs().probabilities())
                .orElseThrow(() -> new ScoringException("output " + manifest.outputs().probabilities() + " missing"));
        OnnxTensor tensor = (OnnxTensor) value;
        long[] shape = tensor.getInfo().getShape();
        int labels = manifest.labelCount();
        if (shape.length != 2 || shape[0] != rows || shape[1] != labels) {
            throw new ScoringException("output " + manifest.outputs().probabilities() + " has shape "
                    + java.util.Arrays.toString(shape) + ", expected [" + rows + ", " + labels + "]");
        }
        FloatBuffer probs = tensor.getFloatBuffer();
        List<Prediction> out = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            float[] row = new float[labels];
            probs.get(row);
            int best = 0;
            for (int c = 1; c < labels; c++) {
                if (row[c] > row[best]) {
                    best = c;
                }
            }
            out.add(new Prediction(best, manifest.labels().get(best), row[best], row));
        }
        return out;
    }

    private Buffers borrow(int cells) {
        Buffers b = bufferPool.poll();
        if (b == null || b.capacity < cells) {
            // Grow in powers of two so a varying batch shape settles on a few allocations.
            b = new Buffers(Integer.highestOneBit(Math.max(cells, 256) - 1) << 1);
        }
        return b;
    }

    private void warmUp() throws BundleException {
        List<Prediction> predictions;
        try {
            predictions = scoreTexts(WARM_UP_TEXTS);
        } catch (ScoringException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            BundleException.Reason reason = e.getMessage() != null && e.getMessage().contains("has shape")
                    ? BundleException.Reason.LABEL_COUNT_MISMATCH
                    : BundleException.Reason.INPUT_OUTPUT_MISMATCH;
            throw new BundleException(reason, "warm-up batch failed for " + bundle + ": " + e.getMessage(), cause);
        }
        for (Prediction p : predictions) {
            float sum = 0;
            for (float v : p.probabilities()) {
                if (!(v >= -1e-4f && v <= 1.0001f)) {
                    sum = Float.NaN;
                    break;
                }
                sum += v;
            }
            if (!(Math.abs(sum - 1f) < 1e-3f)) {
                throw new BundleException(BundleException.Reason.INPUT_OUTPUT_MISMATCH,
                        "output " + manifest.outputs().probabilities() + " of " + bundle
                                + " is not a probability distribution (rows must be in [0,1] and sum to 1);"
                                + " end the graph with a Softmax");
            }
        }
    }

    private static void checkGraph(ModelManifest manifest, OrtSession ort) throws BundleException {
        Map<String, NodeInfo> inputs;
        Map<String, NodeInfo> outputs;
        try {
            inputs = ort.getInputInfo();
            outputs = ort.getOutputInfo();
        } catch (OrtException e) {
            throw new BundleException(BundleException.Reason.UNREADABLE_MODEL, "cannot read graph metadata", e);
        }
        ModelManifest.Inputs in = manifest.inputs();
        List<String> declared = new ArrayList<>(List.of(in.inputIds(), in.attentionMask()));
        if (in.tokenTypeIds() != null) {
            declared.add(in.tokenTypeIds());
        }
        for (String name : declared) {
            requireTensor(inputs, name, "input", OnnxJavaType.INT64);
        }
        for (String name : inputs.keySet()) {
            if (!declared.contains(name)) {
                throw new BundleException(BundleException.Reason.INPUT_OUTPUT_MISMATCH,
                        "graph input '" + name + "' is not declared in the manifest inputs " + declared
                                + "; declare it (for example as tokenTypeIds) or remove it from the graph");
            }
        }
        TensorInfo probs = requireTensor(outputs, manifest.outputs().probabilities(), "output", OnnxJavaType.FLOAT);
        long width = probs.getShape()[1];
        if (width > 0 && width != manifest.labelCount()) {
            throw new BundleException(BundleException.Reason.LABEL_COUNT_MISMATCH,
                    "manifest lists " + manifest.labelCount() + " labels but output '"
                            + manifest.outputs().probabilities() + "' has width " + width);
        }
        if (manifest.outputs().embedding() != null) {
            requireTensor(outputs, manifest.outputs().embedding(), "output", OnnxJavaType.FLOAT);
        }
    }

    private static TensorInfo requireTensor(Map<String, NodeInfo> nodes, String name, String kind, OnnxJavaType type)
            throws BundleException {
        NodeInfo node = nodes.get(name);
        if (node == null) {
            throw new BundleException(BundleException.Reason.INPUT_OUTPUT_MISMATCH,
                    "graph has no " + kind + " named '" + name + "' (it has " + nodes.keySet()
                            + "); fix the names in manifest.json");
        }
        if (!(node.getInfo() instanceof TensorInfo info) || info.type != type || info.getShape().length != 2) {
            throw new BundleException(BundleException.Reason.INPUT_OUTPUT_MISMATCH,
                    kind + " '" + name + "' must be a rank-2 " + type + " tensor [batch, ...] but is " + node.getInfo());
        }
        return info;
    }

    private void enter() {
        synchronized (lifecycle) {
            if (closeRequested) {
                throw new IllegalStateException("session " + bundle.id() + ":" + bundle.version() + " is closed");
            }
            inFlight++;
        }
    }

    private void exit() {
        boolean closeNow;
        synchronized (lifecycle) {
            inFlight--;
            closeNow = closeRequested && inFlight == 0 && !closed;
            if (closeNow) {
                closed = true;
            }
        }
        if (closeNow) {
            release();
        }
    }

    /** Calls running right now. */
    public int inFlight() {
        synchronized (lifecycle) {
            return inFlight;
        }
    }

    /** Whether native resources have been released. */
    public boolean isClosed() {
        synchronized (lifecycle) {
            return closed;
        }
    }

    /** Refuses new calls and releases native resources once the last in-flight call returns. */
    @Override
    public void close() {
        boolean closeNow;
        synchronized (lifecycle) {
            if (closeRequested) {
                return;
            }
            closeRequested = true;
            closeNow = inFlight == 0;
            if (closeNow) {
                closed = true;
            }
        }
        if (closeNow) {
            release();
        }
    }

    private void release() {
        closeQuietly(session);
        tokenizer.close();
        bufferPool.clear();
        LOG.info("Closed model {}:{} after {} batches", bundle.id(), bundle.version(), batches.get());
    }

    private static void closeQuietly(OrtSession s) {
        try {
            s.close();
        } catch (OrtException e) {
            LOG.warn("Closing an ONNX Runtime session failed", e);
        }
    }

    /** Direct, native-order input buffers for one batch, reused across batches. */
    private static final class Buffers {
        final int capacity;
        final LongBuffer ids;
        final LongBuffer mask;
        final LongBuffer types;

        Buffers(int capacity) {
            this.capacity = capacity;
            this.ids = direct(capacity);
            this.mask = direct(capacity);
            this.types = direct(capacity);
        }

        private static LongBuffer direct(int capacity) {
            return ByteBuffer.allocateDirect(capacity * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
        }

        void fill(List<EncodedText> batch, int width) {
            ids.clear();
            mask.clear();
            types.clear();
            for (EncodedText t : batch) {
                int n = t.length();
                ids.put(t.ids());
                types.put(t.typeIds());
                for (int i = 0; i < n; i++) {
                    mask.put(1L);
                }
                for (int i = n; i < width; i++) {
                    ids.put(0L);
                    types.put(0L);
                    mask.put(0L);
                }
            }
            ids.flip();
            mask.flip();
            types.flip();
        }
    }
}
