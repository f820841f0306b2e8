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

    static FixedRouter open(ScoringConfig config, ModelRef model, String jobId) throws Exception {
        BundleLoader loader = config.bundleLoader();
        return new FixedRouter(VersionLoading.loadAndAdmit(loader, model, config.runtime(), jobId));
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
