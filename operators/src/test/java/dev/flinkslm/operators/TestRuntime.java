package dev.flinkslm.operators;

import dev.flinkslm.models.EncodedText;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.ScoringException;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.operators.internal.InferenceRuntime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic {@link InferenceRuntime}: time stands still until the test advances it, and
 * inference calls can be made to hang (like a stuck ONNX Runtime call) until the test releases them.
 * Pools are real threads, so "running" and "returned" are real; only time is manual.
 */
final class TestRuntime implements InferenceRuntime {

    private static final long serialVersionUID = 1L;

    private final transient Object lock = new Object();
    private transient long now;
    private final transient List<Task> tasks = new ArrayList<>();
    private final transient List<ExecutorService> pools = new ArrayList<>();
    private final transient List<CountDownLatch> hung = new ArrayList<>();
    private transient volatile boolean hang;
    private transient volatile long nanosPerPaddedToken;
    private final transient AtomicInteger failures = new AtomicInteger();
    private final transient AtomicInteger calls = new AtomicInteger();
    private final transient AtomicInteger running = new AtomicInteger();

    private record Task(long due, Runnable run, boolean[] cancelled) {}

    @Override
    public java.util.concurrent.ThreadPoolExecutor newPool(String name, int threads) {
        java.util.concurrent.ThreadPoolExecutor pool = DEFAULT.newPool(name, threads);
        synchronized (lock) {
            pools.add(pool);
        }
        return pool;
    }

    @Override
    public Scheduler newScheduler(String name) {
        return new Scheduler() {
            @Override
            public Cancellable schedule(Runnable task, long delayNanos) {
                if (delayNanos <= 0) {
                    task.run(); // due now, as a real scheduler would run it
                    return () -> {};
                }
                boolean[] cancelled = {false};
                synchronized (lock) {
                    tasks.add(new Task(now + delayNanos, task, cancelled));
                }
                return () -> {
                    synchronized (lock) {
                        cancelled[0] = true;
                    }
                };
            }

            @Override
            public void shutdown() {}
        };
    }

    @Override
    public long nanoTime() {
        synchronized (lock) {
            return now;
        }
    }

    @Override
    public List<Prediction> score(ScoringSession session, List<EncodedText> rows) throws ScoringException {
        calls.incrementAndGet();
        running.incrementAndGet();
        try {
            if (hang) {
                CountDownLatch latch = new CountDownLatch(1);
                synchronized (lock) {
                    hung.add(latch);
                }
                try {
                    latch.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new ScoringException(ScoringException.Kind.INFERENCE_FAILED, "injected failure of a run", null);
            }
            List<Prediction> predictions = session.score(rows);
            long cost = nanosPerPaddedToken;
            if (cost > 0) {
                int longest = rows.stream().mapToInt(EncodedText::length).max().orElse(0);
                synchronized (lock) {
                    now += cost * rows.size() * longest; // the clock only: scheduled tasks wait for advance()
                }
            }
            return predictions;
        } finally {
            running.decrementAndGet();
        }
    }

    /** From now on, every run moves the clock on by this much per padded token (rows x longest row). */
    void costPerPaddedToken(Duration cost) {
        nanosPerPaddedToken = cost.toNanos();
    }

    /** The next {@code n} runs fail (after any hang) as a failing ONNX Runtime call would. */
    void failNext(int n) {
        failures.set(n);
    }

    /** From now on, inference calls block until {@link #releaseHung()}. */
    void hang(boolean value) {
        hang = value;
    }

    /** Inference calls blocked right now. */
    int hungCalls() {
        synchronized (lock) {
            return (int) hung.stream().filter(l -> l.getCount() > 0).count();
        }
    }

    int calls() {
        return calls.get();
    }

    int running() {
        return running.get();
    }

    void releaseHung() {
        synchronized (lock) {
            hung.forEach(CountDownLatch::countDown);
            hung.clear();
        }
    }

    /** Advances the clock and runs the scheduled tasks that are due, on the calling thread. */
    void advance(Duration by) {
        List<Runnable> due = new ArrayList<>();
        synchronized (lock) {
            now += by.toNanos();
            for (Iterator<Task> it = tasks.iterator(); it.hasNext(); ) {
                Task t = it.next();
                if (t.cancelled()[0]) {
                    it.remove();
                } else if (t.due() <= now) {
                    due.add(t.run());
                    it.remove();
                }
            }
        }
        due.forEach(Runnable::run);
    }

    /** Releases hung calls and stops the pools. */
    void shutdown() throws InterruptedException {
        releaseHung();
        List<ExecutorService> all;
        synchronized (lock) {
            all = new ArrayList<>(pools);
        }
        for (ExecutorService p : all) {
            p.shutdownNow();
            p.awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
