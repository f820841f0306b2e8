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
import java.util.Arrays;
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
 * <p>Opening creates the ONNX Runtime session and the tokenizer from the bundle's verified bytes,
 * checks the graph against the manifest (input and output names, element types and ranks, label
 * count) and runs a warm-up batch of a short, a medium and a full-length text, so a session that
 * opens can score. Batches are padded to their longest sequence; input tensors are built on
 * reused, native-order direct buffers.
 *
 * <p>Fail closed: every output row is checked before a prediction is made from it (finite, each
 * value in [0, 1] within 1e-4, the row summing to 1 within 1e-3, one column per label, one row per
 * sequence). A batch with an invalid row fails whole with {@link ScoringException.Kind#OUTPUT_INVALID};
 * there is no default label.
 *
 * <p>Long texts: {@link #encode(String, WindowOptions)} splits a text into overlapping windows of
 * at most {@code maxSequenceLength} tokens, {@link #score} scores windows like any sequences, and
 * {@link #combine} turns the window predictions of one text into the text's prediction.
 *
 * <pre>{@code
 * EncodedInput input = session.encode(text, WindowOptions.defaults());
 * Prediction whole = session.combine(session.score(input.windows()));
 * if (input.truncated()) { ... the tail was not screened: route to review ... }
 * }</pre>
 *
 * <p>Threading: {@link #encode} and {@link #score} may be called from many threads at once.
 * {@link #close()} never frees native memory under a running batch: it waits for the last
 * in-flight call to return and closes then (ONNX Runtime crashes the JVM when a session is closed
 * during a run). Calls that start after {@code close()} fail with {@link IllegalStateException}.
 * {@link #combine} only reads the manifest and may be called from any thread at any time. Most code
 * should obtain sessions from {@link SessionCache}, which shares one per JVM.
 */
public final class ScoringSession implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ScoringSession.class);

    /** Length in words of the mid-length warm-up text: just over the 32 tokens most traffic stays under. */
    private static final int LONG_WARM_UP_TOKENS = 40;

    private static final String[] WARM_UP_WORDS = {
        "the", "payment", "was", "sent", "to", "an", "account", "at", "a", "bank", "in", "another", "country", "and",
        "the", "client", "asked", "for", "a", "review", "of", "it"
    };

    private final ModelBundle bundle;
    private final ModelManifest manifest;
    /** Per-label thresholds of a multi-label model in label order, or null. */
    private final float[] thresholds;

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
    /** During warm-up: rows of a logits output seen, and how many of them were already distributions. */
    private final AtomicLong warmUpLogitRows = new AtomicLong(-1);

    private final AtomicLong warmUpDistributionRows = new AtomicLong();

    private boolean closeRequested;
    private boolean closed;

    private ScoringSession(
            ModelBundle bundle,
            OrtEnvironment env,
            OrtSession session,
            TextTokenizer tokenizer,
            ExecutionProvider provider,
            String fallbackReason) {
        this.bundle = bundle;
        this.manifest = bundle.manifest();
        this.thresholds = manifest.thresholdsInLabelOrder();
        this.env = env;
        this.session = session;
        this.tokenizer = tokenizer;
        this.provider = provider;
        this.fallbackReason = fallbackReason;
        this.requestedOutputs = Set.of(manifest.outputs().scoreOutput());
    }

    /**
     * Creates a session for a verified bundle: selects the provider, creates the ONNX Runtime
     * session and the tokenizer from the bundle's verified bytes (never from its paths), checks the
     * graph against the manifest and runs a warm-up batch whose every output row must be a valid
     * probability distribution.
     *
     * @throws BundleException when the bundle cannot run; {@code CHECKSUM_MISMATCH} when its
     *     verified bytes were already used and the files changed since
     */
    public static ScoringSession open(ModelBundle bundle, RuntimeOptions runtime) throws BundleException {
        long start = System.nanoTime();
        ModelManifest manifest = bundle.manifest();
        Map<String, byte[]> files = bundle.takeVerifiedFiles();
        byte[] model = files.get(manifest.model());
        byte[] tokenizerJson = files.get(manifest.tokenizer());
        // Only the two arrays below stay referenced, and the graph only until ONNX Runtime has copied it.
        files = null;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Providers.Selection selection = Providers.select(runtime);
        OrtSession ort;
        try (OrtSession.SessionOptions options = selection.options()) {
            ort = env.createSession(model, options);
        } catch (OrtException | RuntimeException e) {
            throw new BundleException(
                    BundleException.Reason.UNREADABLE_MODEL,
                    "ONNX Runtime cannot load " + manifest.model() + " of " + bundle + ": " + e.getMessage(),
                    e);
        }
        model = null;
        TextTokenizer tokenizer = null;
        try {
            checkGraph(manifest, ort);
            tokenizer = TextTokenizer.load(tokenizerJson, manifest.tokenizer(), manifest.maxSequenceLength());
            ScoringSession scoring =
                    new ScoringSession(bundle, env, ort, tokenizer, selection.provider(), selection.fallbackReason());
            scoring.warmUp();
            LOG.info(
                    "Opened model {}:{} on {} in {} ms",
                    bundle.id(),
                    bundle.version(),
                    selection.provider(),
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

    /** Sequences scored: texts, or windows of texts, each counts once. */
    public long textsScored() {
        return texts.get();
    }

    /**
     * Tokenizes the first window of one text (at most the manifest's maximum length). A longer text
     * is cut: use {@link #encode(String, WindowOptions)} to screen it whole.
     *
     * @throws IllegalArgumentException when the text cannot be tokenized
     */
    public EncodedText encode(String text) {
        enter();
        try {
            return tokenizer.encode(text);
        } finally {
            exit();
        }
    }

    /**
     * Tokenizes one text into windows of at most the manifest's maximum length that overlap by
     * {@code options.stride()} tokens; see {@link EncodedInput}.
     *
     * @throws IllegalArgumentException when the text cannot be tokenized, or the stride does not fit
     *     this model's window (see {@link WindowOptions#requireFits})
     */
    public EncodedInput encode(String text, WindowOptions options) {
        enter();
        try {
            return tokenizer.encode(text, options);
        } finally {
            exit();
        }
    }

    /** The window options {@link #scoreTexts} uses: {@link WindowOptions#defaultsFor} this model's maximum length. */
    public WindowOptions defaultWindowOptions() {
        return WindowOptions.defaultsFor(manifest.maxSequenceLength());
    }

    /**
     * Aggregates the predictions of the windows of one text into the prediction for the text.
     *
     * <p>Rule: per label, the highest probability over the windows, except the manifest's
     * {@link ModelManifest#negativeLabel() negativeLabel} (the label that means "nothing found"),
     * which gets the lowest: a text is clear only as far as its least clear window, and a finding
     * in any window is a finding for the text. The top label is the argmax of the aggregated vector
     * (the negative label loses ties). A single prediction combines to itself. The aggregated
     * probabilities of a multi-window text are per-label scores and no longer sum to 1.
     *
     * @param windowPredictions the predictions of every window of one text, as returned by {@link #score}
     * @throws IllegalArgumentException when the list is empty, or a prediction has the wrong width or
     *     is not a probability distribution (a single prediction is returned as it is)
     */
    public Prediction combine(List<Prediction> windowPredictions) {
        if (windowPredictions == null || windowPredictions.isEmpty()) {
            throw new IllegalArgumentException("combine needs the prediction of at least one window");
        }
        if (windowPredictions.size() == 1) {
            return windowPredictions.get(0);
        }
        int labels = manifest.labelCount();
        int negative = manifest.negativeLabelIndex();
        float[] combined = null;
        for (Prediction p : windowPredictions) {
            float[] row = p.probabilities();
            if (row == null || row.length != labels) {
                throw new IllegalArgumentException("a window prediction has " + (row == null ? 0 : row.length)
                        + " probabilities but " + bundle.id() + ":" + bundle.version() + " has " + labels + " labels");
            }
            String problem = manifest.outputs().multiLabel() ? OutputCheck.scoreProblem(row) : OutputCheck.problem(row);
            if (problem != null) {
                // score() never returns such a row; a caller combining anything else must not get a label from it
                throw new IllegalArgumentException("a window prediction is not a row of valid scores: " + problem);
            }
            if (combined == null) {
                combined = row.clone();
                continue;
            }
            for (int c = 0; c < labels; c++) {
                combined[c] = c == negative ? Math.min(combined[c], row[c]) : Math.max(combined[c], row[c]);
            }
        }
        return prediction(combined);
    }

    /**
     * Tokenizes and scores texts as one batch, each text whole: a long text is split into windows
     * ({@link #defaultWindowOptions()}) and its window predictions are {@linkplain #combine combined}.
     * Returns one prediction per text, in order. A text needing more windows than allowed is scored
     * on its first windows only; callers that must know use {@link #encode(String, WindowOptions)}.
     */
    public List<Prediction> scoreTexts(List<String> batch) throws ScoringException {
        return scoreTexts(batch, defaultWindowOptions());
    }

    /** {@link #scoreTexts(List)} with explicit window options. */
    public List<Prediction> scoreTexts(List<String> batch, WindowOptions options) throws ScoringException {
        if (batch.isEmpty()) {
            return List.of();
        }
        enter();
        try {
            List<EncodedInput> inputs = new ArrayList<>(batch.size());
            List<EncodedText> windows = new ArrayList<>(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                EncodedInput input;
                try {
                    input = tokenizer.encode(batch.get(i), options);
                } catch (IllegalArgumentException e) {
                    throw new ScoringException("text " + i + " of the batch cannot be tokenized: " + e.getMessage(), e);
                }
                inputs.add(input);
                windows.addAll(input.windows());
            }
            List<Prediction> perWindow = run(windows);
            List<Prediction> out = new ArrayList<>(batch.size());
            int next = 0;
            for (EncodedInput input : inputs) {
                out.add(combine(perWindow.subList(next, next + input.windowCount())));
                next += input.windowCount();
            }
            return out;
        } finally {
            exit();
        }
    }

    /**
     * Scores pre-tokenized sequences (texts or windows of texts) as one batch, padded to the longest.
     * Returns one prediction per sequence, in order. Every output row is validated first
     * ({@link ScoringException.Kind#OUTPUT_INVALID} when one is not a probability distribution over
     * the labels); no prediction of a batch with an invalid row is returned.
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
            throw new ScoringException(
                    "inference failed for a batch of " + rows + " texts on " + provider + ": " + e.getMessage(), e);
        } finally {
            bufferPool.offer(buffers);
        }
    }

    private List<Prediction> decode(OrtSession.Result result, int rows) throws ScoringException {
        String name = manifest.outputs().scoreOutput();
        boolean logits = manifest.outputs().readsLogits();
        boolean multiLabel = manifest.outputs().multiLabel();
        OnnxValue value = result.get(name)
                .orElseThrow(() -> new ScoringException(
                        ScoringException.Kind.OUTPUT_INVALID,
                        "output '" + name + "' is missing from the model's result"));
        if (!(value instanceof OnnxTensor tensor) || tensor.getInfo().type != OnnxJavaType.FLOAT) {
            throw new ScoringException(
                    ScoringException.Kind.OUTPUT_INVALID,
                    "output '" + name + "' is not a FLOAT tensor but " + value.getInfo());
        }
        long[] shape = tensor.getInfo().getShape();
        int columns = manifest.scoreColumns();
        if (shape.length != 2 || shape[0] != rows || shape[1] != columns) {
            throw new OutputShapeException("output '" + name + "' has shape " + Arrays.toString(shape) + ", expected ["
                    + rows + ", " + columns + "] (one row per sequence, one column per "
                    + (multiLabel ? "label but the negative label" : "label") + ")");
        }
        FloatBuffer probs = tensor.getFloatBuffer();
        if (probs == null || probs.remaining() != rows * columns) {
            throw new OutputShapeException("output '" + name + "' holds " + (probs == null ? 0 : probs.remaining())
                    + " values, expected " + rows * columns);
        }
        int labels = manifest.labelCount();
        float[][] matrix = new float[rows][labels];
        float[] raw = multiLabel ? new float[columns] : null;
        for (int r = 0; r < rows; r++) {
            String problem;
            if (multiLabel) {
                probs.get(raw);
                countWarmUpRow(OutputCheck.scoreProblem(raw) == null);
                problem = sigmoidInto(raw, matrix[r], manifest.negativeLabelIndex());
            } else {
                probs.get(matrix[r]);
                if (logits) {
                    countWarmUpRow(OutputCheck.problem(matrix[r]) == null);
                }
                problem = logits ? softmaxInPlace(matrix[r]) : null;
            }
            if (problem == null) {
                problem = multiLabel ? OutputCheck.scoreProblem(matrix[r]) : OutputCheck.problem(matrix[r]);
            }
            if (problem != null) {
                throw new ScoringException(
                        ScoringException.Kind.OUTPUT_INVALID,
                        "row " + r + " of " + rows + " of output '" + name + "' of " + bundle.id() + ":"
                                + bundle.version() + (logits ? " (logits)" : "")
                                + (multiLabel
                                        ? " is not a row of label scores: "
                                        : " is not a probability distribution: ")
                                + problem);
            }
            OutputCheck.clamp(matrix[r]);
        }
        List<Prediction> out = new ArrayList<>(rows);
        for (float[] row : matrix) {
            out.add(prediction(row));
        }
        return out;
    }

    /** During warm-up, counts a row of the logits output and whether it already looked activated. */
    private void countWarmUpRow(boolean alreadyActivated) {
        if (warmUpLogitRows.get() >= 0) {
            warmUpLogitRows.incrementAndGet();
            if (alreadyActivated) {
                warmUpDistributionRows.incrementAndGet();
            }
        }
    }

    /**
     * Writes the sigmoid of each multi-label logit into {@code row}, skipping the negative label's index, whose
     * score becomes 1 minus the highest other score; returns the problem when a logit is not a finite number.
     */
    static String sigmoidInto(float[] logits, float[] row, int negative) {
        float max = 0;
        for (int j = 0; j < logits.length; j++) {
            if (!Float.isFinite(logits[j])) {
                return "logit " + j + " is " + logits[j];
            }
            float p = (float) (1.0 / (1.0 + Math.exp(-(double) logits[j])));
            row[j < negative ? j : j + 1] = p;
            max = Math.max(max, p);
        }
        row[negative] = 1f - max;
        return null;
    }

    /**
     * Turns a row of logits into probabilities in place (max-subtracted, so large logits do not
     * overflow); returns the problem when a logit is not a finite number, and leaves the row then.
     */
    static String softmaxInPlace(float[] row) {
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < row.length; c++) {
            if (!Float.isFinite(row[c])) {
                return "logit " + c + " is " + row[c];
            }
            max = Math.max(max, row[c]);
        }
        double sum = 0;
        for (int c = 0; c < row.length; c++) {
            row[c] = (float) Math.exp((double) row[c] - max); // in (0, 1]; the maximum gives 1
            sum += row[c];
        }
        for (int c = 0; c < row.length; c++) {
            row[c] = (float) (row[c] / sum);
        }
        return null;
    }

    /** The prediction for a (validated or combined) probability vector: its argmax, the negative label losing ties. */
    private Prediction prediction(float[] row) {
        return Prediction.of(row, manifest.labels(), manifest.negativeLabelIndex(), thresholds);
    }

    private Buffers borrow(int cells) {
        Buffers b = bufferPool.poll();
        if (b == null || b.capacity < cells) {
            // Grow in powers of two so a varying batch shape settles on a few allocations.
            b = new Buffers(Integer.highestOneBit(Math.max(cells, 256) - 1) << 1);
        }
        return b;
    }

    /**
     * Scores a short text, a text just over 32 tokens and a text of the model's full length, so that
     * a model whose output is only wrong for longer inputs is rejected here rather than in production.
     */
    private void warmUp() throws BundleException {
        warmUpLogitRows.set(0);
        warmUpDistributionRows.set(0);
        try {
            List<EncodedText> inputs = warmUpInputs();
            // each text alone, so that the graph runs at each text's own width (a model that breaks only
            // for some input lengths is caught here), then together as one padded batch
            for (EncodedText input : inputs) {
                score(List.of(input));
            }
            score(inputs);
            long rows = warmUpLogitRows.getAndSet(-1);
            if (rows > 0 && warmUpDistributionRows.get() == rows) {
                // a softmax over probabilities would flatten every score (and move every threshold)
                throw new BundleException(
                        BundleException.Reason.MODEL_OUTPUT_INVALID,
                        manifest.outputs().multiLabel()
                                ? "every warm-up value of the multi-label logits output '"
                                        + manifest.outputs().scoreOutput() + "' of " + bundle
                                        + " already lies in [0, 1]:"
                                        + " the graph ends in a Sigmoid; export the logits before it"
                                : "every warm-up row of the logits output '"
                                        + manifest.outputs().scoreOutput() + "' of " + bundle
                                        + " is already a probability distribution: the graph ends in a Softmax;"
                                        + " declare the output as outputs.probabilities");
            }
        } catch (OutputShapeException e) {
            throw new BundleException(
                    BundleException.Reason.LABEL_COUNT_MISMATCH,
                    "warm-up batch of " + bundle + ": " + e.getMessage(),
                    e);
        } catch (ScoringException e) {
            if (e.kind() == ScoringException.Kind.OUTPUT_INVALID) {
                throw new BundleException(
                        BundleException.Reason.MODEL_OUTPUT_INVALID,
                        "warm-up batch of " + bundle + ": " + e.getMessage()
                                + (manifest.outputs().readsLogits()
                                        ? "; the logits output must be finite for every input length"
                                        : "; the probabilities output must be a Softmax over the labels for every"
                                                + " input length"),
                        e);
            }
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new BundleException(
                    BundleException.Reason.INPUT_OUTPUT_MISMATCH,
                    "warm-up batch failed for " + bundle + ": " + e.getMessage(),
                    cause);
        } catch (IllegalArgumentException e) {
            throw new BundleException(
                    BundleException.Reason.TOKENIZER_FAILED,
                    "the tokenizer of " + bundle + " cannot tokenize the warm-up texts: " + e.getMessage(),
                    e);
        }
    }

    private List<EncodedText> warmUpInputs() {
        int max = manifest.maxSequenceLength();
        List<EncodedText> inputs = new ArrayList<>(3);
        inputs.add(tokenizer.encode("warm-up"));
        // Words of the tokenizer's common vocabulary; the tokenizer cuts the text at the model's length.
        StringBuilder text = new StringBuilder();
        int words = 0;
        while (words < max) {
            text.append(WARM_UP_WORDS[words % WARM_UP_WORDS.length]).append(' ');
            words++;
            if (words == LONG_WARM_UP_TOKENS) {
                inputs.add(tokenizer.encode(text.toString()));
            }
        }
        inputs.add(tokenizer.encode(text.toString()));
        return inputs;
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
                throw new BundleException(
                        BundleException.Reason.INPUT_OUTPUT_MISMATCH,
                        "graph input '" + name + "' is not declared in the manifest inputs " + declared
                                + "; declare it (for example as tokenTypeIds) or remove it from the graph");
            }
        }
        TensorInfo probs = requireTensor(outputs, manifest.outputs().scoreOutput(), "output", OnnxJavaType.FLOAT);
        long width = probs.getShape()[1];
        if (width > 0 && width != manifest.scoreColumns()) {
            throw new BundleException(
                    BundleException.Reason.LABEL_COUNT_MISMATCH,
                    "manifest lists " + manifest.labelCount() + " labels"
                            + (manifest.outputs().multiLabel()
                                    ? " (a multi-label graph has a column for each but the" + " negative label)"
                                    : "")
                            + " but output '" + manifest.outputs().scoreOutput() + "' has width " + width);
        }
        if (manifest.outputs().embedding() != null) {
            requireTensor(outputs, manifest.outputs().embedding(), "output", OnnxJavaType.FLOAT);
        }
    }

    private static TensorInfo requireTensor(Map<String, NodeInfo> nodes, String name, String kind, OnnxJavaType type)
            throws BundleException {
        NodeInfo node = nodes.get(name);
        if (node == null) {
            throw new BundleException(
                    BundleException.Reason.INPUT_OUTPUT_MISMATCH,
                    "graph has no " + kind + " named '" + name + "' (it has " + nodes.keySet()
                            + "); fix the names in manifest.json");
        }
        if (!(node.getInfo() instanceof TensorInfo info) || info.type != type || info.getShape().length != 2) {
            throw new BundleException(
                    BundleException.Reason.INPUT_OUTPUT_MISMATCH,
                    kind + " '" + name + "' must be a rank-2 " + type + " tensor [batch, ...] but is "
                            + node.getInfo());
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

    /** An output of the wrong shape: the graph's width differs from the label count, or its row count from the batch. */
    private static final class OutputShapeException extends ScoringException {
        private static final long serialVersionUID = 1L;

        OutputShapeException(String message) {
            super(Kind.OUTPUT_INVALID, message);
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
            return ByteBuffer.allocateDirect(capacity * Long.BYTES)
                    .order(ByteOrder.nativeOrder())
                    .asLongBuffer();
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
