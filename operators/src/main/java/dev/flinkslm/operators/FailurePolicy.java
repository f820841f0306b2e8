package dev.flinkslm.operators;

import org.apache.flink.annotation.PublicEvolving;

/** What happens to a record that cannot be scored after its retries. */
@PublicEvolving
public enum FailurePolicy {
    /** Emit a {@link ScoringFailure} on the dead-letter side output and continue. */
    DEAD_LETTER,
    /** Fail the task; the job restarts from its last checkpoint. */
    FAIL
}
