package dev.flinkslm.operators.versions;

import org.apache.flink.annotation.PublicEvolving;

/**
 * One entry of the model audit trail, on the operator's audit side output.
 *
 * <p>Every command on the control stream gets exactly one command-level record, {@link #ACCEPTED}
 * or {@link #REJECTED} (with {@link #reasonCode} and {@link #reason}); {@link #subtask} is null on
 * those. The decision is a pure function of the command log and the admitted bundle, so every
 * subtask takes the same one; subtask 0 reports it. Loading is local to each subtask, which reports
 * its own {@link #LOADED}, {@link #LOAD_FAILED}, {@link #READY} and {@link #RELEASED} records with
 * its index in {@link #subtask}. The schema is documented in {@code docs/model-versions.md}.
 *
 * <p>A Flink POJO. Mutable; confine an instance to one thread.
 */
@PublicEvolving
public class ModelAudit {

    /** Command-level: the command was applied to the rule log. */
    public static final String ACCEPTED = "ACCEPTED";
    /** Command-level: the command was not applied; {@link #reasonCode} says why. */
    public static final String REJECTED = "REJECTED";
    /** Per subtask: a version was loaded and admitted (checksums, graph, warm-up, golden examples). */
    public static final String LOADED = "LOADED";
    /** Per subtask: loading a version failed here; it is retried with backoff while it is needed. */
    public static final String LOAD_FAILED = "LOAD_FAILED";
    /** Per subtask: everything the rule log needs after this command is loaded here; it is in force. */
    public static final String READY = "READY";
    /** Per subtask: a version no rule needs any more was unloaded here. */
    public static final String RELEASED = "RELEASED";

    /** Reason codes of {@link #REJECTED} and {@link #LOAD_FAILED} records. */
    public static final String INVALID_COMMAND = "INVALID_COMMAND";

    public static final String DUPLICATE_COMMAND = "DUPLICATE_COMMAND";
    public static final String ADMISSION_FAILED = "ADMISSION_FAILED";
    public static final String ADMISSION_TIMEOUT = "ADMISSION_TIMEOUT";
    public static final String VERSION_MISMATCH = "VERSION_MISMATCH";
    public static final String CONFLICTING_CONTENT = "CONFLICTING_CONTENT";
    public static final String UNKNOWN_VERSION = "UNKNOWN_VERSION";
    public static final String VERSION_RETIRED = "VERSION_RETIRED";
    public static final String STILL_ROUTED = "STILL_ROUTED";
    public static final String NOTHING_TO_ROLL_BACK = "NOTHING_TO_ROLL_BACK";
    public static final String RULE_LIMIT = "RULE_LIMIT";
    public static final String LOAD_TIMEOUT = "LOAD_TIMEOUT";

    /** The command's id (null when a malformed command had none). */
    public String commandId;
    /** The command's action as written (DEPLOY, PROMOTE, ROLLBACK, RETIRE), or null. */
    public String action;
    /** One of the outcome constants above. */
    public String outcome;
    /** For REJECTED and LOAD_FAILED: one of the reason codes above. */
    public String reasonCode;
    /** Why, in words (never event data). */
    public String reason;
    /** The version the record is about ({@code modelId} and {@code version}), when there is one. */
    public String modelId;

    public String version;
    /** Where the version is loaded from and the SHA-256 of its manifest, when known. */
    public String uri;

    public String sha256;
    /** The deployment role (ACTIVE, CANARY, SHADOW) for DEPLOY. */
    public String role;
    /** The deployment's targets in short form: {@code all}, {@code keys:<n>}, {@code percent:<p>}. */
    public String scope;
    /** The command's source position (topic/partition/offset or file:line) when the connector set one. */
    public String source;
    /** Who issued the command, as it says. */
    public String issuedBy;
    /**
     * Command-level records: true when the command was read again from the command topic's history by a job that
     * started without its state; the original command is at {@link #source}, and its first audit record is the
     * original outcome. The routing a replay produces is the same (the rules are a function of the commands).
     */
    public boolean replay;
    /** The reporting subtask for per-subtask records; null for command-level records. */
    public Integer subtask;
    /** The rule log's epoch after the command (command-level) or the epoch now in force (per subtask). */
    public long epoch;
    /** For LOAD_FAILED: the attempt that failed (1 = first). */
    public int attempt;
    /** Epoch milliseconds when the record was made. */
    public long timestamp;

    public ModelAudit() {}

    @Override
    public String toString() {
        return "ModelAudit{" + outcome + (reasonCode == null ? "" : "/" + reasonCode) + " " + commandId + " " + action
                + (modelId == null ? "" : " " + modelId + ":" + version)
                + (subtask == null ? "" : " subtask=" + subtask)
                + " epoch=" + epoch + (reason == null ? "" : " reason=" + reason) + "}";
    }
}
