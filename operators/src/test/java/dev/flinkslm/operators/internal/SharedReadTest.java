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

    /** Runs the calls at the same moment; each outcome is its result or the exception it threw. */
    private static List<Object> race(List<java.util.concurrent.Callable<Object>> calls) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Object> outcomes = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (java.util.concurrent.Callable<Object> call : calls) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    outcomes.add(call.call());
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

    private static BundleLoader loader(SlowFetcher fetcher, dev.flinkslm.models.BundleLimits limits) {
        return BundleLoader.builder()
                .roots(ModelRoots.allowAll())
                .addFetcher(fetcher)
                .cacheDirectory(tmp.resolve("cache"))
                .limits(limits)
                .build();
    }

    private static final ModelRef M1 = new ModelRef(null, null, "slow://bucket/models/m1/", null);

    private static List<Object> readConcurrently(SlowFetcher fetcher, int callers, Duration maxWait) throws Exception {
        BundleLoader loader = loader(fetcher, dev.flinkslm.models.BundleLimits.defaults());
        List<java.util.concurrent.Callable<Object>> calls = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            calls.add(() -> VersionLoading.readShared(loader, M1, maxWait));
        }
        return race(calls);
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
        BundleLoader roomy = loader(fetcher, dev.flinkslm.models.BundleLimits.defaults());
        BundleLoader tight =
                loader(fetcher, dev.flinkslm.models.BundleLimits.defaults().withMaxBundleBytes(1_000));
        List<Object> outcomes = race(List.of(
                () -> VersionLoading.readShared(roomy, M1, Duration.ofSeconds(10))
                        .id(),
                () -> VersionLoading.readShared(tight, M1, Duration.ofSeconds(10))
                        .id()));
        assertThat(outcomes).hasSize(2).contains("m");
        assertThat(outcomes)
                .filteredOn(o -> o instanceof BundleException)
                .singleElement()
                .satisfies(o ->
                        assertThat(((BundleException) o).reason()).isEqualTo(BundleException.Reason.LIMIT_EXCEEDED));
        assertThat(fetcher.fetches.get()).isEqualTo(2);
    }

    /** A caller that names another version than the shared read found is refused, as its own read would be. */
    @Test
    void aWaiterNamingAnotherVersionIsRefused() throws Exception {
        SlowFetcher fetcher = new SlowFetcher(300, false);
        BundleLoader loader = loader(fetcher, dev.flinkslm.models.BundleLimits.defaults());
        ModelRef nine = new ModelRef("m", "9", "slow://bucket/models/m1/", null);
        List<Object> outcomes = race(List.of(
                () -> VersionLoading.readShared(loader, M1, Duration.ofSeconds(10))
                        .version(),
                () -> VersionLoading.readShared(loader, nine, Duration.ofSeconds(10))
                        .version()));
        assertThat(outcomes).hasSize(2).contains("1");
        assertThat(outcomes)
                .filteredOn(o -> o instanceof BundleException)
                .singleElement()
                .satisfies(o ->
                        assertThat(((BundleException) o).reason()).isEqualTo(BundleException.Reason.CHECKSUM_MISMATCH));
        assertThat(fetcher.fetches.get()).isEqualTo(1);
    }
}
