package dev.flinkslm.operators.internal.versions;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.internal.InferenceRuntime;
import dev.flinkslm.operators.internal.ModelSlot;
import dev.flinkslm.operators.internal.VersionLoading;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;

/**
 * The admission stage of the control stream: runs once (parallelism 1, in Flink's ordered async
 * operator, which checkpoints commands in flight) before commands are broadcast to the scoring
 * subtasks. A well-formed DEPLOY's bundle is loaded and admitted here exactly as a subtask would
 * (checksums, graph, warm-up, golden examples), and the command is stamped with the version the
 * bundle is, or with why it is not admissible. So whether a DEPLOY is accepted depends on the
 * bundle's content and the command log only, never on how far one subtask got with loading, and a
 * bundle that fails admission for a content reason is rejected everywhere.
 *
 * <p>Threading: {@link #asyncInvoke} runs on the task thread and hands DEPLOYs to a small pool;
 * the pool's lease is always released before the result is completed.
 */
public final class CommandAdmission extends RichAsyncFunction<ModelCommand, AdmittedCommand> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(CommandAdmission.class);

    private final ScoringConfig config;
    private final InferenceRuntime runtime;
    private transient BundleLoader loader;
    private transient ExecutorService pool;
    private transient String jobId;

    public CommandAdmission(ScoringConfig config, InferenceRuntime runtime) {
        this.config = config;
        this.runtime = runtime;
    }

    @Override
    public void open(OpenContext context) {
        loader = BundleLoader.builder().roots(config.roots()).build();
        pool = runtime.newPool("slm-admission " + getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks(),
                config.versions().loadThreads());
        jobId = getRuntimeContext().getJobInfo().getJobId().toString();
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    @Override
    public void asyncInvoke(ModelCommand command, ResultFuture<AdmittedCommand> result) {
        AdmittedCommand admitted = AdmittedCommand.of(command, System.currentTimeMillis());
        if (command == null || command.actionValue() != ModelCommand.Action.DEPLOY
                || !command.problems(config.versions().limits().maxKeysPerCommand()).isEmpty()) {
            // Decided by the rule log alone (or malformed: the rule log rejects it with the reason).
            result.complete(List.of(admitted));
            return;
        }
        try {
            pool.execute(() -> result.complete(List.of(admit(command, admitted))));
        } catch (RejectedExecutionException closing) {
            result.completeExceptionally(closing);
        }
    }

    private AdmittedCommand admit(ModelCommand command, AdmittedCommand admitted) {
        ModelSlot slot = null;
        try {
            slot = VersionLoading.loadAndAdmit(loader, new ModelRef(null, null, command.uri, command.sha256),
                    config.runtime(), jobId);
            LOG.info("Model command {} admitted {} from {}", command.commandId, slot.name(), command.uri);
            return admitted.admitted(slot.version(), slot.ref().uri(), slot.ref().sha256());
        } catch (BundleException e) {
            LOG.info("Model command {} not admitted: {}", command.commandId, e.getMessage());
            return admitted.rejected(ModelAudit.ADMISSION_FAILED, e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("Model command {} not admitted", command.commandId, e);
            return admitted.rejected(ModelAudit.ADMISSION_FAILED, e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
            if (slot != null) {
                slot.release();
            }
        }
    }

    @Override
    public void timeout(ModelCommand command, ResultFuture<AdmittedCommand> result) {
        LOG.warn("Model command {} not admitted within {} ms", command.commandId,
                config.versions().loadTimeout().toMillis());
        result.complete(List.of(AdmittedCommand.of(command, System.currentTimeMillis()).rejected(
                ModelAudit.ADMISSION_TIMEOUT, "the bundle was not loaded and admitted within "
                        + config.versions().loadTimeout().toMillis() + " ms (slm.versions.load-timeout)")));
    }
}
