package dev.flinkslm.operators.internal.versions;

/**
 * What keyed state remembers per key: the routing fold's answer at a rule-log epoch, so the fold runs
 * once per key and rule change. It is a pure function of the rules and the key, so losing it (TTL)
 * changes nothing: it is recomputed from the rules on the key's next event.
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

    public KeyAssignment() {}

    @Override
    public String toString() {
        return "KeyAssignment{epoch=" + epoch + " target=" + target + "/" + targetVariant + "}";
    }
}
