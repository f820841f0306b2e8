package dev.flinkslm.tests;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Identity map that fails exactly once, after a checkpoint has completed and 20 more records went
 * through: those records are in an uncommitted transaction (or in-progress file) that must be
 * discarded and replayed. Until the failure it slows records down (25 ms each until a checkpoint
 * completed, 5 ms after) so that the first attempt spans several checkpoints even for small inputs.
 *
 * <p>Coordinated through static flags because the MiniCluster runs in the test JVM: call
 * {@link #reset()} before each job. Not for parallel test execution.
 */
public final class FailOnceAfterCheckpoint<T> extends RichMapFunction<T, T> implements CheckpointListener {

    private static final long serialVersionUID = 1L;
    private static final AtomicBoolean CHECKPOINT_COMPLETED = new AtomicBoolean();
    private static final AtomicBoolean FAILED = new AtomicBoolean();

    private int sinceCheckpoint;

    public static void reset() {
        CHECKPOINT_COMPLETED.set(false);
        FAILED.set(false);
    }

    /** True once the failure has been thrown. */
    public static boolean failed() {
        return FAILED.get();
    }

    @Override
    public T map(T value) throws Exception {
        if (!FAILED.get()) {
            // Slower until the first checkpoint completes: downstream tasks (RocksDB, model load) may
            // take seconds to start on a busy machine, and no checkpoint completes before they run.
            Thread.sleep(CHECKPOINT_COMPLETED.get() ? 5 : 25);
            if (CHECKPOINT_COMPLETED.get() && ++sinceCheckpoint >= 20 && FAILED.compareAndSet(false, true)) {
                throw new RuntimeException("injected failure after a completed checkpoint");
            }
        }
        return value;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        CHECKPOINT_COMPLETED.set(true);
    }
}
