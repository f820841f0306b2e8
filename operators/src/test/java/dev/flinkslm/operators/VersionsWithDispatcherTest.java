package dev.flinkslm.operators;

import static dev.flinkslm.operators.HarnessSupport.runMailsUntil;
import static dev.flinkslm.operators.VersionsSupport.results;
import static dev.flinkslm.operators.VersionsSupport.shadows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.internal.VersionedScoringOperator;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ModelCommand.Role;
import dev.flinkslm.operators.versions.ShadowResult;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

/**
 * Keyed model versions with a shadow on two subtasks of one JVM whose batches go through the
 * TaskManager's dispatcher: the primary parts of both subtasks run jointly on the active version's
 * session and the shadow parts on the shadow's, and every result and shadow result is the one the
 * model alone gives.
 */
class VersionsWithDispatcherTest {

    @TempDir
    static Path tmp;

    static Path roots;
    static Path v1;
    static Path v2;
    static final TinyBundles.Spec V1 =
            new TinyBundles.Spec().id("m").version("1").seed(7);
    static final TinyBundles.Spec V2 =
            new TinyBundles.Spec().id("m").version("2").seed(99);

    @BeforeAll
    static void bundles() throws Exception {
        roots = tmp.resolve("models");
        v1 = TinyBundles.write(roots.resolve("v1"), V1);
        v2 = TinyBundles.write(roots.resolve("v2"), V2);
    }

    /** A key that subtask {@code subtask} of 2 owns (max parallelism 128). */
    private static String keyOf(int subtask, int n) {
        for (int i = 0; ; i++) {
            String key = "acct-" + n + "-" + i;
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator(key, 128, 2) == subtask) {
                return key;
            }
        }
    }

    private static ScoringSession session(Path bundle) throws Exception {
        return ScoringSession.open(BundleLoader.verify(bundle.toUri(), bundle, null), RuntimeOptions.cpu());
    }

    @Test
    void servedAndShadowResultsOfJointRunsAreTheModelsOwn() throws Exception {
        TestRuntime runtime = new TestRuntime();
        VersionsSupport support = new VersionsSupport(
                VersionsSupport.config(
                        v1,
                        roots,
                        b -> b.dispatch(DispatchPolicy.ADAPTIVE)
                                .coalesce(true)
                                .maxBatchSize(8)
                                .maxInFlight(32)),
                v1);
        List<String> texts = TinyBundles.sampleTexts(12);
        try (var s0 = support.harness(128, 2, 0, runtime);
                var s1 = support.harness(128, 2, 1, runtime);
                ScoringSession ref1 = session(v1);
                ScoringSession ref2 = session(v2)) {
            s0.open();
            s1.open();
            support.command(
                    List.of(s0, s1), ModelCommand.deploy("shadow-v2", v2.toUri().toString(), Role.SHADOW));
            // hold both dispatcher threads (the held event's served and shadow parts), so that what
            // both subtasks submit meanwhile (32 batches in flight each: every part its own batch) waits
            runtime.hang(true);
            s0.processElement1(keyOf(0, 100) + "|hold the threads", 1L);
            runMailsUntil(s0, () -> runtime.hungCalls() == 2);
            s1.processElement1(keyOf(1, 100) + "|waits like the rest", 1L);
            for (int i = 0; i < texts.size(); i++) {
                var h = i % 2 == 0 ? s0 : s1;
                h.processElement1(keyOf(i % 2, i) + "|" + texts.get(i), 1L);
            }
            runtime.hang(false);
            runtime.releaseHung();
            runMailsUntil(s0, () -> results(s0).size() == 7 && shadows(s0).size() == 7);
            runMailsUntil(s1, () -> results(s1).size() == 7 && shadows(s1).size() == 7);

            for (var h : List.of(s0, s1)) {
                for (Scored<String> r : results(h)) {
                    String text = r.element.substring(r.element.indexOf('|') + 1);
                    assertThat(r.modelVersion).isEqualTo("1");
                    assertThat(r.probabilities)
                            .containsExactly(TinyBundles.reference(V1, ref1.encode(text)), within(1e-5f));
                }
                for (ShadowResult<String> shadow : shadows(h)) {
                    String text = shadow.element.substring(shadow.element.indexOf('|') + 1);
                    Prediction expected = ref2.scoreTexts(List.of(text)).get(0);
                    assertThat(shadow.shadowModel).isEqualTo("m:2");
                    assertThat(shadow.shadowLabel).isEqualTo(expected.label());
                    assertThat(shadow.shadowScore).isCloseTo(expected.score(), within(1e-5f));
                }
            }
            long joint = Math.max(coalescedMax(s0), coalescedMax(s1));
            assertThat(joint)
                    .as("a joint run held the batches of both subtasks")
                    .isEqualTo(13);
        } finally {
            runtime.shutdown();
        }
        // both subtasks closed: the dispatcher's threads are gone
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().startsWith("slm-dispatcher-"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("a dispatcher thread outlived the last operator");
            }
            Thread.onSpinWait();
        }
    }

    private static long coalescedMax(VersionedHarness<String> h) {
        var histogram = ((VersionedScoringOperator<?>) h.getOperator())
                .core()
                .histogram(ScoringMetricNames.COALESCED_BATCH_SIZE);
        return histogram.getCount() == 0 ? 0 : histogram.getStatistics().getMax();
    }
}
