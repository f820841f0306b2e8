package dev.flinkslm.models;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Shares one {@link ScoringSession} per model version and runtime options across every user in the
 * JVM (in Flink: across all slots and tasks of a TaskManager), with reference counting.
 *
 * <pre>{@code
 * try (SessionCache.Lease lease = SessionCache.shared().acquire(bundle, RuntimeOptions.cpu())) {
 *     lease.session().scoreTexts(texts);
 * }
 * }</pre>
 *
 * <p>The first {@link #acquire} of a version loads it; concurrent acquirers of the same version wait
 * for that one load. When the last lease is released the session is closed, and the close itself is
 * deferred until its last in-flight batch returns. Thread-safe.
 */
public final class SessionCache {

    private static final Logger LOG = LoggerFactory.getLogger(SessionCache.class);

    /** System property: milliseconds an unused session stays open in the shared cache (default 60000). */
    public static final String LINGER_PROPERTY = "flinkslm.session.linger.ms";

    private static final SessionCache SHARED = new SessionCache(Long.getLong(LINGER_PROPERTY, 60_000L));

    /**
     * Closes lingering sessions. Its thread exists only while a close is pending and carries no
     * context class loader, so it never pins the class loader of a finished job (in a session
     * cluster every submission has its own).
     */
    private static final java.util.concurrent.ScheduledThreadPoolExecutor CLOSER = closer();

    private static java.util.concurrent.ScheduledThreadPoolExecutor closer() {
        java.util.concurrent.ScheduledThreadPoolExecutor executor =
                new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
                    Thread t = new Thread(r, "slm-session-closer");
                    t.setDaemon(true);
                    t.setContextClassLoader(null);
                    return t;
                });
        executor.setKeepAliveTime(1, TimeUnit.SECONDS);
        executor.allowCoreThreadTimeOut(true);
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    private final Map<Key, Entry> entries = new HashMap<>();
    private final AtomicLong loads = new AtomicLong();
    private final long lingerMillis;

    /**
     * The per-JVM cache. A session whose last lease is released stays open for {@value
     * #LINGER_PROPERTY} milliseconds, so that a task restarted after a failure (same JVM, same job)
     * finds its model loaded instead of loading it again.
     */
    public static SessionCache shared() {
        return SHARED;
    }

    /** A cache of its own (tests, tools) that closes a session as soon as its last lease is released. */
    public SessionCache() {
        this(0);
    }

    /** A cache whose unused sessions stay open for {@code lingerMillis} before they are closed. */
    public SessionCache(long lingerMillis) {
        this.lingerMillis = Math.max(0, lingerMillis);
    }

    /** Identifies a session: the exact bundle artifact plus how it runs. */
    private record Key(String manifestSha256, String directory, RuntimeOptions options) {}

    private static final class Entry {
        final CompletableFuture<ScoringSession> session = new CompletableFuture<>();
        int references;
        /** Bumped on every acquire; a scheduled close only proceeds if nobody acquired since. */
        long generation;
    }

    /** A reference to a shared session. Close it exactly once when done. */
    public final class Lease implements AutoCloseable {
        private final Key key;
        private final Entry entry;
        private final ScoringSession session;
        private final boolean loaded;
        private boolean released;

        private Lease(Key key, Entry entry, ScoringSession session, boolean loaded) {
            this.key = key;
            this.entry = entry;
            this.session = session;
            this.loaded = loaded;
        }

        /** Whether acquiring this lease loaded the session (false when it was shared). */
        public boolean loadedSession() {
            return loaded;
        }

        public ScoringSession session() {
            return session;
        }

        @Override
        public void close() {
            synchronized (this) {
                if (released) {
                    return;
                }
                released = true;
            }
            release(key, entry);
        }
    }

    /**
     * A lease on a session that is open in this JVM for the artifact whose manifest has
     * {@code manifestSha256} (any directory it was loaded from), or null when there is none. The
     * session was created from verified bytes and its bundle admitted when it was opened, so reusing
     * it reads nothing from disk: a version that comes back (a ROLLBACK target, a restarted task)
     * serves again at once.
     */
    public Lease acquireIfOpen(String manifestSha256, RuntimeOptions options) {
        Objects.requireNonNull(options, "options");
        if (manifestSha256 == null) {
            return null;
        }
        synchronized (entries) {
            for (Map.Entry<Key, Entry> e : entries.entrySet()) {
                Key key = e.getKey();
                Entry entry = e.getValue();
                ScoringSession session = entry.session.isDone() && !entry.session.isCompletedExceptionally()
                        ? entry.session.getNow(null)
                        : null;
                if (session != null
                        && !session.isClosed()
                        && key.manifestSha256().equalsIgnoreCase(manifestSha256)
                        && key.options().equals(options)) {
                    entry.references++;
                    entry.generation++;
                    return new Lease(key, entry, session, false);
                }
            }
        }
        return null;
    }

    /** Returns a lease on the session for {@code bundle}, loading it if no one holds it. */
    public Lease acquire(ModelBundle bundle, RuntimeOptions options) throws BundleException {
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(options, "options");
        Key key = new Key(bundle.manifestSha256(), bundle.directory().toString(), options);
        Entry entry;
        boolean load;
        synchronized (entries) {
            entry = entries.get(key);
            load = entry == null;
            if (load) {
                entry = new Entry();
                entries.put(key, entry);
            }
            entry.references++;
            entry.generation++;
        }
        if (load) {
            try {
                ScoringSession session = ScoringSession.open(bundle, options);
                loads.incrementAndGet();
                entry.session.complete(session);
                return new Lease(key, entry, session, true);
            } catch (BundleException | RuntimeException e) {
                entry.session.completeExceptionally(e);
                release(key, entry);
                throw e;
            }
        }
        // The shared session runs bytes verified by whoever loaded it (same manifest digest). This
        // bundle's bytes are left alone: the bundle may be shared by the callers of one read, one of
        // which may be about to open a session from them; they are held softly and go with the bundle.
        try {
            return new Lease(key, entry, entry.session.get(), false);
        } catch (ExecutionException e) {
            release(key, entry);
            Throwable cause = e.getCause();
            while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof BundleException be) {
                throw new BundleException(be.reason(), be.detail(), be);
            }
            throw new IllegalStateException("loading " + bundle + " failed", cause);
        } catch (InterruptedException e) {
            release(key, entry);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + bundle + " was loading", e);
        }
    }

    private void release(Key key, Entry entry) {
        boolean last;
        long generation;
        synchronized (entries) {
            entry.references--;
            last = entry.references == 0;
            generation = entry.generation;
            if (last && (lingerMillis == 0 || entry.session.isCompletedExceptionally()) && entries.get(key) == entry) {
                entries.remove(key);
            }
        }
        if (!last) {
            return;
        }
        if (lingerMillis > 0 && !entry.session.isCompletedExceptionally()) {
            CLOSER.schedule(() -> closeIfUnused(key, entry, generation), lingerMillis, TimeUnit.MILLISECONDS);
            return;
        }
        closeSession(entry);
    }

    private void closeIfUnused(Key key, Entry entry, long generation) {
        synchronized (entries) {
            if (entry.references > 0 || entry.generation != generation || entries.get(key) != entry) {
                return; // acquired again meanwhile
            }
            entries.remove(key);
        }
        closeSession(entry);
    }

    private static void closeSession(Entry entry) {
        ScoringSession session = entry.session.isCompletedExceptionally() ? null : entry.session.getNow(null);
        if (session != null) {
            LOG.debug("Last lease on {} released; closing after in-flight batches", session.bundle());
            session.close();
        }
    }

    /**
     * Closes every session nobody holds a lease on now, instead of when its linger time is up (to free
     * memory at once). Returns how many were closed.
     */
    public int evictUnused() {
        java.util.List<Entry> unused = new java.util.ArrayList<>();
        synchronized (entries) {
            for (java.util.Iterator<Map.Entry<Key, Entry>> it =
                            entries.entrySet().iterator();
                    it.hasNext(); ) {
                Entry entry = it.next().getValue();
                if (entry.references == 0 && entry.session.isDone()) {
                    it.remove();
                    unused.add(entry);
                }
            }
        }
        unused.forEach(SessionCache::closeSession);
        return unused.size();
    }

    /** Sessions currently held. */
    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    /** Leases currently held on sessions of {@code bundle}'s artifact (its manifest digest) with {@code options}. */
    public int references(ModelBundle bundle, RuntimeOptions options) {
        synchronized (entries) {
            int references = 0;
            for (Map.Entry<Key, Entry> e : entries.entrySet()) {
                Key key = e.getKey();
                if (key.manifestSha256().equalsIgnoreCase(bundle.manifestSha256())
                        && key.options().equals(options)) {
                    references += e.getValue().references; // the artifact, wherever it was loaded from
                }
            }
            return references;
        }
    }

    /** Sessions loaded by this cache since the JVM started. */
    public long loads() {
        return loads.get();
    }
}
