package dev.flinkslm.operators.internal;

import dev.flinkslm.models.EncodedInput;
import dev.flinkslm.models.EncodedText;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.ScoringException;
import dev.flinkslm.operators.DispatchPolicy;
import dev.flinkslm.operators.FailurePolicy;
import dev.flinkslm.operators.OutputMode;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.TextExtractor;
import dev.flinkslm.operators.dispatch.BatchDispatcher;
import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.runtime.TupleSerializer;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.KeyContext;
import org.apache.flink.streaming.api.operators.Output;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamElement;
import org.apache.flink.streaming.runtime.streamrecord.StreamElementSerializer;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.FlinkRuntimeException;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The data path shared by both scoring operators: admission and tokenisation, micro-batching, the
 * inference runner (running-time timeouts, retries, isolation of bad records, a circuit breaker on
 * consecutive timeouts), the output queue, and the state of elements not yet emitted. Which model
 * version scores an element is the {@link ModelRouter}'s decision; the operator shells only forward
 * Flink's calls.
 *
 * <p>Elements are tokenised on arrival (long texts into overlapping windows) and collected into open
 * batches per slot (and token-length bucket). A batch is sealed when full, when adding an element
 * would pass the padded-token cap, when its oldest element has waited {@code maxWait} (processing
 * time), when one more element would make its oldest one miss the latency budget, or at end of input.
 * With the {@link DispatchPolicy#ADAPTIVE} policy the oldest open batch is also sealed and started
 * whenever an inference thread is free, so batches grow only while every thread is busy. Batches run
 * on a pool of {@code maxInFlight} threads; an attempt holds
 * its thread until the run really returns, even after it timed out, so capacity is never
 * over-committed. Results come back through the mailbox: state and output are touched on the task
 * thread only. When the queue is full the task yields to the mailbox, which backpressures the input.
 *
 * <p>At a checkpoint every element not yet emitted (buffered, in flight, or done but held by
 * ordering) is written to state and scored again after a restore; keyed inputs keep them in keyed
 * state so that rescaling moves each to the subtask owning its key.
 *
 * <p>Threading: every method runs on the task thread. Inference threads and the scheduler only hand
 * results back through {@link MailboxExecutor#execute}.
 */
@Internal
public final class ScoringCore<IN> {

    private static final Logger LOG = LoggerFactory.getLogger(ScoringCore.class);

    static final String PENDING_STATE = "slm-pending-elements";

    /** What the operator shell provides. */
    public record Context<IN>(
            Output<StreamRecord<Scored<IN>>> output,
            MailboxExecutor mailbox,
            ProcessingTimeService timers,
            MetricGroup metrics,
            String taskName,
            KeyContext keys,
            boolean objectReuse) {}

    private final ScoringConfig config;
    private final TextExtractor<IN> textExtractor;
    private final OutputTag<ScoringFailure<IN>> deadLetterTag;
    private final InferenceRuntime runtime;

    private TypeSerializer<IN> inSerializer;
    private boolean keyed;
    private KeyedStateBackend<Object> keyedBackend;
    private ListState<Tuple2<Long, StreamElement>> keyedPending;
    private ListState<StreamElement> operatorPending;
    private final Set<Object> keysWrittenAtLastSnapshot = new HashSet<>();
    private List<Tuple2<Object, Tuple2<Long, StreamElement>>> restored = new ArrayList<>();

    private Context<IN> ctx;
    private ModelRouter router;
    private ShadowSink<IN> shadowSink;
    private ExecutorService executor;
    private InferenceRuntime.Scheduler scheduler;
    /** The TaskManager's batch dispatcher, acquired at the first batch that coalesces. */
    private BatchDispatcher dispatcher;

    private OutputQueue<IN> queue;
    private final Map<BatchKey, Batch<IN>> openBatches = new LinkedHashMap<>();
    private final Deque<Batch<IN>> readyBatches = new ArrayDeque<>();
    /** Attempts whose thread has not returned yet (running, queued, or timed out but still running). */
    private int occupied;
    /** Attempts running and not timed out, for the estimate of when a thread is free again. */
    private final List<Attempt> running = new ArrayList<>();
    /** Batches waiting out a retry backoff. */
    private int backingOff;

    private int consecutiveTimeouts;
    /** Attempts that timed out and still hold their thread (a run that never returns). */
    private int stuckRuns;
    /** A check that counts another timeout period while every thread is held by a timed-out run. */
    private boolean stuckCheckPending;

    private long nextSequence;
    private long nextBatchId;
    private int capacity;
    private boolean closed;
    private ScoringMetrics metrics;

    public ScoringCore(
            ScoringConfig config,
            TextExtractor<IN> textExtractor,
            OutputTag<ScoringFailure<IN>> deadLetterTag,
            InferenceRuntime runtime) {
        this.config = config;
        this.textExtractor = textExtractor;
        this.deadLetterTag = deadLetterTag;
        this.runtime = runtime;
    }

    // ------------------------------------------------------------------ lifecycle

    /** Reads elements left in state by the last checkpoint; they are scored again in {@link #open}. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void initializeState(
            StateInitializationContext context,
            KeyedStateBackend<?> keyedStateBackend,
            TypeSerializer<IN> serializer,
            KeyContext keys)
            throws Exception {
        this.inSerializer = serializer;
        StreamElementSerializer<IN> elementSerializer = new StreamElementSerializer<>(serializer);
        keyed = keyedStateBackend != null;
        if (keyed) {
            keyedBackend = (KeyedStateBackend<Object>) keyedStateBackend;
            TupleSerializer<Tuple2<Long, StreamElement>> tupleSerializer = new TupleSerializer<>(
                    (Class<Tuple2<Long, StreamElement>>) (Class) Tuple2.class,
                    new TypeSerializer[] {LongSerializer.INSTANCE, elementSerializer});
            keyedPending = keyedBackend.getPartitionedState(
                    VoidNamespace.INSTANCE,
                    VoidNamespaceSerializer.INSTANCE,
                    new ListStateDescriptor<>(PENDING_STATE, tupleSerializer));
            List<Object> restoredKeys = new ArrayList<>();
            try (var stream = keyedBackend.getKeys(PENDING_STATE, VoidNamespace.INSTANCE)) {
                stream.forEach(restoredKeys::add);
            }
            for (Object key : restoredKeys) {
                keys.setCurrentKey(key);
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

    public boolean isKeyed() {
        return keyed;
    }

    public ScoringConfig config() {
        return config;
    }

    /** Starts the inference threads and re-scores the restored elements with {@code router}. */
    public void open(Context<IN> context, ModelRouter modelRouter, ShadowSink<IN> shadows) throws Exception {
        this.ctx = context;
        this.router = modelRouter;
        this.shadowSink = shadows;
        this.executor = runtime.newPool("slm-inference " + context.taskName(), config.maxInFlight());
        this.scheduler = runtime.newScheduler("slm-timers " + context.taskName());
        this.queue = OutputQueue.create(config.outputMode() == OutputMode.ORDERED, new Emitter());
        this.capacity = (config.maxInFlight() + 2) * config.maxBatchSize();
        this.metrics = new ScoringMetrics(
                context.metrics(), () -> occupied, () -> queue.size(), modelRouter::provider, modelRouter::describe);
        replayRestored();
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
                ctx.keys().setCurrentKey(entry.f0);
            }
            admit((StreamRecord<IN>) entry.f1.f1.asRecord(), entry.f0);
        }
    }

    /** Stops the threads. Elements not emitted are in the last checkpoint; nothing waits here. */
    public void close() {
        closed = true;
        if (dispatcher != null) {
            dispatcher.cancelAll(this); // waiting requests of this instance; its elements are in state
            dispatcher.release();
            dispatcher = null;
        }
        if (executor != null) {
            executor.shutdownNow();
        }
        if (scheduler != null) {
            scheduler.shutdown();
        }
    }

    // ------------------------------------------------------------------ input

    public void processElement(StreamRecord<IN> record, Object key) throws Exception {
        IN value = ctx.objectReuse() ? inSerializer.copy(record.getValue()) : record.getValue();
        StreamRecord<IN> own =
                record.hasTimestamp() ? new StreamRecord<>(value, record.getTimestamp()) : new StreamRecord<>(value);
        admit(own, key);
    }

    public void processWatermark(Watermark mark) throws Exception {
        queue.addMarker(mark);
    }

    /** A watermark status of the event input: held behind queued elements like a watermark. */
    public void processWatermarkStatus(WatermarkStatus status) throws Exception {
        queue.addMarker(status);
    }

    /**
     * Flushes every open batch and waits, through the mailbox, until every element is emitted. Only
     * called when the input has ended (drain). The wait cannot hang on a stuck run: its timeout, the
     * retries and the circuit breaker all arrive as mails.
     */
    public void drain() throws Exception {
        for (Batch<IN> b : new ArrayList<>(openBatches.values())) {
            flush(b);
        }
        while (!queue.isEmpty()) {
            ctx.mailbox().yield();
        }
    }

    // ------------------------------------------------------------------ state

    public void snapshotState() throws Exception {
        List<PendingElement<IN>> pending = queue.unemitted();
        if (keyed) {
            Object current = ctx.keys().getCurrentKey();
            for (Object key : keysWrittenAtLastSnapshot) {
                ctx.keys().setCurrentKey(key);
                keyedPending.clear();
            }
            keysWrittenAtLastSnapshot.clear();
            for (PendingElement<IN> e : pending) {
                ctx.keys().setCurrentKey(e.key);
                keyedPending.add(Tuple2.of(e.sequence, e.record));
                keysWrittenAtLastSnapshot.add(e.key);
            }
            if (current != null) {
                ctx.keys().setCurrentKey(current);
            }
        } else {
            List<StreamElement> elements = new ArrayList<>(pending.size());
            for (PendingElement<IN> e : pending) {
                elements.add(e.record);
            }
            operatorPending.update(elements);
        }
    }

    // ------------------------------------------------------------------ admission

    private void admit(StreamRecord<IN> record, Object key) throws Exception {
        metrics.recordsIn.inc();
        while (queue.size() >= capacity) {
            if (occupied == 0 && readyBatches.isEmpty() && !openBatches.isEmpty()) {
                flush(openBatches.values().iterator().next());
            } else {
                ctx.mailbox().yield();
            }
            if (keyed) {
                ctx.keys().setCurrentKey(key); // mails may have switched the key context
            }
        }
        PendingElement<IN> element = new PendingElement<>(nextSequence++, record, key, runtime.nanoTime());
        queue.add(element);
        String text;
        try {
            text = textExtractor.text(record.getValue());
        } catch (Exception e) {
            fail(
                    element,
                    ScoringFailure.TEXT_MISSING,
                    "the text extractor failed: " + e.getClass().getSimpleName(),
                    null,
                    0);
            return;
        }
        if (text == null) {
            fail(element, ScoringFailure.TEXT_MISSING, "the text extractor returned null", null, 0);
            return;
        }
        Route route = router.route(key);
        if (route == null) {
            fail(element, ScoringFailure.NO_MODEL, "no loaded model version can serve this element", null, 0);
            return;
        }
        element.route = route;
        EncodedInput input;
        try {
            input = route.slot().session().encode(text, route.slot().windows(config));
        } catch (IllegalArgumentException e) {
            fail(
                    element,
                    ScoringFailure.TOKENIZATION_FAILED,
                    e.getMessage(),
                    route.slot().name(),
                    0);
            return;
        }
        if (input.truncated()) {
            metrics.truncatedRecords.inc();
        }
        element.primary = new Part<>(element, route.slot(), input, false);
        element.partsRemaining = 1;
        if (route.shadow() != null && route.shadow() != route.slot()) {
            try {
                element.shadow = new Part<>(
                        element,
                        route.shadow(),
                        route.shadow().session().encode(text, route.shadow().windows(config)),
                        true);
                element.partsRemaining = 2;
            } catch (IllegalArgumentException e) {
                LOG.debug(
                        "Shadow version {} cannot tokenize an element; no shadow result",
                        route.shadow().name());
            }
        }
        addToBatch(element.primary);
        if (element.shadow != null) {
            addToBatch(element.shadow);
        }
    }

    private record BatchKey(ModelSlot slot, int bucket) {}

    private void addToBatch(Part<IN> part) {
        part.slot.acquirePart();
        int length = part.maxLength();
        BatchKey key = new BatchKey(part.slot, config.groupByLength() ? ScoringConfig.lengthBucket(length) : 0);
        Batch<IN> batch = openBatches.get(key);
        if (batch != null
                && (batch.rows + part.rows() > config.maxBatchSize()
                        || (long) (batch.rows + part.rows()) * Math.max(batch.maxLength, length)
                                > config.maxBatchTokens())) {
            flush(batch);
            batch = null;
        }
        if (batch != null && sealForBudget(batch, part)) {
            metrics.latencyBudgetFlushes.inc();
            flush(batch);
            batch = null;
        }
        if (batch == null) {
            batch = new Batch<>(nextBatchId++, key, part.slot);
            openBatches.put(key, batch);
            Batch<IN> opened = batch;
            long due =
                    ctx.timers().getCurrentProcessingTime() + config.maxWait().toMillis();
            try {
                batch.maxWaitTimer = ctx.timers().registerTimer(due, t -> {
                    if (openBatches.get(opened.key) == opened) {
                        flush(opened);
                    }
                });
            } catch (IllegalStateException timersShutDown) {
                batch.maxWaitTimer = null; // finishing: drain() flushes it
            }
        }
        batch.add(part);
        if (batch.rows >= config.maxBatchSize()) {
            flush(batch);
            return;
        }
        if (config.dispatch() == DispatchPolicy.ADAPTIVE) {
            submitReady(); // a free thread takes the oldest open batch now
        }
        if (openBatches.get(key) == batch) {
            armBudgetTimer(batch);
        }
    }

    /**
     * With a latency budget: seals the batch when, by the measured cost, it must start to meet its
     * oldest element's deadline. Re-armed at every element the batch takes (its run grows). Not armed
     * when the deadline can no longer be met (overload: the batch grows) or nothing has been measured
     * yet (max-wait applies).
     */
    private void armBudgetTimer(Batch<IN> batch) {
        if (!budgetApplies(batch)) {
            return;
        }
        long now = runtime.nanoTime();
        long sealInNanos = budgetSlackNanos(batch, batch.paddedTokens(), now, untilThreadFree(now));
        if (sealInNanos < 0 || sealInNanos >= config.maxWait().toNanos()) {
            return;
        }
        if (batch.budgetTimer != null) {
            batch.budgetTimer.cancel(false);
        }
        long due = ctx.timers().getCurrentProcessingTime() + TimeUnit.NANOSECONDS.toMillis(sealInNanos);
        try {
            batch.budgetTimer = ctx.timers().registerTimer(due, t -> {
                if (openBatches.get(batch.key) == batch) {
                    metrics.latencyBudgetFlushes.inc();
                    flush(batch);
                }
            });
        } catch (IllegalStateException timersShutDown) {
            batch.budgetTimer = null; // finishing: drain() flushes it
        }
    }

    /**
     * Whether adding {@code next} would make the batch's oldest element miss the latency budget while
     * the batch as it is would still meet it. When even the batch as it is misses the budget
     * (overload), it keeps growing: smaller runs would only cut throughput further.
     */
    private boolean sealForBudget(Batch<IN> batch, Part<IN> next) {
        if (!budgetApplies(batch)) {
            return false;
        }
        long now = runtime.nanoTime();
        long wait = untilThreadFree(now);
        long grown = (long) (batch.rows + next.rows()) * Math.max(batch.maxLength, next.maxLength());
        return budgetSlackNanos(batch, grown, now, wait) < 0
                && budgetSlackNanos(batch, batch.paddedTokens(), now, wait) >= 0;
    }

    /** A latency budget is set and this version's cost per padded token has been measured. */
    private boolean budgetApplies(Batch<IN> batch) {
        return config.latencyBudget() != null && batch.slot.costPerPaddedTokenNanos() > 0;
    }

    /**
     * How long a run of {@code paddedTokens} for this batch may still wait before it must start for the
     * batch's oldest element to meet the budget, given {@code wait} until a thread is free: the
     * deadline less now, the wait and the run's estimated cost. Negative: it cannot be met.
     */
    private long budgetSlackNanos(Batch<IN> batch, long paddedTokens, long now, long wait) {
        long deadline =
                batch.parts.get(0).element.arrivalNanos + config.latencyBudget().toNanos();
        return deadline - now - wait - (long) (batch.slot.costPerPaddedTokenNanos() * paddedTokens);
    }

    /** Estimated time until an inference thread takes a newly sealed batch, from the running and ready work. */
    private long untilThreadFree(long now) {
        long ahead = 0;
        for (Batch<IN> ready : readyBatches) {
            ahead += (long) (ready.slot.costPerPaddedTokenNanos() * ready.paddedTokens());
        }
        ahead /= config.maxInFlight();
        if (occupied < config.maxInFlight()) {
            return ahead;
        }
        long earliest = Long.MAX_VALUE;
        for (Attempt a : running) {
            earliest = Math.min(earliest, a.startedNanos + a.expectedNanos);
        }
        // Every thread held by a run that timed out: no estimate; the budget cannot be met.
        return earliest == Long.MAX_VALUE ? Long.MAX_VALUE / 4 : Math.max(0, earliest - now) + ahead;
    }

    private void flush(Batch<IN> batch) {
        seal(batch);
        readyBatches.addLast(batch);
        submitReady();
    }

    /** Closes an open batch: no element joins it any more. */
    private void seal(Batch<IN> batch) {
        if (openBatches.get(batch.key) == batch) {
            openBatches.remove(batch.key);
        }
        if (batch.maxWaitTimer != null) {
            batch.maxWaitTimer.cancel(false);
            batch.maxWaitTimer = null;
        }
        if (batch.budgetTimer != null) {
            batch.budgetTimer.cancel(false);
            batch.budgetTimer = null;
        }
        batch.submittedNanos = runtime.nanoTime();
        metrics.batches.inc();
        metrics.batchSize.update(batch.rows);
        metrics.batchTokens.update(batch.paddedTokens());
    }

    // ------------------------------------------------------------------ inference

    /**
     * Starts ready batches while a thread is free; with the adaptive policy a free thread with nothing
     * ready takes the oldest open batch.
     */
    private void submitReady() {
        while (occupied < config.maxInFlight() && !closed) {
            Batch<IN> next = readyBatches.pollFirst();
            if (next == null) {
                if (config.dispatch() != DispatchPolicy.ADAPTIVE || openBatches.isEmpty()) {
                    return;
                }
                next = openBatches.values().iterator().next();
                seal(next);
            }
            start(next);
        }
    }

    /** One run of a batch. Its timeout is armed when a thread starts it, so queueing does not count. */
    private final class Attempt {
        final Batch<IN> batch;
        final int number;
        boolean timedOut;
        boolean returned;
        long startedNanos;
        /** Expected running time by the slot's measured cost; 0 before anything was measured. */
        long expectedNanos;
        /** With the dispatcher: the request, its wait timeout, and the padded tokens of the joint run. */
        BatchDispatcher.Request request;

        volatile InferenceRuntime.Cancellable notStarted;
        long jointPaddedTokens;

        Attempt(Batch<IN> batch, int number) {
            this.batch = batch;
            this.number = number;
        }
    }

    private void start(Batch<IN> batch) {
        Attempt attempt = new Attempt(batch, ++batch.attempts);
        batch.current = attempt;
        occupied++;
        attempt.startedNanos = runtime.nanoTime();
        attempt.expectedNanos = (long) (batch.slot.costPerPaddedTokenNanos() * batch.paddedTokens());
        running.add(attempt);
        List<EncodedText> rows = new ArrayList<>(batch.rows);
        for (Part<IN> part : batch.parts) {
            rows.addAll(part.input.windows());
        }
        long timeoutNanos = config.inferenceTimeout().toNanos();
        if (coalesces(batch.slot)) {
            submitJoint(attempt, rows, timeoutNanos);
            return;
        }
        try {
            executor.execute(() -> {
                InferenceRuntime.Cancellable timeout =
                        scheduler.schedule(() -> post(() -> onTimeout(attempt), "slm batch timeout"), timeoutNanos);
                long start = runtime.nanoTime();
                List<Prediction> predictions = null;
                Throwable error = null;
                try {
                    predictions = runtime.score(batch.slot.session(), rows);
                } catch (Throwable t) {
                    error = t;
                }
                timeout.cancel();
                long took = runtime.nanoTime() - start;
                List<Prediction> result = predictions;
                Throwable failure = error;
                post(() -> onReturned(attempt, result, failure, took), "slm batch result");
            });
        } catch (RejectedExecutionException closing) {
            occupied--; // shutting down; the elements are in the last checkpoint
            running.remove(attempt);
        }
    }

    /** Whether batches of {@code slot} go to the TaskManager's dispatcher: by option, else on CUDA only. */
    private boolean coalesces(ModelSlot slot) {
        Boolean enabled = config.dispatcher().enabled();
        return enabled != null ? enabled : slot.session().executionProvider() == ExecutionProvider.CUDA;
    }

    /**
     * Hands a batch to the dispatcher, which may run it jointly with other operators' batches. The
     * attempt holds its place in {@code occupied} until the joint run returns, exactly like a run on an
     * own thread; its timeout is armed when the run starts. A request that no dispatcher thread takes
     * within the timeout (every one held by runs that do not return) is taken back and counts as a
     * timeout, so a hung device still trips the circuit breaker.
     */
    private void submitJoint(Attempt attempt, List<EncodedText> rows, long timeoutNanos) {
        Batch<IN> batch = attempt.batch;
        if (dispatcher == null) {
            ScoringConfig.DispatcherConfig d = config.dispatcher();
            dispatcher = BatchDispatcher.acquire(
                    new BatchDispatcher.Settings(d.threads(), d.maxBatchSize(), d.maxBatchTokens()));
        }
        BatchDispatcher.Callback callback = new BatchDispatcher.Callback() {
            private InferenceRuntime.Cancellable timeout;

            @Override
            public void started() {
                InferenceRuntime.Cancellable notStarted = attempt.notStarted;
                if (notStarted != null) {
                    notStarted.cancel();
                }
                if (timeout != null) {
                    timeout.cancel(); // a split joint run: this run gets the whole timeout again
                }
                timeout = scheduler.schedule(() -> post(() -> onTimeout(attempt), "slm batch timeout"), timeoutNanos);
            }

            @Override
            public void finished(
                    List<Prediction> predictions,
                    Throwable error,
                    long runNanos,
                    int jointRows,
                    long jointPaddedTokens,
                    long queuedNanos) {
                if (timeout != null) {
                    timeout.cancel();
                }
                post(
                        () -> {
                            metrics.coalescedBatchSize.update(jointRows);
                            metrics.dispatcherQueueMs.update(TimeUnit.NANOSECONDS.toMillis(queuedNanos));
                            attempt.jointPaddedTokens = jointPaddedTokens;
                            onReturned(attempt, predictions, error, runNanos);
                        },
                        "slm joint batch result");
            }
        };
        // armed before the request can start, so that its start always finds it to cancel
        attempt.notStarted = scheduler.schedule(
                () -> post(() -> onNotStarted(attempt), "slm dispatcher wait timeout"), timeoutNanos);
        try {
            attempt.request = dispatcher.submit(this, batch.slot.session(), rows, batch.isolating, runtime, callback);
        } catch (IllegalStateException released) {
            attempt.notStarted.cancel();
            occupied--; // closing; the elements are in the last checkpoint
            running.remove(attempt);
        }
    }

    private void onNotStarted(Attempt attempt) throws Exception {
        if (attempt.request == null || !attempt.request.cancel()) {
            return; // it started: the run's own timeout applies
        }
        occupied--;
        attempt.returned = true;
        running.remove(attempt);
        Batch<IN> batch = attempt.batch;
        if (batch.finished || batch.current != attempt) {
            submitReady();
            return;
        }
        metrics.timeouts.inc();
        countTimeout(batch.slot.name());
        failed(
                batch,
                new TimeoutException(
                        "not started within " + config.inferenceTimeout().toMillis()
                                + " ms: every thread of the TaskManager's batch dispatcher is busy"));
        submitReady();
    }

    /** Hands work to the task thread; after close it is dropped (the elements are in state). */
    private void post(org.apache.flink.util.function.ThrowingRunnable<? extends Exception> mail, String what) {
        try {
            ctx.mailbox()
                    .execute(
                            () -> {
                                if (!closed) {
                                    mail.run();
                                }
                            },
                            what);
        } catch (RejectedExecutionException closing) {
            LOG.debug("Mailbox closed; dropping '{}'", what);
        }
    }

    private void onTimeout(Attempt attempt) throws Exception {
        Batch<IN> batch = attempt.batch;
        if (attempt.returned || batch.finished || batch.current != attempt) {
            return;
        }
        attempt.timedOut = true;
        running.remove(attempt);
        stuckRuns++;
        metrics.timeouts.inc();
        countTimeout(batch.slot.name());
        if (stuckRuns >= config.maxInFlight()) {
            scheduleStuckCheck(batch.slot.name());
        }
        failed(
                batch,
                new TimeoutException(
                        "no result within " + config.inferenceTimeout().toMillis() + " ms"));
        submitReady();
    }

    /**
     * One breaker for a model that does not answer: every timeout counts, and so does every further timeout
     * period in which all threads are held by runs that already timed out (then no new run can start, so no
     * new timeout could ever trip it). A late answer frees its thread but does not reset the count; only a
     * run that returns its result in time does.
     */
    private void countTimeout(String model) {
        consecutiveTimeouts++;
        if (consecutiveTimeouts >= config.maxConsecutiveTimeouts()) {
            String held = stuckRuns >= config.maxInFlight()
                    ? " All " + config.maxInFlight() + " inference threads are stuck in runs that timed out and did"
                            + " not return (one of them on " + model + "), so nothing can be scored."
                    : "";
            throw new FlinkRuntimeException(consecutiveTimeouts + " consecutive inference timeouts on " + model
                    + " (runs or periods with every thread held, each longer than "
                    + config.inferenceTimeout().toMillis() + " ms, slm.inference.timeout)." + held
                    + " The model or its device is not answering, so the job fails instead of dead-lettering every"
                    + " event. Raise slm.inference.timeout or slm.inference.max-consecutive-timeouts if runs are"
                    + " legitimately that slow.");
        }
    }

    private void scheduleStuckCheck(String model) {
        if (stuckCheckPending) {
            return;
        }
        stuckCheckPending = true;
        scheduler.schedule(
                () -> post(
                        () -> {
                            stuckCheckPending = false;
                            if (stuckRuns >= config.maxInFlight()) {
                                countTimeout(model);
                                scheduleStuckCheck(model);
                            }
                        },
                        "slm stuck inference check"),
                config.inferenceTimeout().toNanos());
    }

    private void onReturned(Attempt attempt, List<Prediction> predictions, Throwable error, long nanos)
            throws Exception {
        occupied--;
        attempt.returned = true;
        running.remove(attempt);
        if (attempt.timedOut) {
            stuckRuns--;
        }
        Batch<IN> batch = attempt.batch;
        if (attempt.timedOut || batch.finished || batch.current != attempt) {
            submitReady(); // a late answer of an attempt given up on: only its thread is free again
            return;
        }
        if (error == null) {
            consecutiveTimeouts = 0;
            batch.slot.observeRun(
                    nanos, attempt.jointPaddedTokens > 0 ? attempt.jointPaddedTokens : batch.paddedTokens());
            succeeded(batch, predictions, nanos);
        } else {
            failed(batch, error);
        }
        submitReady();
    }

    private void succeeded(Batch<IN> batch, List<Prediction> predictions, long nanos) throws Exception {
        batch.finished = true;
        metrics.inferenceMs.update(TimeUnit.NANOSECONDS.toMillis(nanos));
        int row = 0;
        for (Part<IN> part : batch.parts) {
            List<Prediction> windows = predictions.subList(row, row + part.rows());
            row += part.rows();
            Prediction p =
                    windows.size() == 1 ? windows.get(0) : part.slot.session().combine(windows);
            PendingElement<IN> e = part.element;
            if (part.shadow) {
                e.shadowPrediction = p;
            } else {
                Scored<IN> scored = new Scored<>();
                scored.element = e.record.getValue();
                scored.label = p.label();
                scored.labelIndex = p.labelIndex();
                scored.score = p.score();
                scored.probabilities = p.probabilities();
                scored.labels = part.slot.labels();
                scored.negativeLabel = part.slot.negativeLabel();
                scored.thresholds = part.slot.thresholds() == null
                        ? null
                        : part.slot.thresholds().clone();
                scored.modelId = part.slot.ref().id();
                scored.modelVersion = part.slot.ref().version();
                scored.variant = e.route.variant();
                scored.ruleEpoch = e.route.epoch();
                scored.windows = part.rows();
                scored.truncated = part.input.truncated();
                scored.queueWaitMicros = Math.max(0, (batch.submittedNanos - e.arrivalNanos) / 1000);
                scored.inferenceMicros = nanos / 1000;
                scored.batchSize = batch.rows;
                metrics.queueWaitMs.update(scored.queueWaitMicros / 1000);
                e.result = scored;
            }
            partDone(part);
        }
    }

    private void failed(Batch<IN> batch, Throwable error) throws Exception {
        boolean timeout = error instanceof TimeoutException;
        boolean invalidOutput =
                error instanceof ScoringException se && se.kind() == ScoringException.Kind.OUTPUT_INVALID;
        // A model that answers with an invalid row answers the same again: isolate instead of retrying.
        if (!invalidOutput && batch.attempts <= config.maxRetries()) {
            metrics.retries.inc();
            LOG.warn(
                    "Batch of {} rows on {} failed (attempt {}), retrying in {} ms: {}",
                    batch.rows,
                    batch.slot.name(),
                    batch.attempts,
                    config.retryBackoff().toMillis(),
                    describe(error));
            backingOff++;
            scheduler.schedule(
                    () -> post(
                            () -> {
                                backingOff--;
                                readyBatches.addFirst(batch);
                                submitReady();
                            },
                            "slm batch retry"),
                    config.retryBackoff().toNanos());
            return;
        }
        batch.finished = true;
        if (config.failurePolicy() == FailurePolicy.FAIL) {
            throw new FlinkRuntimeException(
                    "scoring a batch of " + batch.rows + " rows on " + batch.slot.name()
                            + " failed after " + batch.attempts + " attempts (slm.inference.failure-policy FAIL): "
                            + describe(error),
                    error);
        }
        if (batch.parts.size() > 1 && !batch.isolating) {
            LOG.warn(
                    "Batch of {} elements on {} failed after {} attempts ({}); scoring its elements one by one",
                    batch.parts.size(),
                    batch.slot.name(),
                    batch.attempts,
                    describe(error));
            for (int i = batch.parts.size() - 1; i >= 0; i--) {
                Batch<IN> single = new Batch<>(nextBatchId++, batch.key, batch.slot);
                single.add(batch.parts.get(i));
                single.isolating = true;
                single.attempts = config.maxRetries(); // one more try each, then give up
                single.submittedNanos = batch.submittedNanos;
                readyBatches.addFirst(single);
            }
            return;
        }
        String reason = invalidOutput
                ? ScoringFailure.MODEL_OUTPUT_INVALID
                : timeout ? ScoringFailure.INFERENCE_TIMEOUT : ScoringFailure.INFERENCE_FAILED;
        for (Part<IN> part : batch.parts) {
            PendingElement<IN> e = part.element;
            if (part.shadow) {
                partDone(part); // a failing shadow never affects the served result
            } else if (e.failure == null) {
                if (invalidOutput) {
                    metrics.modelOutputInvalid.inc();
                }
                e.failure = new ScoringFailure<>(
                        e.record.getValue(), reason, describe(error), batch.slot.name(), batch.attempts);
                e.result = null;
                partDone(part);
            }
        }
    }

    private static String describe(Throwable error) {
        return error.getClass().getSimpleName() + ": " + error.getMessage();
    }

    private void partDone(Part<IN> part) throws Exception {
        part.slot.releasePart();
        if (part.slot.pendingParts() == 0) {
            router.partsFinished(part.slot);
        }
        PendingElement<IN> e = part.element;
        if (--e.partsRemaining == 0) {
            queue.completed(e);
        }
    }

    private void fail(PendingElement<IN> element, String reason, String message, String modelName, int attempts)
            throws Exception {
        element.failure = new ScoringFailure<>(element.record.getValue(), reason, message, modelName, attempts);
        queue.completed(element);
    }

    /** Attempts holding an inference thread; for tests and the {@code inFlightBatches} gauge. */
    public int occupiedThreads() {
        return occupied;
    }

    /** Elements not emitted yet. */
    public int bufferedElements() {
        return queue.size();
    }

    /** Emits completed elements on the task thread. */
    private final class Emitter implements OutputQueue.Emitter<IN> {
        @Override
        public void emit(PendingElement<IN> element) {
            if (element.result != null) {
                if (element.shadowPrediction != null && shadowSink != null) {
                    shadowSink.emit(element.record, element.result, element.shadow.slot, element.shadowPrediction);
                }
                ctx.output().collect(element.record.replace(element.result));
                metrics.recordsOut.inc();
                return;
            }
            if (config.failurePolicy() == FailurePolicy.FAIL) {
                throw new FlinkRuntimeException("an element cannot be scored (" + element.failure.reason + ": "
                        + element.failure.message + ") and slm.inference.failure-policy is FAIL");
            }
            StreamRecord<ScoringFailure<IN>> failure = element.record.hasTimestamp()
                    ? new StreamRecord<>(element.failure, element.record.getTimestamp())
                    : new StreamRecord<>(element.failure);
            ctx.output().collect(deadLetterTag, failure);
            metrics.deadLettered.inc();
        }

        @Override
        public void emitMarker(StreamElement marker) {
            if (marker.isWatermark()) {
                ctx.output().emitWatermark(marker.asWatermark());
            } else {
                ctx.output().emitWatermarkStatus(marker.asWatermarkStatus());
            }
        }
    }

    /** A batch from its first element until its result is applied. Task thread only. */
    private static final class Batch<IN> {
        final long id;
        final BatchKey key;
        final ModelSlot slot;
        final List<Part<IN>> parts = new ArrayList<>();
        int rows;
        int maxLength;
        int attempts;
        boolean finished;
        boolean isolating;
        long submittedNanos;
        ScheduledFuture<?> maxWaitTimer;
        ScheduledFuture<?> budgetTimer;
        Object current;

        Batch(long id, BatchKey key, ModelSlot slot) {
            this.id = id;
            this.key = key;
            this.slot = slot;
        }

        void add(Part<IN> part) {
            parts.add(part);
            rows += part.rows();
            maxLength = Math.max(maxLength, part.maxLength());
        }

        long paddedTokens() {
            return (long) rows * maxLength;
        }
    }

    /** One of the operator's histograms by its metric name (null before {@code open}). */
    @VisibleForTesting
    public org.apache.flink.metrics.Histogram histogram(String name) {
        if (metrics == null) {
            return null;
        }
        return switch (name) {
            case "batchSize" -> metrics.batchSize;
            case "coalescedBatchSize" -> metrics.coalescedBatchSize;
            case "dispatcherQueueMs" -> metrics.dispatcherQueueMs;
            case "queueWaitMs" -> metrics.queueWaitMs;
            case "inferenceMs" -> metrics.inferenceMs;
            default -> throw new IllegalArgumentException("no histogram " + name);
        };
    }

    /** The value of one of the operator's counters, by its metric name (0 before {@code open}). */
    @VisibleForTesting
    public long counter(String name) {
        if (metrics == null) {
            return 0;
        }
        org.apache.flink.metrics.Counter c = switch (name) {
            case "recordsIn" -> metrics.recordsIn;
            case "recordsOut" -> metrics.recordsOut;
            case "deadLettered" -> metrics.deadLettered;
            case "retries" -> metrics.retries;
            case "timeouts" -> metrics.timeouts;
            case "modelOutputInvalid" -> metrics.modelOutputInvalid;
            case "truncatedRecords" -> metrics.truncatedRecords;
            case "batches" -> metrics.batches;
            case "latencyBudgetFlushes" -> metrics.latencyBudgetFlushes;
            default -> throw new IllegalArgumentException("no counter " + name);
        };
        return c.getCount();
    }
}
