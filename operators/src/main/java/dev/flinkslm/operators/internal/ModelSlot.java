package dev.flinkslm.operators.internal;

import dev.flinkslm.models.ModelRef;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.models.WindowOptions;
import dev.flinkslm.operators.internal.versions.VersionKey;

/**
 * A model version this operator instance can score with: a lease on the JVM-wide shared session.
 *
 * <p>Threading: the counters are task-thread only; {@link #session()} is used by inference threads
 * too. Releasing the lease is safe while a batch runs: the shared session closes after its last
 * in-flight run returns.
 */
public final class ModelSlot {

    private final ModelRef ref;
    private final SessionCache.Lease lease;
    private final String[] labels;
    private final VersionKey version;
    private final String name;
    /** Parts routed to this slot whose result has not come back yet. */
    private int pending;
    private boolean released;
    private WindowOptions windows;
    private WindowOptions windowsFor;

    public ModelSlot(ModelRef ref, SessionCache.Lease lease) {
        this.ref = ref;
        this.lease = lease;
        this.labels = lease.session().labels().toArray(String[]::new);
        this.version = new VersionKey(ref.id(), ref.version());
        this.name = version.toString();
    }

    public ModelRef ref() {
        return ref;
    }

    public VersionKey version() {
        return version;
    }

    /** {@code id:version}. */
    public String name() {
        return name;
    }

    public String[] labels() {
        return labels;
    }

    public ScoringSession session() {
        return lease.session();
    }

    /**
     * The configured window options as they apply to this model: a stride that does not fit the
     * model's window is lowered to half of it, so a model with a short window still scores long
     * texts in overlapping windows instead of failing every event.
     */
    public WindowOptions windows(WindowOptions configured) {
        if (configured != windowsFor) {
            int content = session().manifest().maxSequenceLength() - 2;
            windows = configured.maxWindows() == 1 || configured.stride() < content ? configured
                    : content < 1 ? WindowOptions.single() : configured.withStride(content / 2);
            windowsFor = configured;
        }
        return windows;
    }

    public boolean loadedSession() {
        return lease.loadedSession();
    }

    void acquirePart() {
        pending++;
    }

    void releasePart() {
        pending--;
    }

    /** Parts routed here and not finished: the slot must stay loaded while this is positive. */
    public int pendingParts() {
        return pending;
    }

    public boolean isReleased() {
        return released;
    }

    /** Releases the lease once; later calls do nothing. */
    public void release() {
        if (!released) {
            released = true;
            lease.close();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
