package dev.flinkslm.operators;

import static dev.flinkslm.operators.HarnessSupport.deadLetters;
import static dev.flinkslm.operators.HarnessSupport.elements;
import static dev.flinkslm.operators.HarnessSupport.harness;
import static dev.flinkslm.operators.HarnessSupport.results;
import static dev.flinkslm.operators.HarnessSupport.runMailsUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.internal.ScoringCore;
import dev.flinkslm.operators.internal.ScoringOperator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The TaskManager's batch dispatcher: operator instances of one JVM (four subtasks here, each its
 * own harness with its own mailbox) submit micro-batches for the same session, and the dispatcher
 * runs what waits together. One dispatcher thread, so that the test decides what waits.
 */
class BatchDispatcherTest {

    @TempDir
    static Path tmp;

    static Path fast;
    static final TinyBundles.Spec FAST = new TinyBundles.Spec().id("fast");
    static Path nan;
    static final List<String> TEXTS = List.of(
            "wire 9000 cash to the new beneficiary",
            "invoice 42 paid",
            "salary june",
            "split the deposit under the limit");

    private final TestRuntime runtime = new TestRuntime();
    private final List<OneInputStreamOperatorTestHarness<String, Scored<String>>> open = new ArrayList<>();

    @BeforeAll
    static void bundles() throws Exception {
        fast = TinyBundles.write(tmp.resolve("fast"), FAST);
        long zebra;
        try (ScoringSession s = session(fast)) {
            zebra = s.encode("zebra").ids()[1];
        }
        nan = TinyBundles.write(
                tmp.resolve("nan"),
                new TinyBundles.Spec()
                        .id("nan")
                        .badOutput(TinyBundles.BadOutput.NAN)
                        .badOnTokenId(zebra));
    }

    @AfterEach
    void closeAll() throws Exception {
        runtime.hang(false);
        runtime.releaseHung();
        for (var h : open) {
            h.close();
        }
        runtime.shutdown();
    }

    private static ScoringSession session(Path bundle) throws Exception {
        return ScoringSession.open(BundleLoader.verify(bundle.toUri(), bundle, null), RuntimeOptions.cpu());
    }

    private static SlmScoring<String> coalescing(Path bundle, int maxRetries) {
        Configuration one = new Configuration();
        one.set(ScoringOptions.DISPATCHER_THREADS, 1);
        return HarnessSupport.builder(bundle)
                .dispatch(DispatchPolicy.ADAPTIVE)
                .coalesce(true)
                .configure(one)
                .maxBatchSize(8)
                .maxInFlight(2)
                .maxRetries(maxRetries)
                .retryBackoff(Duration.ZERO)
                .inferenceTimeout(Duration.ofSeconds(1))
                .maxConsecutiveTimeouts(100)
                .build();
    }

    private OneInputStreamOperatorTestHarness<String, Scored<String>> subtask(SlmScoring<String> scoring)
            throws Exception {
        var h = harness(scoring, runtime);
        open.add(h);
        return h;
    }

    private List<OneInputStreamOperatorTestHarness<String, Scored<String>>> subtasks(int n, SlmScoring<String> scoring)
            throws Exception {
        List<OneInputStreamOperatorTestHarness<String, Scored<String>>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            var h = subtask(scoring);
            h.open();
            all.add(h);
        }
        return all;
    }

    private static ScoringCore<?> core(OneInputStreamOperatorTestHarness<String, Scored<String>> h) {
        return ((ScoringOperator<?>) h.getOperator()).core();
    }

    private static long coalescedMax(OneInputStreamOperatorTestHarness<String, Scored<String>> h) {
        var histogram = core(h).histogram(ScoringMetricNames.COALESCED_BATCH_SIZE);
        return histogram.getCount() == 0 ? 0 : histogram.getStatistics().getMax();
    }

    /** Subtask 0 occupies the only dispatcher thread with a run that hangs until the test releases it. */
    private void occupyTheDispatcher(OneInputStreamOperatorTestHarness<String, Scored<String>> h) throws Exception {
        runtime.hang(true);
        h.processElement("first", 1L);
        runMailsUntil(h, () -> runtime.hungCalls() == 1);
    }

    private void release() {
        runtime.hang(false);
        runtime.releaseHung();
    }

    private static void assertScoredLikeTheModelAlone(List<Scored<String>> results) throws Exception {
        try (ScoringSession reference = session(fast)) {
            for (Scored<String> r : results) {
                float[] expected = TinyBundles.reference(FAST, reference.encode(r.element));
                assertThat(r.probabilities).containsExactly(expected, within(1e-5f));
            }
        }
    }

    @Test
    void batchesOfFourSubtasksAtLowRateRunAsOne() throws Exception {
        var all = subtasks(4, coalescing(fast, 2));
        occupyTheDispatcher(all.get(0));
        for (int i = 0; i < 4; i++) {
            all.get(i).processElement(TEXTS.get(i), 1L); // one event per subtask: each its own micro-batch
        }
        release();
        runMailsUntil(all.get(0), () -> results(all.get(0)).size() == 2);
        for (int i = 1; i < 4; i++) {
            var h = all.get(i);
            runMailsUntil(h, () -> results(h).size() == 1);
            assertThat(elements(h)).containsExactly(TEXTS.get(i));
            assertThat(results(h).get(0).batchSize)
                    .as("the subtask's own batch")
                    .isEqualTo(1);
            assertThat(coalescedMax(h))
                    .as("its run held all four subtasks' batches")
                    .isEqualTo(4);
            assertScoredLikeTheModelAlone(results(h));
        }
        assertThat(elements(all.get(0))).containsExactly("first", TEXTS.get(0));
        assertThat(runtime.calls()).as("the hung run plus one joint run").isEqualTo(2);
        assertThat(core(all.get(1))
                        .histogram(ScoringMetricNames.DISPATCHER_QUEUE_MS)
                        .getCount())
                .isEqualTo(1);
    }

    @Test
    void aFailoverOfOneSubtaskDoesNotDisturbTheOthers() throws Exception {
        SlmScoring<String> scoring = coalescing(fast, 2);
        var all = subtasks(4, scoring);
        occupyTheDispatcher(all.get(0));
        for (int i = 0; i < 4; i++) {
            all.get(i).processElement(TEXTS.get(i), 1L);
        }
        // subtask 0 fails: its last checkpoint holds both its events; the task is cancelled
        OperatorSubtaskState checkpoint = all.get(0).snapshot(1L, 1L);
        all.get(0).close();
        open.remove(all.get(0));
        release();
        for (int i = 1; i < 4; i++) {
            var h = all.get(i);
            runMailsUntil(h, () -> results(h).size() == 1);
            assertThat(elements(h)).containsExactly(TEXTS.get(i));
            assertThat(coalescedMax(h))
                    .as("the failed subtask's waiting batch was taken out")
                    .isEqualTo(3);
            assertScoredLikeTheModelAlone(results(h));
        }
        assertThat(deadLetters(all.get(1))).isEmpty();
        // the restarted subtask scores each of its events exactly once
        var restarted = subtask(scoring);
        restarted.initializeState(checkpoint);
        restarted.open();
        restarted.endInput();
        assertThat(elements(restarted)).containsExactly("first", TEXTS.get(0));
        assertScoredLikeTheModelAlone(results(restarted));
    }

    @Test
    void aFailedJointRunFailsEachPartForItsOwnersRetry() throws Exception {
        var all = subtasks(3, coalescing(fast, 1));
        occupyTheDispatcher(all.get(0));
        for (int i = 0; i < 3; i++) {
            all.get(i).processElement(TEXTS.get(i), 1L);
        }
        runtime.failNext(2); // the hung run and the joint run after it
        release();
        for (var h : all) {
            runMailsUntil(h, () -> results(h).size() + deadLetters(h).size() == (h == all.get(0) ? 2 : 1));
            assertThat(deadLetters(h)).isEmpty();
            assertThat(core(h).counter(ScoringMetricNames.RETRIES))
                    .as("each owner retried its own part")
                    .isPositive();
        }
        assertThat(elements(all.get(1))).containsExactly(TEXTS.get(1));
        assertThat(elements(all.get(2))).containsExactly(TEXTS.get(2));
    }

    @Test
    void anInvalidRowOfOneSubtaskFailsOnlyThatSubtasksElement() throws Exception {
        var all = subtasks(3, coalescing(nan, 2));
        occupyTheDispatcher(all.get(0));
        all.get(0).processElement("invoice 42 paid", 1L);
        all.get(1).processElement("a zebra crossing", 1L); // the model answers NaN for it
        all.get(2).processElement("salary june", 1L);
        release();
        var bad = all.get(1);
        runMailsUntil(bad, () -> deadLetters(bad).size() == 1);
        assertThat(deadLetters(bad).get(0).reason).isEqualTo(ScoringFailure.MODEL_OUTPUT_INVALID);
        assertThat(results(bad)).isEmpty();
        runMailsUntil(all.get(0), () -> results(all.get(0)).size() == 2);
        runMailsUntil(all.get(2), () -> results(all.get(2)).size() == 1);
        assertThat(deadLetters(all.get(0))).isEmpty();
        assertThat(deadLetters(all.get(2))).isEmpty();
        assertThat(elements(all.get(2))).containsExactly("salary june");
    }

    @Test
    void aBatchNoDispatcherThreadTakesInTimeCountsAsATimeout() throws Exception {
        var all = subtasks(2, coalescing(fast, 0));
        occupyTheDispatcher(all.get(0));
        all.get(1).processElement(TEXTS.get(1), 1L); // waits behind the hung run
        runtime.advance(Duration.ofMillis(1001));
        var waiting = all.get(1);
        runMailsUntil(waiting, () -> deadLetters(waiting).size() == 1);
        assertThat(deadLetters(waiting).get(0).reason).isEqualTo(ScoringFailure.INFERENCE_TIMEOUT);
        assertThat(deadLetters(waiting).get(0).message).contains("dispatcher");
        assertThat(core(waiting).counter(ScoringMetricNames.TIMEOUTS)).isEqualTo(1);
        assertThat(runtime.calls()).as("the waiting batch never ran").isEqualTo(1);
    }

    @Test
    void onCpuSessionsBatchesStayWithTheirOperatorUnlessAskedFor() throws Exception {
        var h = subtask(
                HarnessSupport.builder(fast).dispatch(DispatchPolicy.ADAPTIVE).build());
        h.open();
        h.processElement(TEXTS.get(0), 1L);
        runMailsUntil(h, () -> results(h).size() == 1);
        assertThat(core(h).histogram(ScoringMetricNames.COALESCED_BATCH_SIZE).getCount())
                .isZero();
        assertThat(SlmScoring.<String>builder()
                        .text(s -> s)
                        .model("x")
                        .build()
                        .config()
                        .dispatcher()
                        .enabled())
                .as("unset: decided by the session's provider")
                .isNull();
    }
}
