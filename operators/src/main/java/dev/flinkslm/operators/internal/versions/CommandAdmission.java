package dev.flinkslm.operators.internal.versions;

import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.internal.InferenceRuntime;
import dev.flinkslm.operators.internal.StuckTolerantPool;
import dev.flinkslm.operators.versions.ModelCommand;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;

/**
 * The admission stage of the control stream: {@link Admission} in Flink's ordered async operator
 * (parallelism 1, commands in flight are checkpointed), before commands are broadcast to the scoring
 * subtasks. So whether a DEPLOY is accepted depends on the bundle's content and the command log
 * only, never on how far one subtask got with loading, and a bundle that fails admission for a
 * content reason is rejected everywhere. A DEPLOY not admitted within
 * {@code slm.versions.admission-timeout} is rejected; an admission stuck on a stalled artifact keeps
 * its thread, which the pool replaces, so later DEPLOYs are not held up by it.
 *
 * <p>Threading: {@link #asyncInvoke} and {@link #timeout} run on the task thread and hand DEPLOYs to
 * a small pool.
 */
@Internal
public final class CommandAdmission extends RichAsyncFunction<ModelCommand, AdmittedCommand> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(CommandAdmission.class);

    /** Admissions that hang (and keep their threads) the pool replaces by extra threads, at most. */
    private static final int MAX_STUCK = 8;

    private final ScoringConfig config;
    private final InferenceRuntime runtime;
    private transient Admission admission;
    private transient StuckTolerantPool pool;
    private transient Map<ModelCommand, StuckTolerantPool.Task> running;

    public CommandAdmission(ScoringConfig config, InferenceRuntime runtime) {
        this.config = config;
        this.runtime = runtime;
    }

    @Override
    public void open(OpenContext context) {
        admission = new Admission(
                config, getRuntimeContext().getJobInfo().getJobId().toString());
        pool = new StuckTolerantPool(
                runtime,
                "slm-admission " + getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks(),
                config.versions().loadThreads(),
                MAX_STUCK);
        running = new IdentityHashMap<>();
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    @Override
    public void asyncInvoke(ModelCommand command, ResultFuture<AdmittedCommand> result) {
        long receivedAt = System.currentTimeMillis();
        if (!admission.needsBundle(command)) {
            result.complete(List.of(admission.admit(command, receivedAt)));
            return;
        }
        StuckTolerantPool.Task task = pool.task(() -> {
            result.complete(List.of(admission.admit(command, receivedAt)));
            synchronized (running) {
                running.remove(command);
            }
        });
        synchronized (running) {
            running.put(command, task);
        }
        try {
            pool.execute(task);
        } catch (RejectedExecutionException closing) {
            result.completeExceptionally(closing);
        }
    }

    @Override
    public void timeout(ModelCommand command, ResultFuture<AdmittedCommand> result) {
        StuckTolerantPool.Task task;
        synchronized (running) {
            task = running.remove(command);
        }
        if (task != null) {
            task.timeOut();
        }
        LOG.warn(
                "Model command {} not admitted within {} ms",
                command.commandId,
                config.versions().admissionTimeout().toMillis());
        result.complete(List.of(admission.timedOut(command, System.currentTimeMillis())));
    }
}
