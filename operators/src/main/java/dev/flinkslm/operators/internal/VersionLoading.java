package dev.flinkslm.operators.internal;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.GoldenCheck;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.SessionCache;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads and admits one model version: the bundle is verified (checksums, graph), its shared session
 * acquired (warm-up) and its golden examples run. The same steps at the admission stage, on every
 * subtask's load and on restore, so a version serves only after it passed all of them here.
 */
public final class VersionLoading {

    private static final Logger LOG = LoggerFactory.getLogger(VersionLoading.class);

    private VersionLoading() {}

    /**
     * Blocking; call it off the task thread, or from {@code open()}. Logs one line per session this
     * JVM actually loads ({@code slm model-loaded ...}; slots of a TaskManager share sessions).
     */
    public static ModelSlot loadAndAdmit(BundleLoader loader, ModelRef ref, RuntimeOptions runtime, String jobId)
            throws BundleException {
        ModelBundle bundle = loader.load(ref);
        SessionCache.Lease lease = SessionCache.shared().acquire(bundle, runtime);
        try {
            GoldenCheck.require(lease.session());
        } catch (BundleException | RuntimeException e) {
            lease.close();
            throw e;
        }
        ModelSlot slot = new ModelSlot(bundle.ref(), lease);
        if (lease.loadedSession()) {
            LOG.info("slm model-loaded job={} model={}:{} provider={} ortLoader={}", jobId, bundle.id(),
                    bundle.version(), lease.session().executionProvider(),
                    ai.onnxruntime.OrtEnvironment.class.getClassLoader().getClass().getSimpleName());
        }
        return slot;
    }
}
