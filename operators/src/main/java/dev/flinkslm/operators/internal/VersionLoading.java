package dev.flinkslm.operators.internal;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.GoldenCheck;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.SessionCache;
import org.apache.flink.annotation.Internal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads and admits one model version: the bundle is verified (checksums, graph), its shared session
 * acquired (warm-up) and its golden examples run. The same steps at the admission stage, on every
 * subtask's load and on restore, so a version serves only after it passed all of them here.
 */
@Internal
public final class VersionLoading {

    private static final Logger LOG = LoggerFactory.getLogger(VersionLoading.class);

    /**
     * Reads of a bundle in progress in this JVM, by artifact (location and pinned digest). A read
     * blocked on a stalled file system cannot be interrupted, so every other load of the same artifact
     * meanwhile (another subtask, a retry, a re-sent DEPLOY, a restarted task) takes the result of the
     * read in progress instead of starting one: at most one thread per artifact and JVM is ever blocked
     * in a read, and subtasks that open the same version at once read it once.
     */
    private static final java.util.concurrent.ConcurrentHashMap<
                    String, java.util.concurrent.CompletableFuture<ModelBundle>>
            READS = new java.util.concurrent.ConcurrentHashMap<>();

    private VersionLoading() {}

    /**
     * Loads and admits a version on {@code pool} and waits for it, at most {@code timeout}: for
     * {@code open()}, which cannot serve before its version is loaded but must not hang on a stalled
     * artifact either. A load that finishes after the timeout releases what it loaded.
     */
    public static ModelSlot loadWithin(
            StuckTolerantPool pool,
            BundleLoader loader,
            ModelRef ref,
            RuntimeOptions runtime,
            String jobId,
            java.time.Duration timeout)
            throws Exception {
        java.util.concurrent.CompletableFuture<ModelSlot> result = new java.util.concurrent.CompletableFuture<>();
        StuckTolerantPool.Task task = pool.task(() -> {
            try {
                ModelSlot slot = loadAndAdmit(loader, ref, runtime, jobId, false, timeout);
                if (!result.complete(slot)) {
                    slot.release(); // too late: nobody takes it
                }
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        pool.execute(task);
        try {
            return result.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            task.timeOut(); // a stuck load keeps its thread; the pool replaces it
            if (!result.completeExceptionally(e)) {
                // finished at the same moment: take its outcome
                try {
                    return result.get();
                } catch (java.util.concurrent.ExecutionException done) {
                    throw unwrap(done);
                }
            }
            throw new BundleException(
                    BundleException.Reason.UNRESOLVABLE_URI,
                    ref.displayName() + " was not loaded"
                            + " within " + timeout.toMillis()
                            + " ms (slm.versions.load-timeout); its artifact may be on a"
                            + " stalled file system");
        } catch (java.util.concurrent.ExecutionException e) {
            throw unwrap(e);
        }
    }

    private static Exception unwrap(java.util.concurrent.ExecutionException e) {
        Throwable cause = e.getCause();
        return cause instanceof Exception ex ? ex : new IllegalStateException(cause);
    }

    /**
     * Blocking; call it off the task thread, or from {@code open()}. Logs one line per session this
     * JVM actually loads ({@code slm model-loaded ...}; slots of a TaskManager share sessions).
     */
    public static ModelSlot loadAndAdmit(
            BundleLoader loader, ModelRef ref, RuntimeOptions runtime, String jobId, java.time.Duration readWait)
            throws BundleException {
        return loadAndAdmit(loader, ref, runtime, jobId, false, readWait);
    }

    /**
     * As {@link #loadAndAdmit(BundleLoader, ModelRef, RuntimeOptions, String, java.time.Duration)}; with
     * {@code reuseOpen} a pinned artifact that is open in this JVM already (verified and admitted when it
     * was opened) is taken without reading the bundle again. Restores do not reuse: they verify the
     * artifact again. While a read of the same artifact is in progress in this JVM the call takes its
     * result, waiting at most {@code readWait}.
     */
    public static ModelSlot loadAndAdmit(
            BundleLoader loader,
            ModelRef ref,
            RuntimeOptions runtime,
            String jobId,
            boolean reuseOpen,
            java.time.Duration readWait)
            throws BundleException {
        if (reuseOpen && ref.sha256() != null) {
            // its location must still be allowed here
            loader.roots().check(dev.flinkslm.models.ModelRoots.parse(ref.uri()));
            SessionCache.Lease open = SessionCache.shared().acquireIfOpen(ref.sha256(), runtime);
            if (open != null) {
                ModelRef shared = open.session().bundle().ref();
                if (ref.id() == null
                        || ref.id().equals(shared.id()) && ref.version().equals(shared.version())) {
                    return new ModelSlot(shared, open);
                }
                open.close();
            }
        }
        ModelBundle bundle = readShared(loader, ref, readWait);
        SessionCache.Lease lease = SessionCache.shared().acquire(bundle, runtime);
        try {
            GoldenCheck.require(lease.session());
        } catch (BundleException | RuntimeException e) {
            lease.close();
            throw e;
        }
        ModelSlot slot = new ModelSlot(bundle.ref(), lease);
        if (lease.loadedSession()) {
            LOG.info(
                    "slm model-loaded job={} model={}:{} provider={} ortLoader={}",
                    jobId,
                    bundle.id(),
                    bundle.version(),
                    lease.session().executionProvider(),
                    ai.onnxruntime.OrtEnvironment.class
                            .getClassLoader()
                            .getClass()
                            .getSimpleName());
        }
        return slot;
    }

    /**
     * {@link BundleLoader#load}, or the result of the read of the same artifact in progress in this
     * JVM, waited for at most {@code maxWait}. The verified bundle is shared; each caller still opens or
     * acquires its session and runs the golden examples itself.
     */
    static ModelBundle readShared(BundleLoader loader, ModelRef ref, java.time.Duration maxWait)
            throws BundleException {
        java.net.URI uri = loader.roots().check(dev.flinkslm.models.ModelRoots.parse(ref.uri())); // normalised
        String sha = ref.sha256() == null ? null : ref.sha256().toLowerCase(java.util.Locale.ROOT);
        String artifact = uri + "#" + sha + "#" + loader.settings();
        java.util.concurrent.CompletableFuture<ModelBundle> mine = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<ModelBundle> running = READS.putIfAbsent(artifact, mine);
        ModelBundle bundle;
        if (running == null) {
            try {
                bundle = loader.load(uri, sha);
                mine.complete(bundle);
            } catch (BundleException | RuntimeException | Error e) {
                mine.completeExceptionally(e);
                throw e;
            } finally {
                READS.remove(artifact, mine);
            }
        } else {
            bundle = awaitRead(running, ref, maxWait);
        }
        BundleLoader.requireVersion(bundle, ref);
        return bundle;
    }

    private static ModelBundle awaitRead(
            java.util.concurrent.CompletableFuture<ModelBundle> running, ModelRef ref, java.time.Duration maxWait)
            throws BundleException {
        try {
            return running.get(maxWait.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new BundleException(
                    BundleException.Reason.UNRESOLVABLE_URI,
                    ref.displayName() + ": the read of its"
                            + " artifact in progress in this JVM has not returned within " + maxWait.toMillis()
                            + " ms, and no"
                            + " second read is started; the artifact may be on a stalled file system");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BundleException(
                    BundleException.Reason.UNRESOLVABLE_URI,
                    ref.displayName() + ": interrupted while waiting for the read of its artifact in progress");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof BundleException failed) {
                throw new BundleException(failed.reason(), failed.detail(), failed);
            }
            throw new BundleException(
                    BundleException.Reason.UNREADABLE_MODEL,
                    ref.displayName() + ": reading it" + " failed: " + e.getCause(),
                    e.getCause());
        }
    }
}
