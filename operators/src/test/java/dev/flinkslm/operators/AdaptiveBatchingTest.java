package dev.flinkslm.operators;

import static dev.flinkslm.operators.HarnessSupport.elements;
import static dev.flinkslm.operators.HarnessSupport.harness;
import static dev.flinkslm.operators.HarnessSupport.keyedHarness;
import static dev.flinkslm.operators.HarnessSupport.results;
import static dev.flinkslm.operators.HarnessSupport.runMailsUntil;
import static dev.flinkslm.operators.HarnessSupport.runQueuedMails;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.TinyBundles;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The {@link DispatchPolicy#ADAPTIVE} policy: a free inference thread takes a batch at once, batches
 * grow only while every thread is busy, and the latency budget stops a batch from growing past what
 * its oldest element can afford. Max-wait is one hour in every test, so no result here comes from
 * the timer.
 */
class AdaptiveBatchingTest {

    @TempDir
    static Path tmp;

    static Path fast;
    static Path slow;

    @BeforeAll
    static void bundles() throws Exception {
        fast = TinyBundles.write(tmp.resolve("fast"), new TinyBundles.Spec().id("fast"));
        slow = TinyBundles.write(
                tmp.resolve("slow"), new TinyBundles.Spec().id("slow").slow(25));
    }

    private static SlmScoring.Builder<String> adaptive(Path bundle) {
        return HarnessSupport.builder(bundle).dispatch(DispatchPolicy.ADAPTIVE);
    }

    @Test
    void anIdleThreadScoresAnElementAtOnce() throws Exception {
        try (var h = harness(adaptive(fast).maxBatchSize(32).build())) {
            h.open();
            long before = h.getProcessingTime();
            h.processElement("wire 9000 to the new beneficiary", 1L);
            runMailsUntil(h, () -> results(h).size() == 1);
            assertThat(h.getProcessingTime()).as("no timer was needed").isEqualTo(before);
            assertThat(results(h).get(0).batchSize).isEqualTo(1);
        }
    }

    @Test
    void theDefaultPolicyIsAdaptive() {
        assertThat(SlmScoring.<String>builder()
                        .text(s -> s)
                        .model("x")
                        .build()
                        .config()
                        .dispatch())
                .isEqualTo(DispatchPolicy.ADAPTIVE);
        assertThat(ScoringConfig.defaults().latencyBudget()).isNull();
    }

    @Test
    void batchesGrowOnlyWhileEveryThreadIsBusy() throws Exception {
        TestRuntime runtime = new TestRuntime();
        try (var h = harness(adaptive(fast).maxBatchSize(8).maxInFlight(2).build(), runtime)) {
            h.open();
            runtime.hang(true);
            List<String> in = TinyBundles.sampleTexts(15);
            h.processElement(in.get(0), 1L);
            h.processElement(in.get(1), 1L);
            runMailsUntil(h, () -> runtime.hungCalls() == 2);
            // both threads busy: the next 13 wait, 8 (the size cap) in one batch and 5 in the next
            for (String t : in.subList(2, 15)) {
                h.processElement(t, 1L);
            }
            runQueuedMails(h);
            assertThat(runtime.calls())
                    .as("no run starts while both threads are busy")
                    .isEqualTo(2);
            runtime.hang(false);
            runtime.releaseHung();
            runMailsUntil(h, () -> results(h).size() == 15);
            assertThat(elements(h)).containsExactlyElementsOf(in);
            assertThat(results(h))
                    .extracting(r -> r.batchSize)
                    .containsExactly(1, 1, 8, 8, 8, 8, 8, 8, 8, 8, 5, 5, 5, 5, 5);
            assertThat(runtime.calls()).isEqualTo(4);
        } finally {
            runtime.shutdown();
        }
    }

    @ParameterizedTest
    @EnumSource(OutputMode.class)
    void outputModesAndWatermarksHoldUnderAdaptiveBatching(OutputMode mode) throws Exception {
        try (var h = harness(adaptive(slow)
                .maxBatchSize(4)
                .maxInFlight(2)
                .groupByLength(true)
                .outputMode(mode)
                .build())) {
            h.open();
            List<String> in = TinyBundles.sampleTexts(30);
            for (int i = 0; i < in.size(); i++) {
                h.processElement(in.get(i), i);
                if (i % 10 == 9) {
                    h.processWatermark(new Watermark(i));
                }
            }
            h.endInput();
            List<Object> output = new ArrayList<>(h.getOutput());
            long watermark = Long.MIN_VALUE;
            for (Object o : output) {
                if (o instanceof Watermark w) {
                    watermark = w.getTimestamp();
                } else if (o instanceof StreamRecord<?> r) {
                    assertThat(r.getTimestamp())
                            .as("no element after a watermark it precedes")
                            .isGreaterThan(watermark);
                }
            }
            if (mode == OutputMode.ORDERED) {
                assertThat(elements(h)).containsExactlyElementsOf(in);
            } else {
                assertThat(elements(h)).containsExactlyInAnyOrderElementsOf(in);
            }
            assertThat(results(h))
                    .as("under load the slow model's batches grew past one element")
                    .anySatisfy(r -> assertThat(r.batchSize).isGreaterThan(1));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aSnapshotWithRunningAndWaitingElementsRestoresEachExactlyOnce(boolean keyedInput) throws Exception {
        // keyed: the slow model on real threads; not keyed: a run held by the test runtime
        TestRuntime runtime = new TestRuntime();
        SlmScoring<String> scoring = adaptive(keyedInput ? slow : fast)
                .maxBatchSize(4)
                .maxInFlight(1)
                .build();
        List<String> in = TinyBundles.sampleTexts(12);
        List<String> before;
        OperatorSubtaskState snapshot;
        try (AbstractStreamOperatorTestHarness<Scored<String>> h =
                keyedInput ? keyedHarness(scoring) : harness(scoring, runtime)) {
            h.open();
            process(h, in.subList(0, 2));
            runMailsUntil(h, () -> results(h).size() == 2);
            before = elements(h);
            runtime.hang(true);
            // one running, the rest waiting in open and sealed batches (no mail runs in between)
            process(h, in.subList(2, 12));
            snapshot = h.snapshot(1L, 1L);
            assertThat(elements(h)).isEqualTo(before);
        } finally {
            runtime.hang(false);
            runtime.shutdown();
        }
        try (AbstractStreamOperatorTestHarness<Scored<String>> restored =
                keyedInput ? keyedHarness(scoring) : harness(scoring)) {
            restored.initializeState(snapshot);
            restored.open();
            ((OneInputStreamOperatorTestHarness<String, Scored<String>>) restored).endInput();
            assertThat(before).containsExactlyElementsOf(in.subList(0, 2));
            assertThat(elements(restored)).containsExactlyElementsOf(in.subList(2, 12));
        }
    }

    @SuppressWarnings("unchecked")
    private static void process(AbstractStreamOperatorTestHarness<Scored<String>> h, List<String> in) throws Exception {
        for (String t : in) {
            ((OneInputStreamOperatorTestHarness<String, Scored<String>>) h).processElement(t, 1L);
        }
    }

    @Test
    void aFullQueueStillBackpressuresTheInput() throws Exception {
        TestRuntime runtime = new TestRuntime();
        // capacity = (maxInFlight + 2) * maxBatchSize = 6 elements
        try (var h = harness(adaptive(fast).maxBatchSize(2).maxInFlight(1).build(), runtime)) {
            h.open();
            runtime.hang(true);
            List<String> in = TinyBundles.sampleTexts(7);
            for (int i = 0; i < 6; i++) {
                h.processElement(in.get(i), 1L);
            }
            runMailsUntil(h, () -> runtime.hungCalls() == 1);
            Thread release = new Thread(() -> {
                try {
                    // the 7th element below blocks the test thread in the mailbox until a run returns
                    while (runtime.hungCalls() == 0) {
                        Thread.onSpinWait();
                    }
                    runtime.hang(false);
                    runtime.releaseHung();
                } catch (RuntimeException ignored) {
                    // the assertion below reports a missing release
                }
            });
            assertThat(results(h)).isEmpty();
            release.start();
            h.processElement(in.get(6), 1L);
            assertThat(results(h))
                    .as("the 7th element was admitted only after a batch completed")
                    .isNotEmpty();
            release.join();
            h.endInput();
            assertThat(elements(h)).containsExactlyElementsOf(in);
        } finally {
            runtime.shutdown();
        }
    }

    /** Texts with one token length, so that each batch's cost is rows x that length. */
    private static List<String> sameLength(int n) {
        return Collections.nCopies(n, "wire transfer to a new beneficiary");
    }

    private static int tokens(String text) throws Exception {
        try (ScoringSession session =
                ScoringSession.open(BundleLoader.verify(fast.toUri(), fast, null), RuntimeOptions.cpu())) {
            return session.encode(text).length();
        }
    }

    /**
     * At 1 ms per padded token: scores {@code in[0]} alone (so the version's cost is measured), holds
     * the only thread with {@code in[1]}, queues the rest behind it, then lets everything run.
     */
    private static void measureHoldAndQueue(
            OneInputStreamOperatorTestHarness<String, Scored<String>> h, TestRuntime runtime, List<String> in)
            throws Exception {
        runtime.costPerPaddedToken(Duration.ofMillis(1));
        h.processElement(in.get(0), 1L);
        runMailsUntil(h, () -> results(h).size() == 1);
        runtime.hang(true);
        h.processElement(in.get(1), 1L); // expected to take the thread for 'length' ms
        runMailsUntil(h, () -> runtime.hungCalls() == 1);
        for (String t : in.subList(2, in.size())) {
            h.processElement(t, 1L);
        }
        runtime.hang(false);
        runtime.releaseHung();
        runMailsUntil(h, () -> results(h).size() == in.size());
        assertThat(elements(h)).containsExactlyElementsOf(in);
    }

    @Test
    void theLatencyBudgetStopsABatchFromGrowingPastWhatItsOldestElementCanAfford() throws Exception {
        TestRuntime runtime = new TestRuntime();
        Duration budget = Duration.ofMillis(60);
        try (var h = harness(
                adaptive(fast)
                        .maxBatchSize(64)
                        .maxInFlight(1)
                        .latencyBudget(budget)
                        .build(),
                runtime)) {
            h.open();
            List<String> in = sameLength(20);
            int length = tokens(in.get(0));
            // the thread is free in 'length' ms; a batch of k then takes k x 'length' ms
            int fits = (int) (budget.toMillis() / length) - 1;
            assertThat(fits).as("test texts of %s tokens", length).isBetween(2, 17);
            measureHoldAndQueue(h, runtime, in);
            List<Integer> sizes = results(h).stream().map(r -> r.batchSize).toList();
            assertThat(sizes.subList(2, 2 + fits))
                    .as("the first waiting batch stops at %s elements", fits)
                    .containsOnly(fits);
            assertThat(counter(h, ScoringMetricNames.LATENCY_BUDGET_FLUSHES)).isEqualTo(1);
            // the rest cannot meet the budget behind that batch, so they grow (to the size cap) in one
            assertThat(sizes.subList(2 + fits, 20)).containsOnly(18 - fits);
        } finally {
            runtime.shutdown();
        }
    }

    @Test
    void anUnmeetableBudgetLetsBatchesGrowToTheirCaps() throws Exception {
        TestRuntime runtime = new TestRuntime();
        try (var h = harness(
                adaptive(fast)
                        .maxBatchSize(8)
                        .maxInFlight(1)
                        .latencyBudget(Duration.ofMillis(1))
                        .build(),
                runtime)) {
            h.open();
            measureHoldAndQueue(h, runtime, sameLength(18));
            assertThat(results(h).subList(2, 18))
                    .allSatisfy(r -> assertThat(r.batchSize).isEqualTo(8));
            assertThat(counter(h, ScoringMetricNames.LATENCY_BUDGET_FLUSHES)).isZero();
        } finally {
            runtime.shutdown();
        }
    }

    @Test
    void withFillTheBudgetFlushesALoneElementInTimeToMeetIt() throws Exception {
        TestRuntime runtime = new TestRuntime();
        Duration budget = Duration.ofMillis(60);
        try (var h = harness(
                HarnessSupport.builder(fast)
                        .dispatch(DispatchPolicy.FILL)
                        .maxBatchSize(64)
                        .maxWait(Duration.ofSeconds(1))
                        .latencyBudget(budget)
                        .build(),
                runtime)) {
            h.open();
            List<String> in = sameLength(2);
            int length = tokens(in.get(0));
            runtime.costPerPaddedToken(Duration.ofMillis(1));
            h.processElement(in.get(0), 1L); // nothing measured yet: it waits for max-wait
            h.setProcessingTime(h.getProcessingTime() + 1000);
            runMailsUntil(h, () -> results(h).size() == 1);
            h.processElement(in.get(1), 1L);
            long start = h.getProcessingTime();
            // a thread is free, the run takes 'length' ms: it must start by 60 - length ms after arrival
            h.setProcessingTime(start + budget.toMillis() - length - 2);
            HarnessSupport.runQueuedMails(h);
            assertThat(results(h)).as("not due yet").hasSize(1);
            h.setProcessingTime(start + budget.toMillis() - length);
            runMailsUntil(h, () -> results(h).size() == 2);
            assertThat(counter(h, ScoringMetricNames.LATENCY_BUDGET_FLUSHES)).isEqualTo(1);
            assertThat(results(h).get(1).batchSize).isEqualTo(1);
        } finally {
            runtime.shutdown();
        }
    }

    @Test
    void aBudgetBelowOneMillisecondIsRefusedNamingTheOption() {
        assertThatThrownBy(() -> adaptive(fast).latencyBudget(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slm.batch.latency-budget");
    }

    private static long counter(AbstractStreamOperatorTestHarness<?> h, String name) {
        return ((dev.flinkslm.operators.internal.ScoringOperator<?>) h.getOperator())
                .core()
                .counter(name);
    }
}
