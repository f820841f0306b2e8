package dev.flinkslm.operators.internal;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.EncodedText;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.operators.FailurePolicy;
import dev.flinkslm.operators.OutputMode;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.TextExtractor;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.runtime.TupleSerializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamElement;
import org.apache.flink.streaming.runtime.streamrecord.StreamElementSerializer;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Micro-batches elements into ONNX Runtime sessions without giving up Flink's guarantees.
 *
 * <p>Elements are tokenized on arrival and collected into open batches (one per model version and,
 * optionally, token-length bucket). A batch is flushed when full, when adding an element would pass
 * the padded-token cap, when its oldest element has waited {@code maxWait}, or at end of input.
 * Flushed batches run on a bounded executor; their results come back through the mailbox, so state
 * and output are touched only on the task thread. When {@code maxInFlight} batches are running and
 * the queue is full, {@link #processElement} yields to the mailbox: the input is backpressured.
 *
 * <p>At a checkpoint every element not yet emitted (buffered, in flight, or completed but held by
 * ordering) is written to state; on restore they are scored again. Keyed inputs keep them in keyed
 * state so that rescaling sends each one to the subtask that owns its key.
 */
public class ScoringOperator<IN> extends AbstractStreamOperator<Scored<IN>>
        implements OneInputStreamOperator<IN, Scored<IN>>, BoundedOneInput {

    private static final long serialVersionUID = 1L;

    static final String PENDING_STATE = "slm-pending-elements";
    static final String VARIANT_ACTIVE = "active";

    protected final ScoringConfig config;
    private final TextExtractor<IN> textExtractor;
    protected final ModelRef model;
    private final OutputTag<ScoringFailure<IN>> deadLetterTag;
    protected transient MailboxExecutor mailbox;

    private transient TypeSerializer<IN> inSerializer;
    protected transient boolean keyed;
    private transient ListState<Tuple2<Long, StreamElement>> keyedPending;
    private transient ListState<StreamElement> operatorPending;
    private transient Set<Object> keysWrittenAtLastSnapshot;
    private transient List<Tuple2<Object, Tuple2<Long, StreamElement>>> restored;

    private transient ExecutorService executor;
    protected transient BundleLoader loader;
    protected transient ModelSlot fixedSlot;
    private transient OutputQueue<IN> queue;
    private transient Map<BatchKey, Batch<IN>> openBatches;
    private transient Deque<Batch<IN>> readyBatches;
    private transient int inFlight;
    private transient long nextSequence;
    private transient long nextBatchId;
    private transient int capacity;
    protected transient ScoringMetrics metrics;
    protected transient volatile String providerName;
    protected transient volatile String modelVersionName;

    public ScoringOperator(StreamOperatorParameters<Scored<IN>> parameters, ScoringConfig config,
            TextExtractor<IN> textExtractor, ModelRef model, OutputTag<ScoringFailure<IN>> deadLetterTag) {
        super(parameters);
        this.config = config;
        this.textExtractor = textExtractor;
        this.model = model;
        this.deadLetterTag = deadLetterTag;
        this.mailbox = parameters.getMailboxExecutor();
    }

    /** For {@code SimpleOperatorFactory} and test harnesses; the mailbox arrives via {@link #setMailboxExecutor}. */
    public ScoringOperator(ScoringConfig config, TextExtractor<IN> textExtractor, ModelRef model,
            OutputTag<ScoringFailure<IN>> deadLetterTag) {
        this.config = config;
        this.textExtractor = textExtractor;
        this.model = model;
        this.deadLetterTag = deadLetterTag;
    }

    @Override
    public void setMailboxExecutor(MailboxExecutor mailboxExecutor) {
        super.setMailboxExecutor(mailboxExecutor);
        this.mailbox = mailboxExecutor;
    }

    // ------------------------------------------------------------------ lifecycle

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        inSerializer = (TypeSerializer<IN>) getOperatorConfig().getTypeSerializerIn(0, getUserCodeClassloader());
        StreamElementSerializer<IN> elementSerializer = new StreamElementSerializer<>(inSerializer);
        keyed = getKeyedStateBackend() != null;
        keysWrittenAtLastSnapshot = new HashSet<>();
        restored = new ArrayList<>();
        if (keyed) {
            TupleSerializer<Tuple2<Long, StreamElement>> tupleSerializer = new TupleSerializer<>(
                    (Class<Tuple2<Long, StreamElement>>) (Class) Tuple2.class,
                    new TypeSerializer[] {LongSerializer.INSTANCE, elementSerializer});
            keyedPending = getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                    new ListStateDescriptor<>(PENDING_STATE, tupleSerializer));
            List<Object> keys = new ArrayList<>();
            try (var stream = getKeyedStateBackend().getKeys(PENDING_STATE, VoidNamespace.INSTANCE)) {
                stream.forEach(keys::add);
            }
            for (Object key : keys) {
                setCurrentKey(key);
                Iterable<Tuple2<Long, StreamElement>> entries = keyedPending.get();
                if (entries != null) {
                    for (Tuple2<Long, StreamElement> entry : entries) {
                        restored.add(Tuple2.of(key, entry));
                    }
                }
                keyedPending.clear();
            }
        } else {
            operatorPending = context.getOperatorStateStore()
                    .getListState(new ListStateDescriptor<>(PENDING_STATE, elementSerializer));
            long order = 0;
            for (StreamElement element : operatorPending.get()) {
                restored.add(Tuple2.of(null, Tuple2.of(order++, element)));
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        if (mailbox == null) {
            // Created without operator parameters and without setMailboxExecutor (test harnesses).
            mailbox = getContainingTask().getMailboxExecutorFactory().createExecutor(getOperatorConfig().getChainIndex());
        }
        AtomicInteger threadIds = new AtomicInteger();
        String taskName = getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks();
        executor = Executors.newFixedThreadPool(config.maxInFlight(), runnable -> {
            Thread t = new Thread(runnable, "slm-inference-" + threadIds.incrementAndGet() + " " + taskName);
            t.setDaemon(true);
            return t;
        });
        loader = BundleLoader.builder().roots(config.roots()).build();
        queue = OutputQueue.create(config.outputMode() == OutputMode.ORDERED, new Emitter());
        openBatches = new LinkedHashMap<>();
        readyBatches = new ArrayDeque<>();
        capacity = (config.maxInFlight() + 2) * config.maxBatchSize();
        providerName = "none";
        modelVersionName = "none";
        metrics = new ScoringMetrics(getMetricGroup(), () -> inFlight, () -> queue.size(),
                () -> providerName, () -> modelVersionName);
        openModels();
        replayRestored();
    }

    /** Loads the models this operator routes to. The fixed-model operator loads one version here. */
    protected void openModels() throws Exception {
        if (model != null) {
            fixedSlot = acquire(model);
            modelVersionName = fixedSlot.name;
        }
    }

    /** Loads (or shares) a model version. Blocking: call from open() or an inference thread. */
    protected ModelSlot acquire(ModelRef ref) throws BundleException {
        ModelBundle bundle = loader.load(ref);
        SessionCache.Lease lease = SessionCache.shared().acquire(bundle, config.runtime());
        providerName = lease.session().executionProvider().name();
        if (lease.loadedSession()) {
            // One line per actual load in this JVM (slots of a TaskManager share the session).
            LOG.info("slm model-loaded job={} model={}:{} provider={} ortLoader={}",
                    getRuntimeContext().getJobInfo().getJobId(), bundle.id(), bundle.version(), providerName,
                    ai.onnxruntime.OrtEnvironment.class.getClassLoader().getClass().getSimpleName());
        }
        return new ModelSlot(bundle.ref(), lease);
    }

    @SuppressWarnings("unchecked")
    private void replayRestored() throws Exception {
        if (restored.isEmpty()) {
            return;
        }
        restored.sort(Comparator.comparingLong(t -> t.f1.f0));
        LOG.info("Re-scoring {} elements restored from state", restored.size());
        List<Tuple2<Object, Tuple2<Long, StreamElement>>> replay = restored;
        restored = new ArrayList<>();
        for (Tuple2<Object, Tuple2<Long, StreamElement>> entry : replay) {
            if (keyed) {
                setCurrentKey(entry.f0);
            }
            admit((StreamRecord<IN>) entry.f1.f1.asRecord(), entry.f0);
        }
    }

    @Override
    public void processElement(StreamRecord<IN> record) throws Exception {
        IN value = getExecutionConfig().isObjectReuseEnabled()
                ? inSerializer.copy(record.getValue())
                : record.getValue();
        StreamRecord<IN> own = record.hasTimestamp()
                ? new StreamRecord<>(value, record.getTimestamp())
                : new StreamRecord<>(value);
        admit(own, keyed ? getCurrentKey() : null);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        queue.addWatermark(mark);
    }

    @Override
    public void endInput() throws Exception {
        drainAll();
    }

    @Override
    public void finish() throws Exception {
        drainAll();
        super.finish();
    }

    /** Flushes every open batch and waits until every element has been emitted. */
    protected void drainAll() throws Exception {
        for (Batch<IN> b : new ArrayList<>(openBatches.values())) {
            flush(b);
        }
        while (!queue.isEmpty()) {
            mailbox.yield();
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (executor != null) {
                executor.shutdownNow();
            }
            releaseModels();
        } finally {
            super.close();
        }
    }

    protected void releaseModels() {
        if (fixedSlot != null) {
            fixedSlot.release();
            fixedSlot = null;
        }
    }

    // ------------------------------------------------------------------ state

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<PendingElement<IN>> pending = queue.unemitted();
        if (keyed) {
            Object current = getCurrentKey();
            for (Object key : keysWrittenAtLastSnapshot) {
                setCurrentKey(key);
                keyedPending.clear();
            }
            keysWrittenAtLastSnapshot.clear();
            for (PendingElement<IN> e : pending) {
                setCurrentKey(e.key);
                keyedPending.add(Tuple2.of(e.sequence, e.record));
                keysWrittenAtLastSnapshot.add(e.key);
            }
            if (current != null) {
                setCurrentKey(current);
            }
        } else {
            List<StreamElement> elements = new ArrayList<>(pending.size());
            for (PendingElement<IN> e : pending) {
                elements.add(e.record);
            }
            operatorPending.update(elements);
        }
    }

    // ------------------------------------------------------------------ batching

    /** Routing decision for one element: the version that scores it and in which role. */
    protected record Route(ModelSlot slot, String variant, ModelSlot shadow) {
        Route(ModelSlot slot, String variant) {
            this(slot, variant, null);
        }
    }

    /** Chooses the model version for an element. Task thread, key context set. Null: no model. */
    protected Route route(PendingElement<IN> element) throws Exception {
        return fixedSlot == null ? null : new Route(fixedSlot, VARIANT_ACTIVE);
    }

    private void admit(StreamRecord<IN> record, Object key) throws Exception {
        metrics.recordsIn.inc();
        while (queue.size() >= capacity) {
            if (inFlight == 0 && readyBatches.isEmpty() && !openBatches.isEmpty()) {
                flush(openBatches.values().iterator().next());
            } else {
                mailbox.yield();
            }
        }
        PendingElement<IN> element = new PendingElement<>(nextSequence++, record, key, System.nanoTime());
        queue.add(element);
        String text;
        try {
            text = textExtractor.text(record.getValue());
        } catch (Exception e) {
            fail(element, ScoringFailure.TEXT_MISSING, "text extractor failed: " + e.getClass().getSimpleName(),
                    null, 0);
            return;
        }
        if (text == null) {
            fail(element, ScoringFailure.TEXT_MISSING, "the text extractor returned null", null, 0);
            return;
        }
        Route route = route(element);
        if (route == null) {
            fail(element, ScoringFailure.NO_MODEL, "no model version is deployed for this element", null, 0);
            return;
        }
        element.slot = route.slot();
        element.variant = route.variant();
        try {
            element.encoded = route.slot().session().encode(text);
        } catch (IllegalArgumentException e) {
            fail(element, ScoringFailure.TOKENIZATION_FAILED, e.getMessage(), route.slot().name, 0);
            return;
        }
        element.partsRemaining = 1;
        if (route.shadow() != null && route.shadow() != route.slot()) {
            try {
                element.shadowEncoded = route.shadow().session().encode(text);
                element.shadowSlot = route.shadow();
                element.partsRemaining = 2;
            } catch (IllegalArgumentException e) {
                LOG.debug("Shadow version {} cannot tokenize an element; no shadow result", route.shadow().name);
            }
        }
        addToBatch(new Part<>(element, false));
        if (element.shadowSlot != null) {
            addToBatch(new Part<>(element, true));
        }
    }

    /** One scoring job of an element: its primary version, or its shadow version. */
    record Part<IN>(PendingElement<IN> element, boolean shadow) {
        ModelSlot slot() {
            return shadow ? element.shadowSlot : element.slot;
        }

        EncodedText encoded() {
            return shadow ? element.shadowEncoded : element.encoded;
        }
    }

    private record BatchKey(ModelSlot slot, int bucket) {}

    /**
     * Token-length bucket for {@code slm.batch.group-by-length}: 8 tokens wide up to 64 tokens, then
     * powers of two, so a batch pads each text by at most 7 tokens where most texts are.
     */
    public static int lengthBucket(int tokens) {
        return tokens <= 64 ? (tokens + 7) / 8 : 8 + (32 - Integer.numberOfLeadingZeros(tokens - 1));
    }

    private void addToBatch(Part<IN> element) throws Exception {
        int length = element.encoded().length();
        BatchKey key = new BatchKey(element.slot(), config.groupByLength() ? lengthBucket(length) : 0);
        Batch<IN> batch = openBatches.get(key);
        if (batch != null && (long) (batch.elements.size() + 1) * Math.max(batch.maxLength, length) > config.maxBatchTokens()) {
            flush(batch);
            batch = null;
        }
        if (batch == null) {
            batch = new Batch<>(nextBatchId++, key, element.slot());
            openBatches.put(key, batch);
            Batch<IN> opened = batch;
            long due = getProcessingTimeService().getCurrentProcessingTime() + config.maxWait().toMillis();
            batch.maxWaitTimer = schedule(due, t -> {
                if (openBatches.get(opened.key) == opened) {
                    flush(opened);
                }
            });
        }
        batch.elements.add(element);
        batch.maxLength = Math.max(batch.maxLength, length);
        if (batch.elements.size() >= config.maxBatchSize()) {
            flush(batch);
        }
    }

    private void flush(Batch<IN> batch) {
        if (openBatches.get(batch.key) == batch) {
            openBatches.remove(batch.key);
        }
        if (batch.maxWaitTimer != null) {
            batch.maxWaitTimer.cancel(false);
            batch.maxWaitTimer = null;
        }
        readyBatches.addLast(batch);
        submitReady();
    }

    private void submitReady() {
        while (inFlight < config.maxInFlight() && !readyBatches.isEmpty()) {
            Batch<IN> batch = readyBatches.pollFirst();
            inFlight++;
            batch.slot.inFlightBatches++;
            batch.submittedNanos = System.nanoTime();
            long tokens = (long) batch.elements.size() * batch.maxLength;
            metrics.batches.inc();
            metrics.batchSize.update(batch.elements.size());
            metrics.batchTokens.update(tokens);
            run(batch);
        }
    }

    /** Starts one attempt of an in-flight batch on the inference executor. */
    private void run(Batch<IN> batch) {
        int attempt = ++batch.attempts;
        List<EncodedText> inputs = new ArrayList<>(batch.elements.size());
        for (Part<IN> e : batch.elements) {
            inputs.add(e.encoded());
        }
        long timeoutAt = getProcessingTimeService().getCurrentProcessingTime() + config.inferenceTimeout().toMillis();
        batch.timeoutTimer = schedule(timeoutAt, t -> onResult(batch, attempt, null,
                new java.util.concurrent.TimeoutException("no result within " + config.inferenceTimeout().toMillis()
                        + " ms"), 0));
        try {
            executor.execute(() -> {
                long start = System.nanoTime();
                List<Prediction> predictions = null;
                Throwable error = null;
                try {
                    predictions = batch.slot.session().score(inputs);
                } catch (Throwable t) {
                    error = t;
                }
                long took = System.nanoTime() - start;
                List<Prediction> result = predictions;
                Throwable failure = error;
                try {
                    mailbox.execute(() -> onResult(batch, attempt, result, failure, took), "slm batch result");
                } catch (RejectedExecutionException closing) {
                    // The task is shutting down; unemitted elements are in the last checkpoint.
                }
            });
        } catch (RejectedExecutionException closing) {
            // executor shut down during close; nothing to do
        }
    }

    private void onResult(Batch<IN> batch, int attempt, List<Prediction> predictions, Throwable error, long nanos)
            throws Exception {
        if (batch.finished || attempt != batch.attempts) {
            return; // a late answer for an attempt that already timed out
        }
        if (batch.timeoutTimer != null) {
            batch.timeoutTimer.cancel(false);
            batch.timeoutTimer = null;
        }
        if (error == null) {
            finishBatch(batch);
            long queueWaitBase = batch.submittedNanos;
            metrics.inferenceMs.update(TimeUnit.NANOSECONDS.toMillis(nanos));
            for (int i = 0; i < batch.elements.size(); i++) {
                Part<IN> part = batch.elements.get(i);
                PendingElement<IN> e = part.element();
                Prediction p = predictions.get(i);
                if (part.shadow()) {
                    e.shadowPrediction = p;
                    partDone(e);
                    continue;
                }
                Scored<IN> scored = new Scored<>();
                scored.element = e.record.getValue();
                scored.label = p.label();
                scored.labelIndex = p.labelIndex();
                scored.score = p.score();
                scored.probabilities = p.probabilities();
                scored.labels = batch.slot.labels;
                scored.modelId = batch.slot.ref.id();
                scored.modelVersion = batch.slot.ref.version();
                scored.variant = e.variant;
                scored.queueWaitMicros = Math.max(0, (queueWaitBase - e.arrivalNanos) / 1000);
                scored.inferenceMicros = nanos / 1000;
                scored.batchSize = batch.elements.size();
                metrics.queueWaitMs.update(scored.queueWaitMicros / 1000);
                e.result = scored;
                partDone(e);
            }
            submitReady();
            return;
        }
        boolean timeout = error instanceof java.util.concurrent.TimeoutException;
        String reason = timeout ? ScoringFailure.INFERENCE_TIMEOUT : ScoringFailure.INFERENCE_FAILED;
        if (batch.attempts <= config.maxRetries()) {
            metrics.retries.inc();
            LOG.warn("Batch of {} on {} failed (attempt {}), retrying in {} ms: {}", batch.elements.size(),
                    batch.slot.name, batch.attempts, config.retryBackoff().toMillis(), error.toString());
            long due = getProcessingTimeService().getCurrentProcessingTime() + config.retryBackoff().toMillis();
            if (schedule(due, t -> {
                if (!batch.finished) {
                    run(batch);
                }
            }) == null) {
                run(batch);
            }
            return;
        }
        finishBatch(batch);
        if (config.failurePolicy() == FailurePolicy.FAIL) {
            throw new IllegalStateException("scoring a batch of " + batch.elements.size() + " on " + batch.slot.name
                    + " failed after " + batch.attempts + " attempts (failure policy FAIL)", error);
        }
        if (batch.elements.size() > 1 && !batch.isolating) {
            // Find the records that cannot be scored: retry each alone, once.
            LOG.warn("Batch of {} on {} failed {} times ({}); scoring its records one by one",
                    batch.elements.size(), batch.slot.name, batch.attempts, error.toString());
            for (int i = batch.elements.size() - 1; i >= 0; i--) {
                Batch<IN> single = new Batch<>(nextBatchId++, batch.key, batch.slot);
                single.elements.add(batch.elements.get(i));
                single.maxLength = batch.elements.get(i).encoded().length();
                single.isolating = true;
                single.attempts = config.maxRetries();
                readyBatches.addFirst(single);
            }
        } else {
            for (Part<IN> part : batch.elements) {
                if (part.shadow()) {
                    // A failing shadow never affects the served result.
                    part.element().shadowSlot = null;
                    partDone(part.element());
                } else if (part.element().failure == null) {
                    failPart(part.element(), reason,
                            error.getClass().getSimpleName() + ": " + error.getMessage(), batch.slot.name, batch.attempts);
                }
            }
        }
        submitReady();
    }

    /**
     * Registers a processing-time timer. Returns null when the timer service has already shut down
     * (the task is finishing): callers then act without the timer.
     */
    protected ScheduledFuture<?> schedule(long due,
            org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback callback) {
        try {
            return getProcessingTimeService().registerTimer(due, callback);
        } catch (IllegalStateException terminated) {
            LOG.debug("Timer service is shut down; continuing without a timer", terminated);
            return null;
        }
    }

    private void partDone(PendingElement<IN> e) throws Exception {
        if (--e.partsRemaining == 0) {
            if (e.result != null) {
                onScored(e);
            }
            queue.completed(e);
        }
    }

    private void failPart(PendingElement<IN> e, String reason, String message, String modelName, int attempts)
            throws Exception {
        e.failure = new ScoringFailure<>(e.record.getValue(), reason, message, modelName, attempts);
        e.result = null;
        partDone(e);
    }

    /** Hook for subclasses: an element was scored (before it is emitted). */
    protected void onScored(PendingElement<IN> element) throws Exception {}

    private void finishBatch(Batch<IN> batch) {
        batch.finished = true;
        inFlight--;
        batch.slot.inFlightBatches--;
        onBatchFinished(batch.slot);
    }

    /** Hook for subclasses: a batch of {@code slot} left flight (for example to release a retired version). */
    protected void onBatchFinished(ModelSlot slot) {}

    protected void fail(PendingElement<IN> element, String reason, String message, String modelName, int attempts)
            throws Exception {
        element.failure = new ScoringFailure<>(element.record.getValue(), reason, message, modelName, attempts);
        queue.completed(element);
    }

    /** Batches running or waiting for an inference thread, for tests and metrics. */
    protected int inFlightBatches() {
        return inFlight;
    }

    protected int bufferedElements() {
        return queue.size();
    }

    /** Hook for subclasses: called on the task thread just before an element leaves the operator. */
    protected void beforeEmit(PendingElement<IN> element) {}

    /** Emits completed elements on the task thread. */
    private final class Emitter implements OutputQueue.Emitter<IN> {
        @Override
        public void emit(PendingElement<IN> element) {
            beforeEmit(element);
            if (element.result != null) {
                output.collect(element.record.replace(element.result));
                metrics.recordsOut.inc();
            } else {
                if (config.failurePolicy() == FailurePolicy.FAIL) {
                    throw new IllegalStateException("element cannot be scored (" + element.failure.reason + ": "
                            + element.failure.message + ") and the failure policy is FAIL");
                }
                StreamRecord<ScoringFailure<IN>> failure = element.record.hasTimestamp()
                        ? new StreamRecord<>(element.failure, element.record.getTimestamp())
                        : new StreamRecord<>(element.failure);
                output.collect(deadLetterTag, failure);
                metrics.deadLettered.inc();
            }
        }

        @Override
        public void emitWatermark(Watermark watermark) {
            output.emitWatermark(watermark);
        }
    }

    /** A batch from its first element until its result is applied. Task thread only. */
    static final class Batch<IN> {
        final long id;
        final BatchKey key;
        final ModelSlot slot;
        final List<Part<IN>> elements = new ArrayList<>();
        int maxLength;
        int attempts;
        boolean finished;
        boolean isolating;
        long submittedNanos;
        ScheduledFuture<?> maxWaitTimer;
        ScheduledFuture<?> timeoutTimer;

        Batch(long id, BatchKey key, ModelSlot slot) {
            this.id = id;
            this.key = key;
            this.slot = slot;
        }
    }
}
