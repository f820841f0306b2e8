package dev.flinkslm.operators.internal.versions;

import dev.flinkslm.operators.versions.ModelCommand;
import org.apache.flink.annotation.Internal;

/**
 * A command after the admission stage, which runs once (parallelism 1) before the command is
 * broadcast: for a DEPLOY it names the version the bundle turned out to be, or why the bundle was
 * not admitted. Everything a subtask decides about the command is a function of this record and the
 * rule log, so every subtask decides the same.
 *
 * <p>A Flink POJO. Mutable; confine an instance to one thread.
 */
@Internal
public class AdmittedCommand {

    public ModelCommand command;
    /** For an admitted DEPLOY: the bundle's id, version, normalised URI and manifest SHA-256. */
    public String modelId;

    public String version;
    public String uri;
    public String sha256;
    /** When admission rejected the bundle: a {@code ModelAudit} reason code and the reason. */
    public String rejectionCode;

    public String rejection;
    /** When the admission stage received the command (epoch ms); the clock of id retention. */
    public long receivedAt;

    public AdmittedCommand() {}

    public static AdmittedCommand of(ModelCommand command, long receivedAt) {
        AdmittedCommand a = new AdmittedCommand();
        a.command = command;
        a.receivedAt = receivedAt;
        return a;
    }

    public AdmittedCommand admitted(VersionKey version, String uri, String sha256) {
        this.modelId = version.id();
        this.version = version.version();
        this.uri = uri;
        this.sha256 = sha256;
        return this;
    }

    public AdmittedCommand rejected(String code, String reason) {
        this.rejectionCode = code;
        this.rejection = reason;
        return this;
    }

    @Override
    public String toString() {
        return "AdmittedCommand{" + command + (modelId == null ? "" : " as " + modelId + ":" + version)
                + (rejectionCode == null ? "" : " rejected " + rejectionCode) + "}";
    }
}
