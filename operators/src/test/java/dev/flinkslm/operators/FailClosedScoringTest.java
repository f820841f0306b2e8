package dev.flinkslm.operators;

import static dev.flinkslm.operators.HarnessSupport.builder;
import static dev.flinkslm.operators.HarnessSupport.deadLetters;
import static dev.flinkslm.operators.HarnessSupport.elements;
import static dev.flinkslm.operators.HarnessSupport.harness;
import static dev.flinkslm.operators.HarnessSupport.results;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.FailClosedBundlesTest;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The scoring operator fails closed: invalid outputs, long texts and their token budget, restores. */
class FailClosedScoringTest {

    @TempDir
    static Path tmp;

    static Path fast;
    static Path slow;

    /** ~10 windows of the tiny model (64 tokens, stride 8). */
    static final String LONG = "the customer paid the monthly invoice for office supplies on time. ".repeat(40)
            + "split the cash into deposits under ten thousand";

    @BeforeAll
    static void bundles() throws Exception {
        fast = TinyBundles.write(tmp.resolve("fast"), new TinyBundles.Spec().id("fast"));
        slow = TinyBundles.write(
                tmp.resolve("slow"), new TinyBundles.Spec().id("slow").slow(25));
    }

    private static long counter(OneInputStreamOperatorTestHarness<String, Scored<String>> h, String name)
            throws Exception {
        return ((dev.flinkslm.operators.internal.ScoringOperator<?>) h.getOperator())
                .core()
                .counter(name);
    }

    /**
     * The token budget accounts for all windows of an event: one event never runs in a batch beyond
     * slm.batch.max-size rows or slm.batch.max-tokens padded tokens; the windows that do not fit are
     * not scored and the result says so (truncated), never silently.
     */
    @Test
    void oneElementsWindowsStayWithinTheTokenBudget() throws Exception {
        int cap = 128;
        try (var h = harness(builder(fast)
                .maxBatchSize(4)
                .maxBatchTokens(cap)
                .windowStride(8)
                .maxWindows(16)
                .build())) {
            h.open();
            h.processElement(LONG, 1L);
            h.endInput();
            Scored<String> r = results(h).get(0);
            assertThat(r.windows).isEqualTo(2);
            assertThat(r.truncated).isTrue();
            assertThat(r.batchSize)
                    .as("rows in the batch vs slm.batch.max-size 4")
                    .isLessThanOrEqualTo(4);
            assertThat((long) r.batchSize * 64)
                    .as("padded tokens vs slm.batch.max-tokens")
                    .isLessThanOrEqualTo(cap);
        }
    }

    /** truncated results are flagged and counted in truncatedRecords. */
    @Test
    void truncatedElementsAreFlaggedAndCounted() throws Exception {
        try (var h = harness(
                builder(fast).maxBatchSize(64).windowStride(8).maxWindows(2).build())) {
            h.open();
            h.processElement(LONG, 1L);
            h.processElement("short", 1L);
            h.endInput();
            assertThat(results(h).get(0).truncated).isTrue();
            assertThat(results(h).get(0).windows).isEqualTo(2);
            assertThat(results(h).get(1).truncated).isFalse();
            assertThat(counter(h, "truncatedRecords")).isEqualTo(1);
        }
    }

    /**
     * A model that passes admission (no warm-up text has a width between 9 and 24 tokens) but is NaN
     * for such batches dead-letters those events as MODEL_OUTPUT_INVALID (never a label) and counts
     * them in modelOutputInvalid; short texts in their own batches are still scored.
     */
    @Test
    void aModelBadOnlyForMidWidthsDeadLettersThoseEventsAndCountsThem() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().id("midwidth");
        Path dir = TinyBundles.write(tmp.resolve("midwidth"), spec);
        Files.write(dir.resolve("model.onnx"), FailClosedBundlesTest.nanForWidthsBetween(spec, 9, 24));
        TinyBundles.writeManifest(dir, spec);
        String mid = "the payment was sent to an account at a bank in another country";
        try (var h = harness(builder(dir).maxBatchSize(1).build())) {
            h.open(); // admitted: no warm-up text is between 9 and 24 tokens long
            h.processElement("salary", 1L);
            h.processElement(mid, 1L);
            h.processElement("rent", 1L);
            h.endInput();
            assertThat(elements(h)).containsExactly("salary", "rent");
            assertThat(deadLetters(h)).singleElement().satisfies(f -> {
                assertThat(f.reason).isEqualTo(ScoringFailure.MODEL_OUTPUT_INVALID);
                assertThat(f.message).doesNotContain("payment");
            });
            assertThat(counter(h, "modelOutputInvalid")).isEqualTo(1);
        }
    }

    /**
     * a checkpoint taken while a multi-window element's batch is in flight restores it as one
     * element: after restore it is scored once, whole (same window count), never split across results.
     */
    @Test
    void aMultiWindowElementInFlightAtACheckpointIsRestoredWhole() throws Exception {
        SlmScoring<String> scoring = builder(slow)
                .maxBatchSize(64)
                .maxInFlight(1)
                .windowStride(8)
                .maxWindows(16)
                .build();
        int windows;
        OperatorSubtaskState snapshot;
        try (var h = harness(scoring)) {
            h.open();
            h.processElement("first short", 1L);
            h.processElement(LONG, 2L);
            h.processElement("after", 3L);
            snapshot = h.snapshot(1L, 1L);
            h.endInput();
            windows = results(h).stream()
                    .filter(r -> r.element.equals(LONG))
                    .findFirst()
                    .orElseThrow()
                    .windows;
        }
        try (var restored = harness(scoring)) {
            restored.initializeState(snapshot);
            restored.open();
            restored.endInput();
            List<Scored<String>> longOnes = new ArrayList<>();
            for (Scored<String> r : results(restored)) {
                if (r.element.equals(LONG)) {
                    longOnes.add(r);
                }
            }
            assertThat(longOnes)
                    .singleElement()
                    .satisfies(r -> assertThat(r.windows).isEqualTo(windows));
            assertThat(elements(restored)).containsExactly("first short", LONG, "after");
        }
    }

    /**
     * a DEPLOY of a model whose output is invalid at warm-up is REJECTED (reason names
     * MODEL_OUTPUT_INVALID) and the old version keeps serving; malformed command URIs are REJECTED.
     */
    @Test
    void badOutputAndMalformedUrisInCommandsAreRejectedWhileTheOldVersionServes() throws Exception {
        Path roots = tmp.resolve("vroots");
        Path v1 = TinyBundles.write(
                roots.resolve("v1"), new TinyBundles.Spec().id("m").version("1"));
        Path nan = TinyBundles.write(
                roots.resolve("nan"),
                new TinyBundles.Spec().id("m").version("nan").badOutput(TinyBundles.BadOutput.NAN));
        TinyBundles.Spec tolSpec = new TinyBundles.Spec().id("m").version("tol");
        Path tol = TinyBundles.write(roots.resolve("tol"), tolSpec);
        Files.write(tol.resolve("model.onnx"), FailClosedBundlesTest.constantRowGraph(tolSpec, 0.6f, 0.6f, 0f, 0f, 0f));
        TinyBundles.writeManifest(tol, tolSpec);
        VersionsSupport support = new VersionsSupport(VersionsSupport.config(v1, roots, b -> b), v1);
        try (var h = support.harness()) {
            h.open();
            ModelAudit a =
                    support.command(h, ModelCommand.deploy("c-nan", nan.toUri().toString(), ModelCommand.Role.ACTIVE));
            assertThat(a.outcome).isEqualTo(ModelAudit.REJECTED);
            assertThat(a.reason).contains("MODEL_OUTPUT_INVALID");
            ModelAudit t =
                    support.command(h, ModelCommand.deploy("c-tol", tol.toUri().toString(), ModelCommand.Role.ACTIVE));
            assertThat(t.outcome).isEqualTo(ModelAudit.REJECTED);
            int i = 0;
            for (String uri : List.of(
                    "file://host" + v1,
                    v1.toUri() + "?x=1",
                    "s3://b/p/%2e%2e/x",
                    "file:" + roots + "/%2e%2e/etc",
                    "not a uri at all",
                    "")) {
                ModelAudit m = support.command(h, ModelCommand.deploy("c-uri" + i++, uri, ModelCommand.Role.ACTIVE));
                assertThat(m.outcome).as(uri).isEqualTo(ModelAudit.REJECTED);
            }
            assertThat(VersionsSupport.score(h, "k", "still served").modelVersion)
                    .isEqualTo("1");
        }
    }

    /**
     * * The REJECTED audit record of a DEPLOY whose URI carries credentials keeps the raw URI, so the
     * credentials are written to the audit topic/files. */
    @Test
    void credentialsInARejectedCommandUriDoNotReachTheAuditRecord() throws Exception {
        Path roots = tmp.resolve("croots");
        Path v1 = TinyBundles.write(
                roots.resolve("v1"), new TinyBundles.Spec().id("m").version("1"));
        VersionsSupport support = new VersionsSupport(VersionsSupport.config(v1, roots, b -> b), v1);
        try (var h = support.harness()) {
            h.open();
            ModelAudit a = support.command(
                    h,
                    ModelCommand.deploy(
                            "c-cred", "s3://AKIAEXAMPLE:wJalrXUtnFEMI@bank-models/prod/x", ModelCommand.Role.ACTIVE));
            assertThat(a.outcome).isEqualTo(ModelAudit.REJECTED);
            assertThat(a.reason).doesNotContain("wJalrXUtnFEMI");
            assertThat(String.valueOf(a.uri)).as("audit uri").doesNotContain("wJalrXUtnFEMI");
        }
    }

    /**
     * . Observed through the shared session's
     * counter: restoring a rule log that routes to a version with golden examples scores them again.
     * No existing test fails if the restore path skips the golden check (mutation check).
     */
    @Test
    void goldenExamplesRunAgainOnRestore() throws Exception {
        Path roots = tmp.resolve("groots");
        Path v1 = TinyBundles.write(
                roots.resolve("v1"), new TinyBundles.Spec().id("m").version("1"));
        TinyBundles.Spec v2spec = new TinyBundles.Spec().id("m").version("2").seed(99);
        Path v2 = TinyBundles.write(roots.resolve("v2"), v2spec);
        List<dev.flinkslm.models.ModelManifest.GoldenExample> golden = new ArrayList<>();
        try (var s = dev.flinkslm.models.ScoringSession.open(
                dev.flinkslm.models.BundleLoader.verify(v2.toUri(), v2, null),
                dev.flinkslm.models.RuntimeOptions.cpu())) {
            for (String t : TinyBundles.sampleTexts(5)) {
                golden.add(new dev.flinkslm.models.ModelManifest.GoldenExample(
                        t, s.scoreTexts(List.of(t)).get(0).label()));
            }
        }
        v2spec.golden(golden);
        TinyBundles.writeManifest(v2, v2spec);
        VersionsSupport support = new VersionsSupport(VersionsSupport.config(v1, roots, b -> b), v1);
        OperatorSubtaskState snapshot;
        dev.flinkslm.models.SessionCache.Lease mine;
        try (var h = support.harness()) {
            h.open();
            ModelAudit a =
                    support.command(h, ModelCommand.deploy("g2", v2.toUri().toString(), ModelCommand.Role.ACTIVE));
            assertThat(a.outcome).isEqualTo(ModelAudit.ACCEPTED);
            assertThat(VersionsSupport.score(h, "k", "x").modelVersion).isEqualTo("2");
            snapshot = h.snapshot(1, 1);
            mine = dev.flinkslm.models.SessionCache.shared()
                    .acquire(
                            dev.flinkslm.models.BundleLoader.builder()
                                    .roots(dev.flinkslm.models.ModelRoots.of(roots.toString()))
                                    .build()
                                    .load(v2.toString()),
                            support.config.runtime());
        }
        try (mine;
                var restored = support.harness()) {
            assertThat(mine.loadedSession())
                    .as("the operator's session is shared with this lease")
                    .isFalse();
            long before = mine.session().textsScored();
            restored.initializeState(snapshot);
            restored.open();
            assertThat(mine.session().textsScored() - before)
                    .as("golden texts scored on restore")
                    .isGreaterThanOrEqualTo(golden.size());
        }
    }
}
