package dev.flinkslm.operators.versions;

import org.apache.flink.annotation.PublicEvolving;

/** What to do when a model version referenced by restored state can no longer be loaded. */
@PublicEvolving
public enum MissingArtifactPolicy {
    /** Fail the job with an error naming the version and its URI (default). */
    FAIL,
    /** Log, audit, and serve the keys assigned to it with the job's initial model. */
    FALLBACK
}
