package dev.flinkslm.table.internal;

import dev.flinkslm.models.EncodedInput;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.dispatch.BatchDispatcher;
import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Async ML_PREDICT: hands each row (its text windows) to the TaskManager's {@link BatchDispatcher}, which joins
 * the rows of all concurrent calls, of every subtask of this JVM that uses the same session and caps, into joint
 * session runs. Each call's future completes with exactly one row; in error mode FAIL a row that cannot be scored
 * completes with a {@link FailingRow}, which fails the task wherever it is read.
 *
 * <p>Fields are the settings only; the session lease and the dispatcher reference are taken in {@link #open} and
 * given back in {@link #close}.
 *
 * <p>Threading: {@link #asyncPredict} on the task thread. Futures are completed on dispatcher workers or the
 * timeout scheduler; Flink's async operator hands the result to the mailbox. The callbacks touch only their own
 * future and the (synchronized) metrics.
 */
@Internal
public final class OnnxSlmAsyncPredictFunction extends AsyncPredictFunction {

    private static final long serialVersionUID = 1L;

    private final PredictSettings settings;

    private transient SessionCache.Lease lease;
    private transient RowScoring scoring;
    private transient BatchDispatcher dispatcher;
    private transient ScheduledThreadPoolExecutor timeouts;
    private transient PredictMetrics metrics;
    private transient Set<Pending> pending;
    /** Set when a row failed the query (error mode FAIL): thrown at the next call, on the task thread. */
    private transient volatile RowScoring.QueryFailure failed;

    public OnnxSlmAsyncPredictFunction(PredictSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        lease = SessionCache.shared().acquire(settings.loadBundle(), settings.runtime());
        scoring = new RowScoring(lease.session(), settings);
        dispatcher = BatchDispatcher.acquire(settings.dispatcherSettings());
        timeouts = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "slm-sql-timeouts");
            t.setDaemon(true);
            return t;
        });
        timeouts.setRemoveOnCancelPolicy(true);
        metrics = new PredictMetrics(context.getMetricGroup());
        pending = ConcurrentHashMap.newKeySet();
    }

    /**
     * As Flink's, without its wrapping of a failed future in a message that prints the input row (the customer's
     * text). This function never fails a row's future: a row that fails the query (error mode FAIL) completes with a
     * {@link FailingRow}, which throws the failure wherever it is read, and the failure is thrown here too at the
     * next call.
     */
    @Override
    public void eval(CompletableFuture<Collection<RowData>> result, Object... args) {
        RowScoring.QueryFailure f = failed;
        if (f != null) {
            throw f;
        }
        asyncPredict(GenericRowData.of(args)).whenComplete((rows, error) -> {
            if (error == null) {
                result.complete(rows);
            } else {
                result.completeExceptionally(error);
            }
        });
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData input) {
        metrics.in();
        EncodedInput encoded;
        try {
            encoded = scoring.encode(input);
        } catch (RowScoring.RowFailure failure) {
            Pending p = new Pending(false);
            pending.add(p);
            p.fail(failure);
            return p.future;
        }
        Pending p = new Pending(encoded.truncated());
        pending.add(p);
        long timeoutNanos = settings.inferenceTimeout().toNanos();
        if (timeoutNanos > 0) {
            // armed before the submission, so that a run finishing at once finds the timer to cancel
            p.timer = timeouts.schedule(p::timedOut, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        BatchDispatcher.Request request;
        try {
            request = dispatcher.submit(this, scoring.session(), encoded.windows(), false, p);
        } catch (RuntimeException e) {
            p.fail(RowScoring.runFailure(e));
            return p.future;
        }
        p.request = request;
        if (p.future.isDone()) {
            request.cancel(); // timed out before the submission returned: nobody waits for this run
        }
        return p.future;
    }

    @Override
    public void close() {
        if (dispatcher != null) {
            dispatcher.cancelAll(this);
            dispatcher.release();
            dispatcher = null;
        }
        if (pending != null) {
            // Flink discards the rows still in flight when it closes the function (cancel or failure; at the end of
            // the input it waits for them first). Failing their futures would only log each input row.
            pending.clear();
        }
        if (timeouts != null) {
            timeouts.shutdownNow();
            timeouts = null;
        }
        if (lease != null) {
            lease.close();
            lease = null;
        }
    }

    /** One row in the dispatcher: its future, request and timer. */
    private final class Pending implements BatchDispatcher.Callback {
        final CompletableFuture<Collection<RowData>> future = new CompletableFuture<>();
        final boolean truncated;
        volatile BatchDispatcher.Request request;
        volatile ScheduledFuture<?> timer;

        Pending(boolean truncated) {
            this.truncated = truncated;
        }

        @Override
        public void started() {}

        @Override
        public void finished(
                List<Prediction> predictions,
                Throwable error,
                long runNanos,
                int jointRows,
                long jointPaddedTokens,
                long queuedNanos) {
            metrics.ran(jointRows, runNanos, queuedNanos);
            if (error != null) {
                fail(RowScoring.runFailure(error));
                return;
            }
            RowData row;
            try {
                row = scoring.prediction(predictions, truncated);
            } catch (RuntimeException e) {
                fail(RowScoring.runFailure(e));
                return;
            }
            if (done()) {
                metrics.truncated(truncated);
                metrics.out(false);
                future.complete(List.of(row));
            }
        }

        void timedOut() {
            if (!done()) {
                return; // the result or close came first
            }
            metrics.timeout();
            BatchDispatcher.Request r = request;
            if (r != null) {
                r.cancel(); // a run that has already taken it still finishes; its result is then ignored
            }
            emitFailure(new RowScoring.RowFailure(
                    ScoringFailure.INFERENCE_TIMEOUT,
                    "not scored within 'inference.timeout' = " + settings.inferenceTimeout(),
                    null));
        }

        void fail(RowScoring.RowFailure failure) {
            if (done()) {
                emitFailure(failure);
            }
        }

        /** The error row, or (error mode FAIL) the failure of the query. */
        private void emitFailure(RowScoring.RowFailure failure) {
            metrics.out(true);
            RowData row;
            try {
                row = scoring.failure(failure);
            } catch (RowScoring.QueryFailure failQuery) {
                failed = failQuery;
                row = new FailingRow(settings.columns().size(), failQuery);
            }
            future.complete(List.of(row));
        }

        /** True for the first of result, failure, timeout and close to arrive: it alone completes the future. */
        private boolean done() {
            if (!pending.remove(this)) {
                return false;
            }
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
            }
            return true;
        }
    }
}
