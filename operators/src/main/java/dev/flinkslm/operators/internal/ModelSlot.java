package dev.flinkslm.operators.internal;

import dev.flinkslm.models.ModelRef;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.models.WindowOptions;
import dev.flinkslm.operators.internal.versions.VersionKey;
import org.apache.flink.annotation.Internal;

/**
 * A model version this operator instance can score with: a lease on the JVM-wide shared session.
 *
 * <p>Threading: the counters are task-thread only; {@link #session()} is used by inference threads
 * too. Releasing the lease is safe while a batch runs: the shared session closes after its last
 * in-flight run returns.
 */
@Internal
public final class ModelSlot {

    /** Weight of the newest run in the cost estimate. */
    private static final double COST_WEIGHT = 0.2;

    private final ModelRef ref;
    private final SessionCache.Lease lease;
    private final String[] labels;
    private final String negativeLabel;
    private final float[] thresholds;
    private final VersionKey version;
    private final String name;
    /** Parts routed to this slot whose result has not come back yet. */
    private int pending;

    private double costPerPaddedTokenNanos;

    private boolean released;
    private WindowOptions windows;
    private dev.flinkslm.operators.ScoringConfig windowsFor;

    public ModelSlot(ModelRef ref, SessionCache.Lease lease) {
        this.ref = ref;
        this.lease = lease;
        this.labels = lease.session().labels().toArray(String[]::new);
        this.negativeLabel = lease.session().manifest().negativeLabel();
        this.thresholds = lease.session().manifest().thresholdsInLabelOrder();
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

    /** The manifest's negative label, or null. */
    public String negativeLabel() {
        return negativeLabel;
    }

    /** A multi-label model's thresholds in label order, or null (shared: do not modify). */
    public float[] thresholds() {
        return thresholds;
    }

    public ScoringSession session() {
        return lease.session();
    }

    /**
     * The configured window options as they apply to this model. A stride that does not fit the
     * model's window is lowered to half of it (so a short-window model still scores long texts
     * instead of failing every event), and the number of windows is capped so that one event's
     * windows fit a batch ({@code slm.batch.max-size} rows, {@code slm.batch.max-tokens} padded
     * tokens): a longer text is marked truncated, never scored in a batch beyond the caps.
     */
    public WindowOptions windows(dev.flinkslm.operators.ScoringConfig config) {
        if (config != windowsFor) {
            windows = config.windows()
                    .fittedTo(session().manifest().maxSequenceLength(), config.maxBatchSize(), config.maxBatchTokens());
            windowsFor = config;
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

    /**
     * Measured cost of one padded token (batch rows x longest row) in a run of this version, in
     * nanoseconds: an exponentially weighted mean over successful runs; 0 before the first.
     */
    public double costPerPaddedTokenNanos() {
        return costPerPaddedTokenNanos;
    }

    /** Adds a successful run of {@code paddedTokens} that took {@code nanos} to the cost estimate. */
    public void observeRun(long nanos, long paddedTokens) {
        if (paddedTokens <= 0 || nanos <= 0) {
            return;
        }
        double perToken = (double) nanos / paddedTokens;
        costPerPaddedTokenNanos = costPerPaddedTokenNanos == 0
                ? perToken
                : (1 - COST_WEIGHT) * costPerPaddedTokenNanos + COST_WEIGHT * perToken;
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
