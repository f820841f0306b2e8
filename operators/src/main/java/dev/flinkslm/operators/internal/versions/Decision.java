package dev.flinkslm.operators.internal.versions;

import org.apache.flink.annotation.Internal;

/**
 * Whether a command was applied to the rule log, and why not. Immutable.
 *
 * @param accepted whether the rule log changed
 * @param reasonCode for a rejection, one of the {@code ModelAudit} reason codes
 * @param reason for a rejection, what was wrong and what to do
 * @param epoch the rule log's epoch after the command
 */
@Internal
public record Decision(boolean accepted, String reasonCode, String reason, long epoch) {

    static Decision accepted(long epoch) {
        return new Decision(true, null, null, epoch);
    }

    static Decision rejected(String code, String reason, long epoch) {
        return new Decision(false, code, reason, epoch);
    }
}
