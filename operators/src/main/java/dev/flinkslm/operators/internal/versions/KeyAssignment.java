package dev.flinkslm.operators.internal.versions;

import org.apache.flink.annotation.Internal;

/**
 * What keyed state remembers per key: the routing fold's answer at a rule-log epoch, so the fold runs
 * once per key and rule change. It is a pure function of the rules and the key, so losing it (TTL)
 * changes nothing: it is recomputed from the rules on the key's next event.
 *
 * <p>A Flink POJO with explicit field types (no Kryo). Mutable; task thread only.
 */
@Internal
public class KeyAssignment {

    /** Layout of this record; a new layout gets a new state name. */
    public static final int FORMAT = 2;

    public long epoch = -1;
    /** Target: the serving version (model id and version), its variant and deployment command. */
    public String targetId;

    public String targetVersion;
    public String targetVariant;
    public String targetRule;
    /** The shadow version (model id and version), or nulls. */
    public String shadowId;

    public String shadowVersion;

    public KeyAssignment() {}

    @Override
    public String toString() {
        return "KeyAssignment{epoch=" + epoch + " target=" + targetId + ":" + targetVersion + "/" + targetVariant + "}";
    }
}
