package dev.flinkslm.operators.internal.versions;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.internal.ModelSlot;
import dev.flinkslm.operators.internal.VersionLoading;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import org.apache.flink.annotation.Internal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stamps a command with what the rule log needs to decide it: for a well-formed DEPLOY, the bundle
 * is loaded and admitted exactly as a subtask would load it (checksums, graph, warm-up, golden
 * examples), and the command records the version the bundle is, or why it is not admissible. Other
 * commands pass unchanged. Blocking; thread-safe.
 */
@Internal
public final class Admission {

    private static final Logger LOG = LoggerFactory.getLogger(Admission.class);

    private final ScoringConfig config;
    private final BundleLoader loader;
    private final String jobId;

    public Admission(ScoringConfig config, String jobId) {
        this.config = config;
        this.loader = config.bundleLoader();
        this.jobId = jobId;
    }

    /** Whether {@link #admit} would load a bundle for this command (a well-formed DEPLOY). */
    public boolean needsBundle(ModelCommand command) {
        return command != null
                && command.actionValue() == ModelCommand.Action.DEPLOY
                && command.problems(config.versions().limits().maxKeysPerCommand())
                        .isEmpty();
    }

    public AdmittedCommand admit(ModelCommand command, long receivedAt) {
        AdmittedCommand admitted = AdmittedCommand.of(command, receivedAt);
        if (!needsBundle(command)) {
            return admitted; // decided by the rule log alone (a malformed command is rejected there)
        }
        ModelSlot slot = null;
        try {
            slot = VersionLoading.loadAndAdmit(
                    loader,
                    new ModelRef(null, null, command.uri, command.sha256),
                    config.runtime(),
                    jobId,
                    config.versions().admissionTimeout());
            LOG.info(
                    "Model command {} admitted {} from {}",
                    command.commandId,
                    slot.name(),
                    dev.flinkslm.models.ModelRoots.redact(command.uri));
            return admitted.admitted(
                    slot.version(), slot.ref().uri(), slot.ref().sha256());
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

    /** The record of a DEPLOY whose admission did not finish within the load timeout. */
    public AdmittedCommand timedOut(ModelCommand command, long receivedAt) {
        return AdmittedCommand.of(command, receivedAt)
                .rejected(
                        ModelAudit.ADMISSION_TIMEOUT,
                        "the bundle was not loaded and admitted within "
                                + config.versions().admissionTimeout().toMillis()
                                + " ms (slm.versions.admission-timeout); the artifact may be on a stalled file system");
    }
}
