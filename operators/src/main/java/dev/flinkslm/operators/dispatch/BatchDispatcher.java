package dev.flinkslm.operators.dispatch;

import dev.flinkslm.models.EncodedText;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.ScoringException;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.operators.internal.InferenceRuntime;
import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.annotation.VisibleForTesting;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;

/**
 * One dispatcher per TaskManager JVM (per setting of its caps and threads): micro-batches that scoring
 * operators of this JVM submit for the same session (model version and runtime options) are
 * coalesced into one session run, up to the caps, and each result goes back to its submitter.
 *
 * <p>A worker takes the oldest waiting request and joins to it, in submission order, every later
 * request for the same session that fits the row and padded-token caps; requests that must run alone
 * (an owner isolating a bad element) are never joined. So the run size follows the load: when the
 * device is free a request runs at once, and while every worker is busy requests pile up and the
 * next run takes them all.
 *
 * <p>The dispatcher owns no element: each operator keeps its elements, their state at checkpoints,
 * and its retry, timeout and isolation logic; a request is only rows in and predictions out. When a
 * joint run fails, every part gets the failure for its owner's own handling. The one exception is an
 * invalid model output: it belongs to some row, so the parts go back to the head of the queue to run
 * alone, on whichever worker is free, and each owner learns its own outcome (otherwise one bad row
 * would fail its neighbours from other subtasks). Each such run calls {@link Callback#started()}
 * again, so that an owner's timeout covers one run, not the whole sequence.
 *
 * <p>Used by the scoring operators (with {@code slm.dispatcher.enabled}) and by the SQL model functions of
 * {@code flink-slm-table}; other integrations may use it the same way: {@link #acquire} in {@code open()},
 * {@link #submit} per batch, {@link #cancelAll} and {@link #release} in {@code close()}.
 *
 * <p>Threading: {@link #submit} and {@link Request#cancel} from any task thread; callbacks run on a
 * worker and must only hand work to their owner's mailbox.
 */
@PublicEvolving
public final class BatchDispatcher {

    private static final Logger LOG = LoggerFactory.getLogger(BatchDispatcher.class);

    /** Caps of one joint run and the number of runs at once. */
    public record Settings(int threads, int maxRows, long maxTokens) {}

    /** What a submitter hears about its request. Called on a worker thread. */
    public interface Callback {
        /** A run holding this request starts now (again, when a joint run is split after an invalid output). */
        void started();

        /**
         * The run returned: this request's predictions in order, or the failure. {@code jointRows}
         * and {@code jointPaddedTokens} describe the whole session run, {@code queuedNanos} is the
         * time from submission to its start.
         */
        void finished(
                List<Prediction> predictions,
                Throwable error,
                long runNanos,
                int jointRows,
                long jointPaddedTokens,
                long queuedNanos);
    }

    private static final Map<Settings, BatchDispatcher> SHARED = new HashMap<>();

    private final Settings settings;
    private final Object lock = new Object();
    /** Waiting requests in submission order. Guarded by {@link #lock}. */
    private final LinkedList<Request> waiting = new LinkedList<>();

    private final List<Thread> workers = new ArrayList<>();
    private int references;
    private boolean shutdown;

    private BatchDispatcher(Settings settings) {
        this.settings = settings;
    }

    /** The dispatcher of this JVM for {@code settings}, started on first use. Release it exactly once. */
    public static BatchDispatcher acquire(Settings settings) {
        synchronized (SHARED) {
            BatchDispatcher d = SHARED.computeIfAbsent(settings, BatchDispatcher::new);
            if (d.references++ == 0) {
                d.start();
            }
            return d;
        }
    }

    /** Drops a reference; the last one stops the workers (a run in progress still completes). */
    public void release() {
        synchronized (SHARED) {
            if (--references > 0) {
                return;
            }
            SHARED.remove(settings);
        }
        synchronized (lock) {
            shutdown = true;
            lock.notifyAll();
        }
    }

    private void start() {
        for (int i = 0; i < settings.threads(); i++) {
            Thread t = new Thread(this::work, "slm-dispatcher-" + settings.maxRows() + "-" + (i + 1));
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    /** Queues rows of one micro-batch for {@code session}; {@code alone} keeps them out of joint runs. */
    public Request submit(
            Object owner, ScoringSession session, List<EncodedText> rows, boolean alone, Callback callback) {
        return submit(owner, session, rows, alone, InferenceRuntime.DEFAULT, callback);
    }

    /**
     * As {@link #submit(Object, ScoringSession, List, boolean, Callback)}, run through {@code runtime} (the scoring
     * operators' inference runtime, which their tests replace).
     */
    @Internal
    public Request submit(
            Object owner,
            ScoringSession session,
            List<EncodedText> rows,
            boolean alone,
            InferenceRuntime runtime,
            Callback callback) {
        int longest = 0;
        for (EncodedText row : rows) {
            longest = Math.max(longest, row.length());
        }
        Request r = new Request(owner, session, rows, longest, alone, runtime, callback);
        synchronized (lock) {
            if (shutdown) {
                throw new IllegalStateException("the batch dispatcher was released");
            }
            waiting.addLast(r);
            lock.notify();
        }
        return r;
    }

    /** Removes every waiting request of {@code owner} (a closing operator); returns how many. */
    public int cancelAll(Object owner) {
        int removed = 0;
        synchronized (lock) {
            for (Iterator<Request> it = waiting.iterator(); it.hasNext(); ) {
                if (it.next().owner == owner) {
                    it.remove();
                    removed++;
                }
            }
        }
        return removed;
    }

    @VisibleForTesting
    public int waitingRequests() {
        synchronized (lock) {
            return waiting.size();
        }
    }

    private void work() {
        while (true) {
            List<Request> run;
            synchronized (lock) {
                while (waiting.isEmpty() && !shutdown) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (waiting.isEmpty()) {
                    return; // shut down and nothing left
                }
                run = takeJointRun();
            }
            execute(run);
        }
    }

    /** The oldest request plus every later one for its session that fits the caps. Holds the lock. */
    private List<Request> takeJointRun() {
        Request first = waiting.removeFirst();
        List<Request> run = new ArrayList<>();
        run.add(first);
        if (first.alone) {
            return run;
        }
        int rows = first.rows.size();
        int longest = first.longest;
        for (Iterator<Request> it = waiting.iterator(); it.hasNext(); ) {
            Request r = it.next();
            if (r.session != first.session || r.alone) {
                continue;
            }
            int joinedRows = rows + r.rows.size();
            int joinedLongest = Math.max(longest, r.longest);
            if (joinedRows > settings.maxRows() || (long) joinedRows * joinedLongest > settings.maxTokens()) {
                continue;
            }
            it.remove();
            run.add(r);
            rows = joinedRows;
            longest = joinedLongest;
        }
        return run;
    }

    private void execute(List<Request> run) {
        long start = System.nanoTime();
        for (Request r : run) {
            try {
                r.callback.started();
            } catch (RuntimeException e) {
                LOG.warn("A scoring operator's start callback failed", e);
            }
        }
        List<EncodedText> rows;
        if (run.size() == 1) {
            rows = run.get(0).rows;
        } else {
            rows = new ArrayList<>();
            for (Request r : run) {
                rows.addAll(r.rows);
            }
        }
        InferenceRuntime runtime = run.get(0).runtime;
        long t0 = runtime.nanoTime();
        List<Prediction> predictions = null;
        Throwable error = null;
        try {
            predictions = runtime.score(run.get(0).session, rows);
        } catch (Throwable t) {
            error = t;
        }
        long took = runtime.nanoTime() - t0;
        int longest = 0;
        for (Request r : run) {
            longest = Math.max(longest, r.longest);
        }
        if (error instanceof ScoringException se
                && se.kind() == ScoringException.Kind.OUTPUT_INVALID
                && run.size() > 1) {
            LOG.debug("A joint run of {} requests had an invalid output row; running them one by one", run.size());
            synchronized (lock) {
                for (int i = run.size() - 1; i >= 0; i--) {
                    Request r = run.get(i);
                    r.alone = true;
                    waiting.addFirst(r);
                }
                lock.notifyAll();
            }
            return;
        }
        int offset = 0;
        for (Request r : run) {
            List<Prediction> own =
                    predictions == null ? null : List.copyOf(predictions.subList(offset, offset + r.rows.size()));
            offset += r.rows.size();
            finish(r, own, error, took, rows.size(), (long) rows.size() * longest, start);
        }
    }

    private static void finish(
            Request r, List<Prediction> own, Throwable error, long took, int jointRows, long jointTokens, long start) {
        try {
            r.callback.finished(own, error, took, jointRows, jointTokens, Math.max(0, start - r.submittedNanos));
        } catch (RuntimeException e) {
            LOG.warn("A scoring operator's result callback failed", e);
        }
    }

    /** One submitted micro-batch. */
    public final class Request {
        final Object owner;
        final ScoringSession session;
        final List<EncodedText> rows;
        final int longest;
        /** Never joined with others: an isolating owner's, or a part of a split joint run. Guarded by the lock. */
        boolean alone;

        final InferenceRuntime runtime;
        final Callback callback;
        final long submittedNanos = System.nanoTime();

        Request(
                Object owner,
                ScoringSession session,
                List<EncodedText> rows,
                int longest,
                boolean alone,
                InferenceRuntime runtime,
                Callback callback) {
            this.owner = owner;
            this.session = session;
            this.rows = rows;
            this.longest = longest;
            this.alone = alone;
            this.runtime = runtime;
            this.callback = callback;
        }

        /** Takes the request out if no run has taken it yet; true when it was still waiting. */
        public boolean cancel() {
            synchronized (lock) {
                return waiting.remove(this);
            }
        }
    }
}
