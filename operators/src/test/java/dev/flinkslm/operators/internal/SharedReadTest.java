package dev.flinkslm.operators.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleFetcher;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.models.ModelRoots;
import dev.flinkslm.models.TinyBundles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** Loads of one artifact at the same time in one JVM share one read. */
class SharedReadTest {

    @TempDir
    static Path tmp;

    static Path bundle;

    @BeforeAll
    static void write() throws Exception {
        bundle = TinyBundles.write(
                tmp.resolve("bundle"), new TinyBundles.Spec().id("m").version("1"));
    }

    /** Serves {@code slow://...} from a local bundle after a delay, or fails after it. */
    static final class SlowFetcher implements BundleFetcher {
        final AtomicInteger fetches = new AtomicInteger();
        final AtomicInteger concurrent = new AtomicInteger();
        final AtomicInteger maxConcurrent = new AtomicInteger();
        final long millis;
        final boolean fail;

        SlowFetcher(long millis, boolean fail) {
            this.millis = millis;
            this.fail = fail;
        }

        @Override
        public boolean supports(URI uri) {
            return "slow".equals(uri.getScheme());
        }

        @Override
        public Path fetch(URI uri, Path cacheDirectory) throws BundleException {
            fetches.incrementAndGet();
            maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                concurrent.decrementAndGet();
            }
            if (fail) {
                throw new BundleException(BundleException.Reason.MISSING_FILE, "the object store has no such bundle");
            }
            return bundle;
        }
    }

    private static List<Object> readConcurrently(SlowFetcher fetcher, int callers, Duration maxWait) throws Exception {
        BundleLoader loader = BundleLoader.builder()
                .roots(ModelRoots.allowAll())
                .addFetcher(fetcher)
                .cacheDirectory(tmp.resolve("cache"))
                .build();
        ModelRef ref = new ModelRef(null, null, "slow://bucket/models/m1/", null);
        CountDownLatch go = new CountDownLatch(1);
        List<Object> outcomes = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    outcomes.add(VersionLoading.readShared(loader, ref, maxWait));
                } catch (Exception e) {
                    outcomes.add(e);
                }
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(30_000);
        }
        return outcomes;
    }

    @Test
    void concurrentLoadsOfOneArtifactReadItOnceAndAllGetTheVerifiedBundle() throws Exception {
        SlowFetcher fetcher = new SlowFetcher(300, false);
        List<Object> outcomes = readConcurrently(fetcher, 4, Duration.ofSeconds(10));
        assertThat(outcomes).hasSize(4).allSatisfy(o -> assertThat(o).isInstanceOf(ModelBundle.class));
        assertThat(outcomes.stream().distinct()).hasSize(1);
        assertThat(((ModelBundle) outcomes.get(0)).id()).isEqualTo("m");
        assertThat(fetcher.maxConcurrent.get()).isEqualTo(1);
        assertThat(fetcher.fetches.get()).isEqualTo(1);
    }

    @Test
    void aFailedReadFailsEveryoneWaitingForItWithItsReason() throws Exception {
        SlowFetcher fetcher = new SlowFetcher(300, true);
        List<Object> outcomes = readConcurrently(fetcher, 4, Duration.ofSeconds(10));
        assertThat(outcomes).hasSize(4).allSatisfy(o -> {
            assertThat(o).isInstanceOf(BundleException.class);
            assertThat(((BundleException) o).reason()).isEqualTo(BundleException.Reason.MISSING_FILE);
            assertThat(((BundleException) o).getMessage())
                    .isEqualTo("MISSING_FILE: the object store has no such bundle");
        });
        assertThat(fetcher.maxConcurrent.get()).isEqualTo(1);
    }

    @Test
    void aWaiterGivesUpAfterItsWaitWithoutStartingASecondRead() throws Exception {
        SlowFetcher fetcher = new SlowFetcher(2_000, false);
        List<Object> outcomes = readConcurrently(fetcher, 3, Duration.ofMillis(200));
        assertThat(outcomes).hasSize(3);
        assertThat(outcomes).filteredOn(o -> o instanceof ModelBundle).hasSize(1);
        assertThat(outcomes)
                .filteredOn(o -> o instanceof BundleException)
                .hasSize(2)
                .allSatisfy(o -> assertThat(((Exception) o).getMessage())
                        .contains("has not returned within 200 ms")
                        .contains("stalled file system"));
        assertThat(fetcher.fetches.get()).isEqualTo(1);
    }

    /** Loaders that would read differently (here: other limits) do not share a read; each gets its own answer. */
    @Test
    void loadersWithOtherSettingsReadForThemselves() throws Exception {
        SlowFetcher fetcher = new SlowFetcher(300, false);
        BundleLoader roomy = BundleLoader.builder()
                .roots(ModelRoots.allowAll())
                .addFetcher(fetcher)
                .cacheDirectory(tmp.resolve("cache"))
                .build();
        BundleLoader tight = BundleLoader.builder()
                .roots(ModelRoots.allowAll())
                .addFetcher(fetcher)
                .cacheDirectory(tmp.resolve("cache"))
                .limits(dev.flinkslm.models.BundleLimits.defaults().withMaxBundleBytes(1_000))
                .build();
        ModelRef ref = new ModelRef(null, null, "slow://bucket/models/m1/", null);
        List<Object> outcomes = new CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (BundleLoader loader : List.of(roomy, tight)) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    outcomes.add(
                            loader == roomy
                                    ? "roomy "
                                            + VersionLoading.readShared(loader, ref, Duration.ofSeconds(10))
                                                    .id()
                                    : "tight "
                                            + VersionLoading.readShared(loader, ref, Duration.ofSeconds(10))
                                                    .id());
                } catch (BundleException e) {
                    outcomes.add((loader == roomy ? "roomy " : "tight ") + e.reason());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(30_000);
        }
        assertThat(outcomes).containsExactlyInAnyOrder("roomy m", "tight LIMIT_EXCEEDED");
        assertThat(fetcher.fetches.get()).isEqualTo(2);
    }

    /** A caller that names another version than the shared read found is refused, as its own read would be. */
    @Test
    void aWaiterNamingAnotherVersionIsRefused() throws Exception {
        SlowFetcher fetcher = new SlowFetcher(300, false);
        BundleLoader loader = BundleLoader.builder()
                .roots(ModelRoots.allowAll())
                .addFetcher(fetcher)
                .cacheDirectory(tmp.resolve("cache"))
                .build();
        CountDownLatch go = new CountDownLatch(1);
        List<Object> outcomes = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (ModelRef ref : List.of(
                new ModelRef(null, null, "slow://bucket/models/m1/", null),
                new ModelRef("m", "9", "slow://bucket/models/m1/", null))) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    outcomes.add(ref.version() + " "
                            + VersionLoading.readShared(loader, ref, Duration.ofSeconds(10))
                                    .version());
                } catch (BundleException e) {
                    outcomes.add(ref.version() + " " + e.reason());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(30_000);
        }
        assertThat(outcomes).containsExactlyInAnyOrder("null 1", "9 CHECKSUM_MISMATCH");
        assertThat(fetcher.fetches.get()).isEqualTo(1);
    }
}
