package dev.flinkslm.operators.internal;

import org.apache.flink.annotation.Internal;

import java.io.Serializable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where the scoring core runs its work and keeps its time: the inference and loader thread pools and
 * a scheduler for timeouts and backoffs. The default uses daemon threads owned by one operator
 * instance and shut down in {@code close()}; tests substitute a deterministic one (a hand-driven
 * executor and clock) so that timeouts and retries are reproducible.
 *
 * <p>Timers of this scheduler are not Flink processing-time timers on purpose: those are quiesced
 * before {@code finish()}, and a retry or timeout that never fires would hang the drain.
 */
@Internal
public interface InferenceRuntime extends Serializable {

    /** A pool of {@code threads} threads named after {@code name}. */
    ThreadPoolExecutor newPool(String name, int threads);

    /** A scheduler for delayed tasks (they run on the scheduler's thread and must only post mails). */
    Scheduler newScheduler(String name);

    /** Nanosecond clock used for measured durations. */
    long nanoTime();

    /** Runs one batch on an inference thread. */
    default java.util.List<dev.flinkslm.models.Prediction> score(
            dev.flinkslm.models.ScoringSession session, java.util.List<dev.flinkslm.models.EncodedText> rows)
            throws dev.flinkslm.models.ScoringException {
        return session.score(rows);
    }

    /** Runs delayed tasks. Thread-safe. */
    interface Scheduler {
        /** Runs {@code task} after {@code delayNanos}; the handle cancels it. */
        Cancellable schedule(Runnable task, long delayNanos);

        void shutdown();
    }

    /** A handle on a scheduled task. */
    interface Cancellable {
        void cancel();
    }

    /** Daemon threads per operator instance; {@link System#nanoTime()}. */
    InferenceRuntime DEFAULT = new InferenceRuntime() {
        private static final long serialVersionUID = 1L;

        @Override
        public ThreadPoolExecutor newPool(String name, int threads) {
            AtomicInteger ids = new AtomicInteger();
            return new ThreadPoolExecutor(
                    threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
                        Thread t = new Thread(r, name + "-" + ids.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
        }

        @Override
        public Scheduler newScheduler(String name) {
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            });
            executor.setRemoveOnCancelPolicy(true);
            return new Scheduler() {
                @Override
                public Cancellable schedule(Runnable task, long delayNanos) {
                    try {
                        var future = executor.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
                        return () -> future.cancel(false);
                    } catch (java.util.concurrent.RejectedExecutionException shutDown) {
                        return () -> {};
                    }
                }

                @Override
                public void shutdown() {
                    executor.shutdownNow();
                }
            };
        }

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        private Object readResolve() {
            return DEFAULT;
        }
    };
}
