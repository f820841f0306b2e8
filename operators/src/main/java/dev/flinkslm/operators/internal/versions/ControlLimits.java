package dev.flinkslm.operators.internal.versions;

import org.apache.flink.annotation.Internal;

import java.io.Serializable;
import java.time.Duration;

/**
 * Bounds of the rule log, so that no sequence of commands can grow broadcast state without limit.
 * See {@code ScoringOptions} for the options and defaults. Immutable.
 *
 * @param maxRules deployments the log may hold
 * @param maxKeysPerCommand keys one DEPLOY may list
 * @param maxRuleKeys keys all deployments together may list
 * @param maxRuleBytes largest serialized size of the rule log (broadcast state of every subtask); the rules
 *     may take 3/4 of it, remembered command ids the rest
 * @param history versions that served all keys that are kept for ROLLBACK
 * @param commandIdRetention accepted command ids remembered for duplicate detection
 * @param commandIdMaxAge how long an accepted command id is remembered
 * @param catalogSize versions no rule routes to that stay known (for PROMOTE and messages)
 */
@Internal
public record ControlLimits(
        int maxRules,
        int maxKeysPerCommand,
        int maxRuleKeys,
        long maxRuleBytes,
        int history,
        int commandIdRetention,
        Duration commandIdMaxAge,
        int catalogSize)
        implements Serializable {

    public static ControlLimits defaults() {
        return new ControlLimits(100, 10_000, 100_000, 4L << 20, 8, 10_000, Duration.ofDays(7), 32);
    }
}
