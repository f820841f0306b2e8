package dev.flinkslm.operators.versions;

/**
 * One step in the life of a model command: what happened, to which version, when, and why.
 * A Flink POJO on the audit side output.
 */
public class ModelAudit {

    /** Outcomes. */
    public static final String ACCEPTED = "ACCEPTED";
    public static final String LOADED = "LOADED";
    public static final String LIVE = "LIVE";
    public static final String REJECTED = "REJECTED";
    public static final String PROMOTED = "PROMOTED";
    public static final String ROLLED_BACK = "ROLLED_BACK";
    public static final String RETIRED = "RETIRED";
    public static final String DUPLICATE = "DUPLICATE";
    public static final String RESTORED = "RESTORED";

    public String commandId;
    public String action;
    public String outcome;
    public String modelId;
    public String version;
    public String uri;
    public String role;
    /** Why a command was rejected, or details. */
    public String reason;
    /** Subtask that reports (loading happens on every subtask; command-level outcomes come from subtask 0). */
    public int subtask;
    /** Epoch milliseconds. */
    public long timestamp;

    public ModelAudit() {}

    @Override
    public String toString() {
        return "ModelAudit{" + commandId + " " + action + " " + outcome + " " + modelId + ":" + version
                + (reason == null ? "" : " reason=" + reason) + " subtask=" + subtask + "}";
    }
}
