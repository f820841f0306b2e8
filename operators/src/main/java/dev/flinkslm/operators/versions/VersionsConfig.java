package dev.flinkslm.operators.versions;

import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.operators.internal.versions.ControlLimits;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.time.Duration;

/**
 * The validated settings of live model versions: the bounds of the rule log, the per-key
 * assignment TTL and the per-subtask loader. Read from {@link ScoringOptions}. Immutable.
 */
@PublicEvolving
public record VersionsConfig(
        ControlLimits limits,
        int maxCommandBytes,
        Duration assignmentTtl,
        int loadThreads,
        Duration loadTimeout,
        Duration admissionTimeout,
        Duration loadRetryBackoff,
        Duration loadRetryMaxBackoff,
        MissingArtifactPolicy missingArtifact)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    public static VersionsConfig from(ReadableConfig c) {
        return new VersionsConfig(
                new ControlLimits(
                        c.get(ScoringOptions.MAX_RULES),
                        c.get(ScoringOptions.MAX_KEYS_PER_COMMAND),
                        c.get(ScoringOptions.MAX_RULE_KEYS),
                        c.get(ScoringOptions.MAX_RULE_SIZE).getBytes(),
                        c.get(ScoringOptions.HISTORY),
                        c.get(ScoringOptions.COMMAND_ID_RETENTION),
                        c.get(ScoringOptions.COMMAND_ID_MAX_AGE),
                        ControlLimits.defaults().catalogSize()),
                c.get(ScoringOptions.MAX_COMMAND_BYTES),
                c.get(ScoringOptions.ASSIGNMENT_TTL),
                c.get(ScoringOptions.LOAD_THREADS),
                c.get(ScoringOptions.LOAD_TIMEOUT),
                c.get(ScoringOptions.ADMISSION_TIMEOUT),
                c.get(ScoringOptions.LOAD_RETRY_BACKOFF),
                c.get(ScoringOptions.LOAD_RETRY_MAX_BACKOFF),
                c.get(ScoringOptions.MISSING_ARTIFACT));
    }

    /** Fails fast naming the option to fix. */
    public VersionsConfig validate() {
        check(
                limits.maxRules() >= 1 && limits.maxRules() <= 10_000,
                ScoringOptions.MAX_RULES.key() + " must be between 1 and 10000, was " + limits.maxRules());
        check(limits.maxKeysPerCommand() >= 1, ScoringOptions.MAX_KEYS_PER_COMMAND.key() + " must be at least 1");
        check(
                limits.maxRuleKeys() >= limits.maxKeysPerCommand(),
                ScoringOptions.MAX_RULE_KEYS.key() + " must be at least " + ScoringOptions.MAX_KEYS_PER_COMMAND.key());
        check(limits.maxRuleBytes() >= 64 * 1024, ScoringOptions.MAX_RULE_SIZE.key() + " must be at least 64 kb");
        check(limits.history() >= 1, ScoringOptions.HISTORY.key() + " must be at least 1");
        check(limits.commandIdRetention() >= 1, ScoringOptions.COMMAND_ID_RETENTION.key() + " must be at least 1");
        check(
                limits.commandIdMaxAge() != null && !limits.commandIdMaxAge().isNegative(),
                ScoringOptions.COMMAND_ID_MAX_AGE.key() + " must not be negative");
        check(maxCommandBytes >= 256, ScoringOptions.MAX_COMMAND_BYTES.key() + " must be at least 256");
        check(
                assignmentTtl != null && !assignmentTtl.isNegative(),
                ScoringOptions.ASSIGNMENT_TTL.key() + " must not be negative (0 disables it)");
        check(
                loadThreads >= 1 && loadThreads <= 16,
                ScoringOptions.LOAD_THREADS.key() + " must be between 1 and 16, was " + loadThreads);
        check(
                loadTimeout != null && loadTimeout.toMillis() >= 1,
                ScoringOptions.LOAD_TIMEOUT.key() + " must be positive");
        check(
                admissionTimeout != null && admissionTimeout.toMillis() >= 1,
                ScoringOptions.ADMISSION_TIMEOUT.key() + " must be positive");
        check(
                loadRetryBackoff != null && loadRetryBackoff.toMillis() >= 1,
                ScoringOptions.LOAD_RETRY_BACKOFF.key() + " must be positive");
        check(
                loadRetryMaxBackoff != null && loadRetryMaxBackoff.compareTo(loadRetryBackoff) >= 0,
                ScoringOptions.LOAD_RETRY_MAX_BACKOFF.key() + " must be at least "
                        + ScoringOptions.LOAD_RETRY_BACKOFF.key());
        check(missingArtifact != null, ScoringOptions.MISSING_ARTIFACT.key() + " must be FAIL or FALLBACK");
        return this;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
