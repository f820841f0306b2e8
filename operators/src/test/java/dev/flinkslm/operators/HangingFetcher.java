package dev.flinkslm.operators;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleFetcher;

import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test helper (ControlPlaneFailureTest): a fetcher for {@code file:} bundle directories whose
 * path contains {@value #MARKER}. While the gate is closed, a fetch blocks and ignores interrupts,
 * like a read from a stalled NFS/FUSE mount or an object store that never answers; once the gate
 * opens it returns the directory (read in place, like the local fetcher). Every other URI is left
 * to the normal fetchers. Registered through META-INF/services in test resources only.
 */
public final class HangingFetcher implements BundleFetcher {

    static final String MARKER = "hang-gate-";

    private static final Object LOCK = new Object();
    private static boolean closed;
    private static final AtomicInteger BLOCKED = new AtomicInteger();
    private static final AtomicInteger FETCHES = new AtomicInteger();
    /** When set, only fetches on threads whose name contains it are affected (one subtask's loader). */
    static volatile String onlyThreadsContaining;
    /** When set, an affected fetch fails at once (a subtask that cannot reach the artifact) instead of hanging. */
    static volatile boolean fail;

    /** Back to the initial state: gate open, every thread affected, hanging (not failing). */
    static void reset() {
        onlyThreadsContaining = null;
        fail = false;
        open();
    }

    /** From now on, fetches of marked bundles block until {@link #open()}. */
    static void close() {
        synchronized (LOCK) {
            closed = true;
        }
    }

    static void open() {
        synchronized (LOCK) {
            closed = false;
            LOCK.notifyAll();
        }
    }

    /** Fetches blocked right now. */
    static int blocked() {
        return BLOCKED.get();
    }

    static int fetches() {
        return FETCHES.get();
    }

    @Override
    public boolean supports(URI uri) {
        return "file".equalsIgnoreCase(uri.getScheme())
                && uri.getPath() != null
                && uri.getPath().contains(MARKER);
    }

    @Override
    public Path fetch(URI uri, Path cacheDirectory) throws BundleException {
        FETCHES.incrementAndGet();
        String only = onlyThreadsContaining;
        boolean affected = only == null || Thread.currentThread().getName().contains(only);
        if (affected && fail) {
            boolean shut;
            synchronized (LOCK) {
                shut = closed;
            }
            if (shut) {
                throw new BundleException(
                        BundleException.Reason.MISSING_FILE,
                        "probe: " + uri + " cannot be reached from "
                                + Thread.currentThread().getName());
            }
        }
        if (!affected || fail) {
            return Path.of(uri);
        }
        boolean interrupted = false;
        synchronized (LOCK) {
            if (closed) {
                BLOCKED.incrementAndGet();
                try {
                    while (closed) {
                        try {
                            LOCK.wait();
                        } catch (InterruptedException e) {
                            interrupted = true; // a stalled mount does not care
                        }
                    }
                } finally {
                    BLOCKED.decrementAndGet();
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return Path.of(uri);
    }
}
