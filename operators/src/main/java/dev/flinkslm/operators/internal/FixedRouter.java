package dev.flinkslm.operators.internal;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.operators.ScoringConfig;

/** Serves every element with one model version, loaded in {@code open()}. Task thread only. */
final class FixedRouter implements ModelRouter {

    private final ModelSlot slot;
    private final Route route;

    private FixedRouter(ModelSlot slot) {
        this.slot = slot;
        this.route = new Route(slot, "active", null, 0);
    }

    static FixedRouter open(ScoringConfig config, ModelRef model, String jobId, InferenceRuntime runtime)
            throws Exception {
        BundleLoader loader = config.bundleLoader();
        StuckTolerantPool pool = new StuckTolerantPool(runtime, "slm-model-loader", 1, 1);
        try {
            return new FixedRouter(VersionLoading.loadWithin(
                    pool,
                    loader,
                    model,
                    config.runtime(),
                    jobId,
                    config.versions().loadTimeout()));
        } finally {
            pool.shutdownNow();
        }
    }

    @Override
    public Route route(Object key) {
        return route;
    }

    @Override
    public String describe() {
        return slot.name();
    }

    @Override
    public String provider() {
        return slot.session().executionProvider().name();
    }

    void close() {
        slot.release();
    }
}
