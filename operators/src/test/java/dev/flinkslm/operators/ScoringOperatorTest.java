package dev.flinkslm.operators;

import static dev.flinkslm.operators.HarnessSupport.builder;
import static dev.flinkslm.operators.HarnessSupport.deadLetters;
import static dev.flinkslm.operators.HarnessSupport.elements;
import static dev.flinkslm.operators.HarnessSupport.harness;
import static dev.flinkslm.operators.HarnessSupport.keyedHarness;
import static dev.flinkslm.operators.HarnessSupport.results;
import static dev.flinkslm.operators.HarnessSupport.runMailsUntil;
import static dev.flinkslm.operators.HarnessSupport.runQueuedMails;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
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
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

class ScoringOperatorTest {

    @TempDir
    static Path tmp;

    static Path fast;
    static Path slow;
    static TinyBundles.Spec fastSpec = new TinyBundles.Spec().id("fast");

    @BeforeAll
    static void bundles() throws Exception {
        fast = TinyBundles.write(tmp.resolve("fast"), fastSpec);
        slow = TinyBundles.write(
                tmp.resolve("slow"), new TinyBundles.Spec().id("slow").slow(25));
    }

    private static List<String> texts(int n) {
        return TinyBundles.sampleTexts(n);
    }

    @Test
    void flushesFullBatchesThenPartialOnesAfterMaxWait() throws Exception {
        try (var h = harness(
                builder(fast).maxBatchSize(4).maxWait(Duration.ofSeconds(5)).build())) {
            h.open();
            List<String> in = texts(7);
            for (String t : in.subList(0, 4)) {
                h.processElement(t, 1L);
            }
            runMailsUntil(h, () -> results(h).size() == 4);
            assertThat(results(h)).allSatisfy(r -> assertThat(r.batchSize).isEqualTo(4));

            for (String t : in.subList(4, 7)) {
                h.processElement(t, 2L);
            }
            runQueuedMails(h);
            assertThat(results(h)).as("a partial batch waits for max-wait").hasSize(4);

            h.setProcessingTime(h.getProcessingTime() + 5_000);
            runMailsUntil(h, () -> results(h).size() == 7);
            assertThat(results(h).subList(4, 7))
                    .allSatisfy(r -> assertThat(r.batchSize).isEqualTo(3));
            assertThat(elements(h)).containsExactlyElementsOf(in);
        }
    }

    @Test
    void resultsCarryModelIdentityAndMatchTheModel() throws Exception {
        ModelBundle bundle = BundleLoader.verify(fast.toUri(), fast, null);
        try (ScoringSession reference = ScoringSession.open(bundle, RuntimeOptions.cpu());
                var h = harness(builder(fast).maxBatchSize(8).build())) {
            h.open();
            List<String> in = texts(20);
            for (String t : in) {
                h.processElement(t, 1L);
            }
            h.endInput();
            List<Scored<String>> out = results(h);
            assertThat(out).hasSize(20);
            for (Scored<String> r : out) {
                float[] expected = TinyBundles.reference(fastSpec, reference.encode(r.element));
                assertThat(r.probabilities).containsExactly(expected, within(1e-5f));
                assertThat(r.modelId).isEqualTo("fast");
                assertThat(r.modelVersion).isEqualTo("1");
                assertThat(r.variant).isEqualTo("active");
                assertThat(r.labels).containsExactly("clear", "sanctions", "structuring", "fraud", "market_abuse");
                assertThat(r.label).isEqualTo(r.labels[r.labelIndex]);
                assertThat(r.scores()).hasSize(5);
            }
        }
    }

    @Test
    void endOfInputFlushesAndWaitsForEverything() throws Exception {
        try (var h = harness(builder(slow).maxBatchSize(16).build())) {
            h.open();
            List<String> in = texts(5);
            for (String t : in) {
                h.processElement(t, 1L);
            }
            h.endInput();
            assertThat(elements(h)).containsExactlyElementsOf(in);
        }
    }

    @Test
    void tokenCapLimitsPaddedBatchCost() throws Exception {
        int cap = 120;
        try (var h = harness(builder(fast).maxBatchSize(64).maxBatchTokens(cap).build())) {
            h.open();
            List<String> in = texts(60);
            for (String t : in) {
                h.processElement(t, 1L);
            }
            h.endInput();
            assertThat(elements(h)).containsExactlyElementsOf(in);
            // batch size x longest text never passes the cap (texts are 3..45 tokens)
            assertThat(results(h)).allSatisfy(r -> assertThat(r.batchSize).isLessThanOrEqualTo(cap / 3));
            assertThat(results(h).stream().mapToInt(r -> r.batchSize).max().getAsInt())
                    .isLessThan(64);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void snapshotWithBufferedAndInFlightElementsRestoresEachExactlyOnce(boolean keyedInput) throws Exception {
        SlmScoring<String> scoring =
                builder(slow).maxBatchSize(4).maxInFlight(1).build();
        List<String> in = texts(14);
        List<String> emittedBeforeSnapshot;
        OperatorSubtaskState snapshot;
        try (AbstractStreamOperatorTestHarness<Scored<String>> h =
                keyedInput ? keyedHarness(scoring) : harness(scoring)) {
            h.open();
            process(h, in.subList(0, 4));
            runMailsUntil(h, () -> results(h).size() == 4);
            emittedBeforeSnapshot = elements(h);
            // 10 more: one batch in flight, one ready, two elements buffered in an open batch
            process(h, in.subList(4, 14));
            snapshot = h.snapshot(1L, 1L);
            assertThat(elements(h))
                    .as("the slow batch is still in flight at the snapshot")
                    .hasSize(4);
        }
        try (AbstractStreamOperatorTestHarness<Scored<String>> restored =
                keyedInput ? keyedHarness(scoring) : harness(scoring)) {
            restored.initializeState(snapshot);
            restored.open();
            endInput(restored);
            List<String> all = new ArrayList<>(emittedBeforeSnapshot);
            all.addAll(elements(restored));
            assertThat(all).containsExactlyInAnyOrderElementsOf(in);
            assertThat(new HashSet<>(all)).hasSize(in.size());
            if (!keyedInput) {
                assertThat(elements(restored)).containsExactlyElementsOf(in.subList(4, 14));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static void process(AbstractStreamOperatorTestHarness<Scored<String>> h, List<String> in) throws Exception {
        for (String t : in) {
            ((OneInputStreamOperatorTestHarness<String, Scored<String>>) h).processElement(t, 1L);
        }
    }

    @SuppressWarnings("unchecked")
    private static void endInput(AbstractStreamOperatorTestHarness<Scored<String>> h) throws Exception {
        ((OneInputStreamOperatorTestHarness<String, Scored<String>>) h).endInput();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ORDERED", "UNORDERED"})
    void watermarksNeverOvertakeEarlierElements(String mode) throws Exception {
        try (var h = harness(builder(slow)
                .maxBatchSize(2)
                .maxInFlight(2)
                .groupByLength(true)
                .outputMode(OutputMode.valueOf(mode))
                .build())) {
            h.open();
            List<String> in = texts(9);
            for (int i = 0; i < 9; i++) {
                h.processElement(in.get(i), i);
                if (i == 3 || i == 6) {
                    h.processWatermark(new Watermark(i));
                }
            }
            h.endInput();
            List<Object> output = new ArrayList<>(h.getOutput());
            int wm3 = indexOfWatermark(output, 3);
            int wm6 = indexOfWatermark(output, 6);
            assertThat(wm3).isGreaterThan(0);
            assertThat(wm6).isGreaterThan(wm3);
            for (int i = 0; i < output.size(); i++) {
                if (output.get(i) instanceof StreamRecord<?> r) {
                    long ts = r.getTimestamp();
                    if (ts <= 3) {
                        assertThat(i).isLessThan(wm3);
                    } else if (ts <= 6) {
                        assertThat(i).isBetween(wm3, wm6);
                    } else {
                        assertThat(i).isGreaterThan(wm6);
                    }
                }
            }
            if (mode.equals("ORDERED")) {
                assertThat(elements(h)).containsExactlyElementsOf(in);
            } else {
                assertThat(elements(h)).containsExactlyInAnyOrderElementsOf(in);
            }
        }
    }

    private static int indexOfWatermark(List<Object> output, long ts) {
        for (int i = 0; i < output.size(); i++) {
            if (output.get(i) instanceof Watermark w && w.getTimestamp() == ts) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void orderedModeKeepsInputOrderAcrossLengthBuckets() throws Exception {
        try (var h = harness(
                builder(fast).maxBatchSize(3).maxInFlight(3).groupByLength(true).build())) {
            h.open();
            List<String> in = texts(40);
            for (String t : in) {
                h.processElement(t, 1L);
            }
            h.endInput();
            assertThat(elements(h)).containsExactlyElementsOf(in);
            assertThat(results(h)).anySatisfy(r -> assertThat(r.batchSize).isLessThan(3));
        }
    }

    @Test
    void fullQueueBackpressuresTheInput() throws Exception {
        // capacity = (maxInFlight + 2) * maxBatchSize = 6 elements
        try (var h = harness(builder(slow).maxBatchSize(2).maxInFlight(1).build())) {
            h.open();
            List<String> in = texts(7);
            for (int i = 0; i < 6; i++) {
                h.processElement(in.get(i), 1L);
            }
            assertThat(results(h))
                    .as("nothing is done yet: the slow model takes time")
                    .isEmpty();
            h.processElement(in.get(6), 1L); // must wait for a batch to complete
            assertThat(results(h))
                    .as("the 7th element was admitted only after a batch completed")
                    .isNotEmpty();
            h.endInput();
            assertThat(elements(h)).containsExactlyElementsOf(in);
        }
    }

    @Test
    void unscorableElementsAreDeadLetteredWithoutBlockingTheirBatch() throws Exception {
        try (var h = harness(builder(fast).maxBatchSize(4).build())) {
            h.open();
            List<String> in = List.of("wire 9000 cash", "NULL text", "invoice 42 paid", "NULL again", "salary june");
            for (String t : in) {
                h.processElement(t, 1L);
            }
            h.endInput();
            assertThat(elements(h)).containsExactly("wire 9000 cash", "invoice 42 paid", "salary june");
            assertThat(deadLetters(h)).extracting(f -> f.element).containsExactly("NULL text", "NULL again");
            assertThat(deadLetters(h)).allSatisfy(f -> assertThat(f.reason).isEqualTo(ScoringFailure.TEXT_MISSING));
        }
    }

    @Test
    void timedOutBatchesAreRetriedIsolatedAndDeadLettered() throws Exception {
        TestRuntime runtime = new TestRuntime();
        try (var h = harness(
                builder(fast)
                        .maxBatchSize(3)
                        .maxInFlight(8)
                        .maxRetries(1)
                        .retryBackoff(Duration.ZERO)
                        .inferenceTimeout(Duration.ofSeconds(1))
                        .maxConsecutiveTimeouts(100)
                        .build(),
                runtime)) {
            h.open();
            runtime.hang(true);
            List<String> in = texts(3);
            for (String t : in) {
                h.processElement(t, 1L);
            }
            // attempt 1, its retry, then the three elements alone at once: five runs, each timing out
            for (int runs : new int[] {1, 2, 5}) {
                runMailsUntil(h, () -> runtime.calls() == runs && runtime.hungCalls() == runs);
                runtime.advance(Duration.ofMillis(1001));
                runQueuedMails(h);
            }
            runMailsUntil(h, () -> deadLetters(h).size() == 3);
            assertThat(deadLetters(h)).extracting(f -> f.element).containsExactlyInAnyOrderElementsOf(in);
            assertThat(deadLetters(h)).allSatisfy(f -> {
                assertThat(f.reason).isEqualTo(ScoringFailure.INFERENCE_TIMEOUT);
                assertThat(f.model).isEqualTo("fast:1");
            });
            assertThat(results(h)).isEmpty();
            assertThat(runtime.calls()).isEqualTo(5);
        } finally {
            runtime.shutdown();
        }
    }

    @Test
    void aTimeoutCountsRunningTimeAndATimedOutRunKeepsItsThread() throws Exception {
        TestRuntime runtime = new TestRuntime();
        try (var h = harness(
                builder(fast)
                        .maxBatchSize(1)
                        .maxInFlight(1)
                        .maxRetries(3)
                        .retryBackoff(Duration.ZERO)
                        .inferenceTimeout(Duration.ofSeconds(1))
                        .maxConsecutiveTimeouts(100)
                        .build(),
                runtime)) {
            h.open();
            runtime.hang(true);
            h.processElement("first", 1L);
            h.processElement("second", 1L);
            runMailsUntil(h, () -> runtime.hungCalls() == 1);
            runtime.advance(Duration.ofMillis(1001));
            runQueuedMails(h);
            // the hung run still holds the only thread: neither the retry nor the queued batch may start,
            // and the queued batch's clock has not started
            runtime.advance(Duration.ofMillis(900));
            runQueuedMails(h);
            assertThat(runtime.calls()).isEqualTo(1);
            assertThat(deadLetters(h)).isEmpty();
            runtime.hang(false);
            runtime.releaseHung();
            h.endInput();
            assertThat(elements(h)).containsExactly("first", "second");
            assertThat(deadLetters(h)).isEmpty();
        } finally {
            runtime.shutdown();
        }
    }

    /** With the default settings (2 threads, 3 timeouts) two hung runs hold every thread: the job fails. */
    @Test
    void runsStuckOnEveryThreadFailTheJob() throws Exception {
        TestRuntime runtime = new TestRuntime();
        try (var h = harness(
                builder(fast)
                        .maxBatchSize(1)
                        .inferenceTimeout(Duration.ofSeconds(1))
                        .build(),
                runtime)) {
            h.open();
            runtime.hang(true);
            h.processElement("first", 1L);
            h.processElement("second", 1L);
            runMailsUntil(h, () -> runtime.hungCalls() == 2);
            runtime.advance(Duration.ofMillis(1001));
            runQueuedMails(h); // both time out; their retries cannot start: every thread is held
            assertThat(runtime.calls()).isEqualTo(2);
            runtime.advance(Duration.ofMillis(1001));
            assertThatThrownBy(() -> runQueuedMails(h))
                    .hasMessageContaining("3 consecutive inference timeouts")
                    .hasMessageContaining("All 2 inference threads are stuck");
            assertThat(deadLetters(h)).isEmpty();
        } finally {
            runtime.shutdown();
        }
    }

    /**
     * Periods with every thread held count towards the same limit as timeouts: below it, runs that answer
     * late only cost their events (dead-lettered), the job keeps going.
     */
    @Test
    void heldThreadsCountTowardsTheTimeoutLimitButDoNotFailBelowIt() throws Exception {
        TestRuntime runtime = new TestRuntime();
        try (var h = harness(
                builder(fast)
                        .maxBatchSize(1)
                        .maxRetries(0)
                        .inferenceTimeout(Duration.ofSeconds(1))
                        .maxConsecutiveTimeouts(10)
                        .build(),
                runtime)) {
            h.open();
            runtime.hang(true);
            h.processElement("first", 1L);
            h.processElement("second", 1L);
            runMailsUntil(h, () -> runtime.hungCalls() == 2);
            for (int period = 0; period < 6; period++) { // 2 timeouts + 5 held periods = 7 of 10
                runtime.advance(Duration.ofMillis(1001));
                runQueuedMails(h);
            }
            assertThat(deadLetters(h)).hasSize(2);
            runtime.hang(false);
            runtime.releaseHung();
            h.processElement("third", 2L);
            h.endInput();
            assertThat(elements(h)).containsExactly("third");
            assertThat(deadLetters(h)).hasSize(2);
        } finally {
            runtime.shutdown();
        }
    }

    @Test
    void consecutiveTimeoutsFailTheJobInsteadOfDeadLetteringEverything() throws Exception {
        TestRuntime runtime = new TestRuntime();
        try (var h = harness(
                builder(fast)
                        .maxBatchSize(1)
                        .maxInFlight(4)
                        .maxRetries(5)
                        .retryBackoff(Duration.ZERO)
                        .inferenceTimeout(Duration.ofSeconds(1))
                        .maxConsecutiveTimeouts(2)
                        .build(),
                runtime)) {
            h.open();
            runtime.hang(true);
            h.processElement("stuck", 1L);
            runMailsUntil(h, () -> runtime.hungCalls() == 1);
            runtime.advance(Duration.ofMillis(1001));
            runQueuedMails(h);
            runMailsUntil(h, () -> runtime.hungCalls() == 2);
            runtime.advance(Duration.ofMillis(1001));
            assertThatThrownBy(() -> runQueuedMails(h))
                    .hasMessageContaining("2 consecutive inference timeouts")
                    .hasMessageContaining("slm.inference.timeout");
            assertThat(deadLetters(h)).isEmpty();
        } finally {
            runtime.shutdown();
        }
    }

    /** stop-with-savepoint without drain: nothing waits for the hung run; the savepoint holds the batch. */
    @Test
    void stopWithSavepointWithoutDrainWhileABatchHangs() throws Exception {
        TestRuntime runtime = new TestRuntime();
        OperatorSubtaskState savepoint;
        try {
            var h = harness(builder(fast).maxBatchSize(2).build(), runtime);
            h.open();
            runtime.hang(true);
            h.processElement("first", 1L);
            h.processElement("second", 1L);
            runMailsUntil(h, () -> runtime.hungCalls() == 1);
            savepoint = h.snapshot(1L, 1L);
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30), h::close);
            assertThat(results(h)).isEmpty();
        } finally {
            runtime.shutdown();
        }
        try (var restored = harness(builder(fast).maxBatchSize(2).build())) {
            restored.initializeState(savepoint);
            restored.open();
            restored.endInput();
            assertThat(elements(restored)).containsExactly("first", "second");
        }
    }

    /** A model answering NaN for some inputs never yields a label: those events are dead-lettered, the rest scored. */
    @Test
    void invalidModelOutputIsDeadLetteredNeverALabel() throws Exception {
        long trigger;
        try (ScoringSession s =
                ScoringSession.open(BundleLoader.verify(fast.toUri(), fast, null), RuntimeOptions.cpu())) {
            trigger = s.encode("zebra").ids()[1];
        }
        Path nan = TinyBundles.write(
                tmp.resolve("nan"),
                new TinyBundles.Spec()
                        .id("nan")
                        .badOutput(TinyBundles.BadOutput.NAN)
                        .badOnTokenId(trigger));
        try (var h = harness(builder(nan).maxBatchSize(4).build())) {
            h.open();
            List<String> in = List.of("wire 9000 cash", "a zebra crossing", "invoice 42 paid", "zebra again", "salary");
            for (String t : in) {
                h.processElement(t, 1L);
            }
            h.endInput();
            assertThat(elements(h)).containsExactly("wire 9000 cash", "invoice 42 paid", "salary");
            assertThat(results(h)).allSatisfy(r -> {
                assertThat(Float.isFinite(r.score)).isTrue();
                for (float p : r.probabilities) {
                    assertThat(p).isBetween(0f, 1f);
                }
            });
            assertThat(deadLetters(h)).extracting(f -> f.element).containsExactly("a zebra crossing", "zebra again");
            assertThat(deadLetters(h)).allSatisfy(f -> {
                assertThat(f.reason).isEqualTo(ScoringFailure.MODEL_OUTPUT_INVALID);
                assertThat(f.message).doesNotContain("zebra");
            });
        }
    }

    @Test
    void watermarkStatusIsHeldBehindQueuedElements() throws Exception {
        try (var h = harness(builder(fast).maxBatchSize(8).build())) {
            h.open();
            h.processElement("queued", 3L);
            h.processWatermarkStatus(org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
            assertThat(h.getOutput()).isEmpty();
            h.endInput();
            List<Object> out = new ArrayList<>(h.getOutput());
            assertThat(out).hasSize(2);
            assertThat(out.get(0)).isInstanceOf(StreamRecord.class);
            assertThat(out.get(1)).isEqualTo(org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
        }
    }

    @Test
    void longTextsAreScoredInWindowsAndNeverCutSilently() throws Exception {
        String sentence = "the customer paid the monthly invoice for office supplies on time. ";
        String longText = sentence.repeat(20) + "split the cash into deposits under ten thousand";
        try (var h = harness(builder(fast)
                        .maxBatchSize(64)
                        .windowStride(8)
                        .maxWindows(64)
                        .build());
                var capped = harness(builder(fast)
                        .maxBatchSize(64)
                        .windowStride(8)
                        .maxWindows(2)
                        .build())) {
            h.open();
            capped.open();
            h.processElement(longText, 1L);
            h.processElement("short one", 1L);
            h.endInput();
            Scored<String> whole = results(h).get(0);
            assertThat(whole.windows).isGreaterThan(3);
            assertThat(whole.truncated).isFalse();
            assertThat(whole.batchSize)
                    .as("all windows of an element in one batch")
                    .isEqualTo(whole.windows + 1);
            assertThat(results(h).get(1).windows).isEqualTo(1);
            capped.processElement(longText, 1L);
            capped.endInput();
            Scored<String> cut = results(capped).get(0);
            assertThat(cut.windows).isEqualTo(2);
            assertThat(cut.truncated).isTrue();
        }
    }

    @Test
    void failPolicyFailsTheTask() throws Exception {
        try (var h = harness(builder(fast).failurePolicy(FailurePolicy.FAIL).build())) {
            h.open();
            assertThatThrownBy(() -> {
                        h.processElement("NULL", 1L);
                        h.endInput();
                    })
                    .hasMessageContaining("failure-policy is FAIL");
        }
    }

    @Test
    void objectReuseIsSafe() throws Exception {
        try (var h = harness(builder(fast).maxBatchSize(4).build())) {
            h.getExecutionConfig().enableObjectReuse();
            h.open();
            StreamRecord<String> reused = new StreamRecord<>("first", 1L);
            h.processElement(reused);
            reused.replace("second", 2L);
            h.processElement(reused);
            h.endInput();
            assertThat(elements(h)).containsExactly("first", "second");
        }
    }

    @Test
    void badOptionsFailFastNamingTheOption() {
        assertThatThrownBy(() -> builder(fast).maxBatchSize(0).build()).hasMessageContaining("slm.batch.max-size");
        assertThatThrownBy(() -> builder(fast).maxWait(Duration.ZERO).build())
                .hasMessageContaining("slm.batch.max-wait");
        assertThatThrownBy(() -> SlmScoring.<String>builder().build()).hasMessageContaining("text extractor");
        // the operator has no default model: the library knows no domain
        assertThatThrownBy(() -> SlmScoring.<String>builder().text(s -> s).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slm.model is not set");
    }

    @Test
    void aModelOutsideTheRootsFailsOpen() throws Exception {
        try (var h = harness(
                builder(fast).modelRoots(tmp.resolve("elsewhere").toString()).build())) {
            assertThatThrownBy(h::open).hasMessageContaining("URI_NOT_ALLOWED");
        }
    }

    @Test
    void sessionsAreSharedAcrossOperatorInstances() throws Exception {
        Set<Object> sessions = new HashSet<>();
        long before = dev.flinkslm.models.SessionCache.shared().loads();
        try (var a = harness(builder(fast).build());
                var b = harness(builder(fast).build())) {
            a.open();
            b.open();
            assertThat(dev.flinkslm.models.SessionCache.shared().loads() - before)
                    .isLessThanOrEqualTo(1);
            sessions.add(dev.flinkslm.models.SessionCache.shared().size());
        }
        assertThat(sessions).isNotEmpty();
    }

    @Test
    void gpuSizedBatchesOf1024Work() throws Exception {
        try (var h = harness(builder(fast)
                .maxBatchSize(1024)
                .maxBatchTokens(1 << 20)
                .maxInFlight(1)
                .build())) {
            h.open();
            List<String> in = texts(2048);
            for (String t : in) {
                h.processElement(t, 1L);
            }
            h.endInput();
            assertThat(elements(h)).containsExactlyElementsOf(in);
            // rows per batch: a text longer than the model's 64 tokens counts with each of its windows
            assertThat(results(h)).allSatisfy(r -> assertThat(r.batchSize).isLessThanOrEqualTo(1024));
            assertThat(results(h).subList(0, 1000))
                    .allSatisfy(r -> assertThat(r.batchSize).isGreaterThan(1000));
        }
    }
}
