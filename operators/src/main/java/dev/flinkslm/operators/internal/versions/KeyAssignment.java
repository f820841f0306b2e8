package dev.flinkslm.operators.internal.versions;

/**
 * What keyed state remembers per key: the routing fold's answer at a rule-log epoch (a cache, so the
 * fold runs once per key and rule change) and the version that last served the key on this subtask
 * (which keeps serving it while the key's new version is still loading here). Losing it (TTL) changes
 * nothing in steady state: it is recomputed from the rules on the key's next event.
 *
 * <p>A Flink POJO with explicit field types (no Kryo). Mutable; task thread only.
 */
public class KeyAssignment {

    /** Layout of this record; a new layout gets a new state name. */
    public static final int FORMAT = 1;

    public long epoch = -1;
    /** Target: serving version ({@code id:version}), its variant and deployment command, shadow version. */
    public String target;
    public String targetVariant;
    public String targetRule;
    public String shadow;
    /** The version that served the key's last element on this subtask, and in which variant. */
    public String served;
    public String servedVariant;

    public KeyAssignment() {}

    @Override
    public String toString() {
        return "KeyAssignment{epoch=" + epoch + " target=" + target + "/" + targetVariant + " served=" + served + "}";
    }
}
