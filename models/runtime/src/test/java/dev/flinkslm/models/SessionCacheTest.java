package dev.flinkslm.models;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

class SessionCacheTest {

    @TempDir
    Path tmp;

    private ModelBundle bundle(String name, TinyBundles.Spec spec) throws Exception {
        Path dir = TinyBundles.write(tmp.resolve(name), spec);
        return BundleLoader.verify(dir.toUri(), dir, null);
    }

    @Test
    void sharesOneSessionAndClosesAfterTheLastLease() throws Exception {
        SessionCache cache = new SessionCache();
        ModelBundle bundle = bundle("a", new TinyBundles.Spec());
        SessionCache.Lease first = cache.acquire(bundle, RuntimeOptions.cpu());
        SessionCache.Lease second = cache.acquire(bundle, RuntimeOptions.cpu());
        assertThat(second.session()).isSameAs(first.session());
        assertThat(cache.loads()).isEqualTo(1);
        assertThat(cache.references(bundle, RuntimeOptions.cpu())).isEqualTo(2);

        first.close();
        first.close(); // idempotent: must not release twice
        assertThat(cache.references(bundle, RuntimeOptions.cpu())).isEqualTo(1);
        assertThat(second.session().isClosed()).isFalse();
        assertThat(second.session().scoreTexts(List.of("still open"))).hasSize(1);

        ScoringSession session = second.session();
        second.close();
        assertThat(session.isClosed()).isTrue();
        assertThat(cache.size()).isZero();

        try (SessionCache.Lease again = cache.acquire(bundle, RuntimeOptions.cpu())) {
            assertThat(again.session()).isNotSameAs(session);
            assertThat(cache.loads()).isEqualTo(2);
        }
    }

    @Test
    void differentOptionsOrVersionsAreDifferentSessions() throws Exception {
        SessionCache cache = new SessionCache();
        ModelBundle v1 = bundle("v1", new TinyBundles.Spec().version("1"));
        ModelBundle v2 = bundle("v2", new TinyBundles.Spec().version("2").seed(3));
        try (SessionCache.Lease a = cache.acquire(v1, RuntimeOptions.cpu());
                SessionCache.Lease b = cache.acquire(v2, RuntimeOptions.cpu());
                SessionCache.Lease c = cache.acquire(v1, RuntimeOptions.cpu().withIntraOpThreads(2))) {
            assertThat(a.session()).isNotSameAs(b.session()).isNotSameAs(c.session());
            assertThat(cache.size()).isEqualTo(3);
        }
        assertThat(cache.size()).isZero();
    }

    @Test
    void concurrentAcquirersShareOneLoad() throws Exception {
        SessionCache cache = new SessionCache();
        ModelBundle bundle = bundle("a", new TinyBundles.Spec());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<SessionCache.Lease>> leases = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                leases.add(pool.submit(() -> {
                    start.await();
                    return cache.acquire(bundle, RuntimeOptions.cpu());
                }));
            }
            start.countDown();
            List<SessionCache.Lease> held = new ArrayList<>();
            for (Future<SessionCache.Lease> f : leases) {
                held.add(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(cache.loads()).isEqualTo(1);
            assertThat(held)
                    .extracting(SessionCache.Lease::session)
                    .containsOnly(held.get(0).session());
            held.forEach(SessionCache.Lease::close);
            assertThat(held.get(0).session().isClosed()).isTrue();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void releasingTheLastLeaseDuringARunDefersTheClose() throws Exception {
        SessionCache cache = new SessionCache();
        ModelBundle bundle = bundle("slow", new TinyBundles.Spec().slow(40));
        SessionCache.Lease lease = cache.acquire(bundle, RuntimeOptions.cpu());
        ScoringSession session = lease.session();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<List<Prediction>> running = pool.submit(() -> session.scoreTexts(TinyBundles.sampleTexts(256)));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (session.inFlight() == 0 && !running.isDone() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            lease.close();
            assertThat(running.isDone()).as("batch still running at release").isFalse();
            assertThat(session.isClosed()).isFalse();
            assertThat(cache.size()).isZero();
            assertThat(running.get(60, TimeUnit.SECONDS)).hasSize(256);
            assertThat(session.isClosed()).isTrue();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFailedLoadIsNotCached() throws Exception {
        SessionCache cache = new SessionCache();
        ModelBundle bad = bundle("bad", new TinyBundles.Spec().outputWidth(2));
        for (int i = 0; i < 2; i++) {
            try {
                cache.acquire(bad, RuntimeOptions.cpu());
                throw new AssertionError("expected the load to fail");
            } catch (BundleException e) {
                assertThat(e.reason()).isEqualTo(BundleException.Reason.LABEL_COUNT_MISMATCH);
            }
        }
        assertThat(cache.size()).isZero();
        assertThat(cache.loads()).isZero();
    }

    @Test
    void anUnusedSessionLingersAndIsReusedWhenAcquiredAgainInTime() throws Exception {
        SessionCache cache = new SessionCache(60_000);
        ModelBundle bundle = bundle("linger", new TinyBundles.Spec());
        SessionCache.Lease first = cache.acquire(bundle, RuntimeOptions.cpu());
        ScoringSession session = first.session();
        first.close();
        assertThat(session.isClosed()).as("lingers after the last lease").isFalse();
        try (SessionCache.Lease again = cache.acquire(bundle, RuntimeOptions.cpu())) {
            assertThat(again.session()).isSameAs(session);
            assertThat(again.loadedSession()).isFalse();
            assertThat(cache.loads()).isEqualTo(1);
        }
    }

    @Test
    void aLingeringSessionIsClosedWhenNobodyComesBack() throws Exception {
        SessionCache cache = new SessionCache(50);
        ModelBundle bundle = bundle("linger-close", new TinyBundles.Spec());
        SessionCache.Lease lease = cache.acquire(bundle, RuntimeOptions.cpu());
        ScoringSession session = lease.session();
        lease.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!session.isClosed() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(session.isClosed()).isTrue();
        assertThat(cache.size()).isZero();
    }
}
