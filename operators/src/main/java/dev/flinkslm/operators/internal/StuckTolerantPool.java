package dev.flinkslm.operators.internal;

import org.apache.flink.annotation.Internal;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pool for work that can hang in native code or on a stalled file system (loading a model),
 * where a timed-out task keeps its thread because it cannot be interrupted. Each task's timeout
 * counts from submission, so a task queued behind stuck ones times out too instead of waiting
 * forever; a task that times out while running is "stuck", and the pool gets one thread more for
 * as long as it is (up to {@code maxStuck}), so one hung artifact never starves the others.
 *
 * <p>Threading: {@link #execute} and {@link Task#timeOut} may be called from any thread.
 */
@Internal
public final class StuckTolerantPool {

    private final ThreadPoolExecutor executor;
    private final int threads;
    private final int maxStuck;
    private final AtomicInteger stuck = new AtomicInteger();

    public StuckTolerantPool(InferenceRuntime runtime, String name, int threads, int maxStuck) {
        this.executor = runtime.newPool(name, threads);
        this.threads = threads;
        this.maxStuck = maxStuck;
    }

    /** What a timeout found. */
    public enum Timeout {
        FINISHED,
        QUEUED,
        STUCK
    }

    /** A submitted task: it runs at most once, and {@link #timeOut} decides what a timeout means for it. */
    public final class Task {
        private static final int QUEUED = 0;
        private static final int RUNNING = 1;
        private static final int DONE = 2;
        private static final int ABANDONED = 3;
        private static final int STUCK = 4;

        private final AtomicInteger state = new AtomicInteger(QUEUED);
        private final Runnable work;

        private Task(Runnable work) {
            this.work = work;
        }

        private void run() {
            if (!state.compareAndSet(QUEUED, RUNNING)) {
                return; // timed out while queued: never started
            }
            try {
                work.run();
            } finally {
                if (!state.compareAndSet(RUNNING, DONE) && state.compareAndSet(STUCK, DONE)) {
                    resize(stuck.decrementAndGet());
                }
            }
        }

        /**
         * The task's time is up. A queued task will not start ({@link Timeout#QUEUED}); a running one
         * keeps its thread, and the pool adds one in its place while it runs ({@link Timeout#STUCK});
         * {@link Timeout#FINISHED} when it had already finished.
         */
        public Timeout timeOut() {
            if (state.compareAndSet(QUEUED, ABANDONED)) {
                executor.remove(runnable);
                return Timeout.QUEUED;
            }
            if (state.compareAndSet(RUNNING, STUCK)) {
                resize(stuck.incrementAndGet());
                return Timeout.STUCK;
            }
            return Timeout.FINISHED;
        }

        private final Runnable runnable = this::run;
    }

    /** A task for {@code work}, not yet queued: arm its timeout, then {@link #execute} it. */
    public Task task(Runnable work) {
        return new Task(work);
    }

    /** Queues the task; throws {@link RejectedExecutionException} once the pool is shut down. */
    public void execute(Task task) {
        executor.execute(task.runnable);
    }

    /** Tasks that timed out while running and still hold their thread. */
    public int stuck() {
        return stuck.get();
    }

    private synchronized void resize(int stuckNow) {
        int size = threads + Math.max(0, Math.min(maxStuck, stuckNow));
        if (size > executor.getMaximumPoolSize()) {
            executor.setMaximumPoolSize(size);
            executor.setCorePoolSize(size);
        } else {
            executor.setCorePoolSize(size);
            executor.setMaximumPoolSize(size);
        }
    }

    public void shutdownNow() {
        executor.shutdownNow();
    }
}
