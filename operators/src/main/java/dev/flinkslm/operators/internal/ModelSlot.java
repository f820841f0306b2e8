package dev.flinkslm.operators.internal;

import dev.flinkslm.models.ModelRef;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.SessionCache;

/**
 * A model version this operator instance can score with: a lease on the JVM-wide shared session.
 * Task thread only, except {@link #session()} which inference threads use.
 */
final class ModelSlot {

    final ModelRef ref;
    final SessionCache.Lease lease;
    final String[] labels;
    final String name;
    int inFlightBatches;
    boolean retired;

    ModelSlot(ModelRef ref, SessionCache.Lease lease) {
        this.ref = ref;
        this.lease = lease;
        this.labels = lease.session().labels().toArray(String[]::new);
        this.name = ref.id() + ":" + ref.version();
    }

    ScoringSession session() {
        return lease.session();
    }

    /** Releases the lease; the shared session closes after its last in-flight batch anywhere. */
    void release() {
        lease.close();
    }
}
