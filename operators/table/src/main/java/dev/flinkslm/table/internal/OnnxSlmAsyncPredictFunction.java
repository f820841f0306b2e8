package dev.flinkslm.table.internal;

import dev.flinkslm.models.EncodedInput;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.dispatch.BatchDispatcher;
import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Async ML_PREDICT: hands each row (its text windows) to the TaskManager's {@link BatchDispatcher}, which joins
 * the rows of all concurrent calls, of every subtask of this JVM that uses the same session and caps, into joint
 * session runs. Each call's future completes with exactly one row, or fails (error mode FAIL).
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

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData input) {
        metrics.in();
        Pending p = new Pending();
        pending.add(p);
        EncodedInput encoded;
        try {
            encoded = scoring.encode(input);
        } catch (RowScoring.RowFailure failure) {
            p.fail(failure);
            return p.future;
        }
        p.request = dispatcher.submit(this, scoring.session(), encoded.windows(), false, p);
        long timeoutNanos = settings.inferenceTimeout().toNanos();
        if (timeoutNanos > 0) {
            p.timer = timeouts.schedule(p::timedOut, timeoutNanos, TimeUnit.NANOSECONDS);
            if (p.future.isDone()) {
                p.timer.cancel(false); // the run finished before the timer was set
            }
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
            for (Pending p : List.copyOf(pending)) {
                if (pending.remove(p)) {
                    p.future.completeExceptionally(new CancellationException("the ML_PREDICT function was closed"));
                }
            }
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
        volatile BatchDispatcher.Request request;
        volatile ScheduledFuture<?> timer;

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
                row = scoring.prediction(predictions);
            } catch (RuntimeException e) {
                fail(RowScoring.runFailure(e));
                return;
            }
            complete(row, false);
        }

        void timedOut() {
            if (future.isDone()) {
                return;
            }
            BatchDispatcher.Request r = request;
            if (r != null) {
                r.cancel(); // a run that has already taken it still finishes; its result is then ignored
            }
            metrics.timeout();
            fail(new RowScoring.RowFailure(
                    ScoringFailure.INFERENCE_TIMEOUT,
                    "not scored within 'inference.timeout' = " + settings.inferenceTimeout(),
                    null));
        }

        void fail(RowScoring.RowFailure failure) {
            RowData row;
            try {
                row = scoring.failure(failure);
            } catch (RuntimeException failQuery) {
                if (done()) {
                    metrics.out(true);
                    future.completeExceptionally(failQuery);
                }
                return;
            }
            complete(row, true);
        }

        private void complete(RowData row, boolean error) {
            if (done()) {
                metrics.out(error);
                future.complete(List.of(row));
            }
        }

        /** True for the first of result, timeout and close to arrive: it completes the future. */
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
