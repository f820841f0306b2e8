package dev.flinkslm.operators;

import static dev.flinkslm.operators.HarnessSupport.runMailsUntil;
import static dev.flinkslm.operators.HarnessSupport.runQueuedMails;
import static dev.flinkslm.operators.VersionsSupport.audits;
import static dev.flinkslm.operators.VersionsSupport.results;
import static dev.flinkslm.operators.VersionsSupport.score;
import static dev.flinkslm.operators.VersionsSupport.shadows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.internal.InferenceRuntime;
import dev.flinkslm.operators.internal.versions.RuleLog;
import dev.flinkslm.operators.versions.MissingArtifactPolicy;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ModelCommand.Action;
import dev.flinkslm.operators.versions.ModelCommand.Role;
import dev.flinkslm.operators.versions.ShadowResult;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/** Live model versions on the operator: each scenario of the control-plane issue as a regression test. */
class ModelVersionsTest {

    @TempDir
    static Path tmp;

    static Path roots;
    static Path v1;
    static Path v2;
    static Path v3;
    static VersionsSupport support;

    @BeforeAll
    static void bundles() throws Exception {
        roots = tmp.resolve("models");
        v1 = TinyBundles.write(
                roots.resolve("v1"), new TinyBundles.Spec().id("m").version("1").seed(7));
        v2 = TinyBundles.write(
                roots.resolve("v2"), new TinyBundles.Spec().id("m").version("2").seed(99));
        v3 = TinyBundles.write(
                roots.resolve("v3"), new TinyBundles.Spec().id("m").version("3").seed(5));
        support = new VersionsSupport(VersionsSupport.config(v1, roots, b -> b), v1);
    }

    private static String uri(Path p) {
        return p.toUri().toString();
    }

    private static ModelCommand deploy(String id, Path bundle, Role role) {
        return ModelCommand.deploy(id, uri(bundle), role);
    }

    private static ModelCommand of(String id, Action action, String version) {
        return ModelCommand.of(id, action, version == null ? null : "m", version);
    }

    @Test
    void deployActiveSwapsEveryKeyOnlyOnceTheVersionIsLoaded() throws Exception {
        try (var h = support.harness()) {
            h.open();
            assertThat(score(h, "a", "wire 100").modelVersion).isEqualTo("1");
            h.processElement2(support.admit(deploy("c1", v2, Role.ACTIVE)));
            // routed before this subtask loaded v2: the old version still serves
            h.processElement1("b|invoice 7", 1L);
            runMailsUntil(
                    h,
                    () -> !audits(h, "c1", ModelAudit.READY).isEmpty()
                            && results(h).size() == 2);
            assertThat(results(h).get(1).modelVersion).isEqualTo("1");
            assertThat(score(h, "a", "wire 100").modelVersion).isEqualTo("2");
            assertThat(score(h, "b", "invoice 7").modelVersion).isEqualTo("2");
            assertThat(audits(h))
                    .filteredOn(a -> "c1".equals(a.commandId))
                    .extracting(a -> a.outcome)
                    .containsExactly(ModelAudit.ACCEPTED, ModelAudit.READY);
            assertThat(audits(h))
                    .filteredOn(a -> ModelAudit.LOADED.equals(a.outcome))
                    .singleElement()
                    .satisfies(a -> {
                        assertThat(a.version).isEqualTo("2");
                        assertThat(a.subtask).isZero();
                    });
            ModelAudit accepted = audits(h, "c1", ModelAudit.ACCEPTED).get(0);
            assertThat(accepted.subtask).isNull();
            assertThat(accepted.epoch).isEqualTo(1);
            assertThat(accepted.sha256).hasSize(64);
            assertThat(results(h).get(2).ruleEpoch).isEqualTo(1);
        }
    }

    @Test
    void canaryHitsItsShareOfKeysAndIsSticky() throws Exception {
        try (var h = support.harness()) {
            h.open();
            assertThat(support.command(h, deploy("c1", v2, Role.CANARY).percent(30)).outcome)
                    .isEqualTo(ModelAudit.ACCEPTED);
            Map<String, String> variantByKey = new HashMap<>();
            int keys = 400;
            for (int k = 0; k < keys; k++) {
                Scored<String> r = score(h, "acct-" + k, "payment " + k);
                variantByKey.put("acct-" + k, r.variant + "/" + r.modelVersion);
            }
            long canary = variantByKey.values().stream()
                    .filter(v -> v.equals("canary/2"))
                    .count();
            assertThat(canary).isBetween((long) (keys * 0.22), (long) (keys * 0.38));
            assertThat(variantByKey.values()).containsOnly("canary/2", "active/1");
            for (int k = 0; k < keys; k += 7) {
                Scored<String> again = score(h, "acct-" + k, "another text");
                assertThat(again.variant + "/" + again.modelVersion).isEqualTo(variantByKey.get("acct-" + k));
            }
        }
    }

    @Test
    void shadowScoresOnTheSideWithoutChangingTheServedResult() throws Exception {
        ModelBundle b1 = BundleLoader.verify(v1.toUri(), v1, null);
        try (var h = support.harness();
                ScoringSession reference = ScoringSession.open(b1, RuntimeOptions.cpu())) {
            h.open();
            support.command(h, deploy("s1", v2, Role.SHADOW));
            List<String> texts = TinyBundles.sampleTexts(30);
            for (int i = 0; i < texts.size(); i++) {
                Scored<String> r = score(h, "k" + (i % 5), texts.get(i));
                assertThat(r.modelVersion).isEqualTo("1");
                assertThat(r.variant).isEqualTo("active");
                float[] expected =
                        TinyBundles.reference(new TinyBundles.Spec().seed(7), reference.encode(texts.get(i)));
                assertThat(r.probabilities).containsExactly(expected, org.assertj.core.api.Assertions.within(1e-5f));
            }
            List<ShadowResult<String>> shadow = shadows(h);
            assertThat(shadow).hasSize(30);
            assertThat(shadow).allSatisfy(s -> {
                assertThat(s.shadowModel).isEqualTo("m:2");
                assertThat(s.servedModel).isEqualTo("m:1");
                assertThat(s.agree).isEqualTo(s.servedLabel.equals(s.shadowLabel));
            });
            assertThat(shadow.get(29).compared).isEqualTo(30);
        }
    }

    /** docs/model-versions.md rows 1-5: ROLLBACK and RETIRE interpret the rule log the same way. */
    @Test
    void rollbackAndRetireAgree() throws Exception {
        try (var h = support.harness()) {
            h.open();
            support.command(h, deploy("c1", v2, Role.ACTIVE));
            assertThat(support.command(h, of("c2", Action.RETIRE, "1")).outcome).isEqualTo(ModelAudit.ACCEPTED);
            ModelAudit rollback = support.command(h, of("c3", Action.ROLLBACK, null));
            assertThat(rollback.outcome).isEqualTo(ModelAudit.REJECTED);
            assertThat(rollback.reasonCode).isEqualTo(ModelAudit.NOTHING_TO_ROLL_BACK);
            ModelAudit retire = support.command(h, of("c4", Action.RETIRE, "2"));
            assertThat(retire.reasonCode).isEqualTo(ModelAudit.STILL_ROUTED);
            for (String key : List.of("a", "b", "brand-new")) {
                assertThat(score(h, key, "payment").modelVersion).isEqualTo("2");
            }
            assertThat(HarnessSupport.deadLetters(h)).isEmpty();
            runMailsUntil(h, () -> audits(h).stream().anyMatch(a -> ModelAudit.RELEASED.equals(a.outcome)));
            assertThat(audits(h))
                    .filteredOn(a -> ModelAudit.RELEASED.equals(a.outcome))
                    .extracting(a -> a.version)
                    .containsExactly("1");
        }
    }

    /** Row 6: retiring a version that serves some keys is refused; nothing goes to NO_MODEL. */
    @Test
    void retiringAVersionThatServesSomeKeysIsRefused() throws Exception {
        try (var h = support.harness()) {
            h.open();
            support.command(h, deploy("c1", v2, Role.ACTIVE).keys(List.of("a")));
            ModelAudit retire = support.command(h, of("c2", Action.RETIRE, "2"));
            assertThat(retire.reasonCode).isEqualTo(ModelAudit.STILL_ROUTED);
            assertThat(score(h, "a", "x").modelVersion).isEqualTo("2");
            assertThat(score(h, "b", "x").modelVersion).isEqualTo("1");
        }
    }

    /** Row 7: ROLLBACK with a shadow deployed reverts the served version and keeps the shadow. */
    @Test
    void rollbackWithAShadowRevertsTheServedVersion() throws Exception {
        try (var h = support.harness()) {
            h.open();
            support.command(h, deploy("c1", v2, Role.ACTIVE));
            support.command(h, deploy("c2", v3, Role.SHADOW));
            assertThat(score(h, "a", "x").modelVersion).isEqualTo("2");
            assertThat(support.command(h, of("c3", Action.ROLLBACK, null)).outcome)
                    .isEqualTo(ModelAudit.ACCEPTED);
            Scored<String> after = score(h, "a", "x");
            assertThat(after.modelVersion).isEqualTo("1");
            assertThat(shadows(h).get(shadows(h).size() - 1).shadowModel).isEqualTo("m:3");
            ModelCommand endShadow = of("c4", Action.ROLLBACK, null).role(Role.SHADOW);
            assertThat(support.command(h, endShadow).outcome).isEqualTo(ModelAudit.ACCEPTED);
            int before = shadows(h).size();
            score(h, "a", "x");
            assertThat(shadows(h)).hasSize(before);
        }
    }

    /**
     * Two subtasks: one has loaded the canary, the other not yet. PROMOTE is decided the same way by
     * both (one ACCEPTED), both rule logs stay equal, and each subtask moves its keys when it can.
     */
    @Test
    void promoteIsDecidedIdenticallyOnSubtasksThatDifferInLoadProgress() throws Exception {
        try (var s0 = support.harness(128, 2, 0, InferenceRuntime.DEFAULT);
                var s1 = support.harness(128, 2, 1, InferenceRuntime.DEFAULT)) {
            s0.open();
            s1.open();
            var canary = support.admit(deploy("c1", v2, Role.CANARY).percent(50));
            s0.processElement2(canary);
            s1.processElement2(canary);
            runMailsUntil(s0, () -> !audits(s0, "c1", ModelAudit.READY).isEmpty());
            // s1 has not run its load result yet: PROMOTE arrives before v2 is loaded there
            var promote = support.admit(of("c2", Action.PROMOTE, "2"));
            s0.processElement2(promote);
            s1.processElement2(promote);
            assertThat(audits(s0, "c2", ModelAudit.ACCEPTED)).hasSize(1);
            assertThat(audits(s1))
                    .as("only subtask 0 reports command decisions")
                    .noneMatch(a -> a.subtask == null);
            assertThat(VersionsSupport.ruleLog(s0.snapshot(1, 1)))
                    .isEqualTo(VersionsSupport.ruleLog(s1.snapshot(1, 1)));
            runMailsUntil(s1, () -> !audits(s1, "c2", ModelAudit.READY).isEmpty());
            for (int k = 0; k < 40; k++) {
                String key = "acct-" + k;
                var owner =
                        org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignKeyToParallelOperator(key, 128, 2)
                                        == 0
                                ? s0
                                : s1;
                assertThat(score(owner, key, "x").modelVersion).as(key).isEqualTo("2");
            }
        }
    }

    /**
     * A key idle while v2 became READY, whose next target (a canary) is still loading, keeps v2 (the
     * rules of the last READY), never the v1 it was last served by.
     */
    @Test
    void aKeyWaitingForALoadKeepsItsPreviousVersionNeverAnOlderOne() throws Exception {
        try (var h = support.harness()) {
            h.open();
            assertThat(score(h, "idle", "x").modelVersion).isEqualTo("1");
            support.command(h, deploy("c1", v2, Role.ACTIVE));
            h.processElement2(support.admit(deploy("c2", v3, Role.CANARY).percent(100)));
            h.processElement1("idle|y", 1L); // routed now, before this subtask loaded v3
            runMailsUntil(h, () -> results(h).size() == 2);
            assertThat(results(h).get(1).modelVersion).isEqualTo("2");
            assertThat(results(h).get(1).variant).isEqualTo("active");
            runMailsUntil(h, () -> !audits(h, "c2", ModelAudit.READY).isEmpty());
            assertThat(score(h, "idle", "z"))
                    .extracting(r -> r.variant + r.modelVersion)
                    .isEqualTo("canary3");
            assertThat(audits(h, "c2", ModelAudit.READY).get(0).epoch)
                    .isEqualTo(audits(h, "c2", ModelAudit.ACCEPTED).get(0).epoch);
        }
    }

    /** A shadow for one key still loading holds up nothing else: a ROLLBACK applies at once. */
    @Test
    void aPendingLoadBlocksOnlyWhatDependsOnIt() throws Exception {
        try (var h = support.harness()) {
            h.open();
            support.command(h, deploy("c1", v2, Role.ACTIVE));
            h.processElement2(support.admit(deploy("c2", v3, Role.SHADOW).keys(List.of("k1"))));
            h.processElement2(support.admit(of("c3", Action.ROLLBACK, null)));
            // without running the load's mail: v1 (kept as the rollback target) serves at once
            h.processElement1("other|payment", 1L);
            runMailsUntil(h, () -> results(h).size() == 1);
            assertThat(results(h).get(0).modelVersion).isEqualTo("1");
            assertThat(audits(h, "c3", ModelAudit.ACCEPTED)).hasSize(1);
            runMailsUntil(h, () -> !audits(h, "c3", ModelAudit.READY).isEmpty());
            assertThat(score(h, "k1", "x").modelVersion).isEqualTo("1");
            assertThat(shadows(h)).extracting(s -> s.shadowModel).containsExactly("m:3");
        }
    }

    @Test
    void badModelsAreRejectedWhileTheOldVersionKeepsServing() throws Exception {
        Path corrupt = TinyBundles.write(roots.resolve("corrupt"), new TinyBundles.Spec().version("c"));
        byte[] bytes = Files.readAllBytes(corrupt.resolve("model.onnx"));
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(corrupt.resolve("model.onnx"), bytes);
        TinyBundles.Spec wrongInputsSpec = new TinyBundles.Spec().version("w");
        wrongInputsSpec.inputIdsName = "ids";
        Path wrongInputs = TinyBundles.write(roots.resolve("wrong-inputs"), wrongInputsSpec);
        Path labels = TinyBundles.write(
                roots.resolve("labels"), new TinyBundles.Spec().version("l").outputWidth(3));
        Path golden = goldenFailing(roots.resolve("golden"));
        Path outside = TinyBundles.write(tmp.resolve("outside"), new TinyBundles.Spec().version("o"));
        Map<Path, String> expected = new java.util.LinkedHashMap<>();
        expected.put(corrupt, "CHECKSUM_MISMATCH");
        expected.put(wrongInputs, "INPUT_OUTPUT_MISMATCH");
        expected.put(labels, "LABEL_COUNT_MISMATCH");
        expected.put(golden, "ADMISSION_FAILED");
        expected.put(outside, "URI_NOT_ALLOWED");
        expected.put(roots.resolve("does-not-exist"), "MISSING_FILE");
        try (var h = support.harness()) {
            h.open();
            int i = 0;
            for (Map.Entry<Path, String> e : expected.entrySet()) {
                ModelAudit a = support.command(h, deploy("bad" + i, e.getKey(), Role.ACTIVE));
                assertThat(a.outcome).as(e.getValue()).isEqualTo(ModelAudit.REJECTED);
                assertThat(a.reasonCode).isEqualTo(ModelAudit.ADMISSION_FAILED);
                assertThat(a.reason).contains(e.getValue());
                assertThat(score(h, "k" + i, "still served").modelVersion).isEqualTo("1");
                i++;
            }
            assertThat(audits(h)).extracting(a -> a.outcome).containsOnly(ModelAudit.REJECTED);
        }
    }

    /** A valid bundle whose golden example expects a label the model does not give. */
    private static Path goldenFailing(Path dir) throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().version("g");
        Path bundle = TinyBundles.write(dir, spec);
        try (ScoringSession s =
                ScoringSession.open(BundleLoader.verify(bundle.toUri(), bundle, null), RuntimeOptions.cpu())) {
            String text = "wire transfer for invoice 77";
            String predicted = s.scoreTexts(List.of(text)).get(0).label();
            String wrong = spec.labels.stream()
                    .filter(l -> !l.equals(predicted))
                    .findFirst()
                    .get();
            spec.golden(List.of(new ModelManifest.GoldenExample(text, wrong)));
        }
        TinyBundles.writeManifest(bundle, spec);
        return bundle;
    }

    /** The slm.bundle.* limits apply at admission: a bundle beyond them is rejected everywhere. */
    @Test
    void bundleLimitsAreOperatorOptions() throws Exception {
        Path golden = TinyBundles.write(roots.resolve("with-golden"), new TinyBundles.Spec().version("gl"));
        try (ScoringSession s =
                ScoringSession.open(BundleLoader.verify(golden.toUri(), golden, null), RuntimeOptions.cpu())) {
            String label = s.scoreTexts(List.of("a b c")).get(0).label();
            TinyBundles.writeManifest(
                    golden,
                    new TinyBundles.Spec()
                            .version("gl")
                            .golden(List.of(
                                    new ModelManifest.GoldenExample("a b c", label),
                                    new ModelManifest.GoldenExample("a b c", label))));
        }
        VersionsSupport tight = new VersionsSupport(
                VersionsSupport.config(v1, roots, b -> b.option(ScoringOptions.BUNDLE_MAX_GOLDEN_EXAMPLES, 1)), v1);
        try (var h = tight.harness()) {
            h.open();
            ModelAudit a = tight.command(h, deploy("g1", golden, Role.ACTIVE));
            assertThat(a.reasonCode).isEqualTo(ModelAudit.ADMISSION_FAILED);
            assertThat(a.reason).contains("LIMIT_EXCEEDED");
        }
        try (var h = support.harness()) {
            h.open();
            assertThat(support.command(h, deploy("g2", golden, Role.ACTIVE)).outcome)
                    .isEqualTo(ModelAudit.ACCEPTED);
        }
    }

    /** Malformed commands each get one REJECTED record with the reason, and the job goes on. */
    @Test
    void malformedCommandsAreAnsweredAndNeverStopTheJob() throws Exception {
        List<String> bad = List.of(
                "not json",
                "{\"commandId\":\"t\",\"action\":\"DEPLOY\"",
                "{\"commandId\":\"u\",\"action\":\"EXPLODE\"}",
                "{\"commandId\":\"p1\",\"action\":\"DEPLOY\",\"uri\":\"x\",\"percent\":-5}",
                "{\"commandId\":\"p2\",\"action\":\"DEPLOY\",\"uri\":\"x\",\"percent\":150}",
                "{\"commandId\":\"p3\",\"action\":\"DEPLOY\",\"uri\":\"x\",\"percent\":\"NaN\"}",
                "{\"commandId\":\"\",\"action\":\"ROLLBACK\"}",
                "{\"commandId\":\"r\",\"action\":\"DEPLOY\",\"role\":\"X\",\"uri\":\"x\"}",
                "{\"commandId\":\"k\",\"action\":\"DEPLOY\",\"uri\":\"x\",\"keys\":\"ACC-1\"}",
                "{\"commandId\":\"n\",\"action\":\"ROLLBACK\",\"a\":[[[[[[1]]]]]]}");
        try (var h = support.harness()) {
            h.open();
            int line = 0;
            for (String json : bad) {
                ModelCommand c = ModelCommand.parse(
                        json.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        "commands.jsonl:" + (++line),
                        ModelCommand.DEFAULT_MAX_BYTES);
                h.processElement2(support.admit(c));
            }
            h.processElement2(support.admit(
                    ModelCommand.parse(new byte[(2 << 20)], "commands.jsonl:99", ModelCommand.DEFAULT_MAX_BYTES)));
            assertThat(audits(h)).hasSize(bad.size() + 1);
            assertThat(audits(h)).allSatisfy(a -> {
                assertThat(a.outcome).isEqualTo(ModelAudit.REJECTED);
                assertThat(a.reasonCode).isEqualTo(ModelAudit.INVALID_COMMAND);
                assertThat(a.reason).isNotBlank();
                assertThat(a.source).startsWith("commands.jsonl:");
            });
            assertThat(score(h, "a", "x").modelVersion).isEqualTo("1");
        }
    }

    /** 10,000 rejected commands of 1,000 keys each leave nothing in state; the checkpoint stays small. */
    @Test
    void rejectedCommandsDoNotGrowStateAndCheckpointsSucceed() throws Exception {
        List<String> keys = IntStream.range(0, 1000).mapToObj(i -> "ACC-" + i).toList();
        try (var h = support.harness()) {
            h.open();
            int before = VersionsSupport.ruleLog(h.snapshot(1, 1)).hashCode();
            for (int i = 0; i < 10_000; i++) {
                ModelCommand promote = of("p" + i, Action.PROMOTE, "9");
                promote.keys = keys;
                h.processElement2(support.admit(promote));
            }
            OperatorSubtaskState snapshot = h.snapshot(2, 2);
            assertThat(snapshot.getStateSize()).as("bytes of state").isLessThan(64 * 1024);
            assertThat(VersionsSupport.ruleLog(snapshot).hashCode()).isEqualTo(before);
            assertThat(audits(h))
                    .hasSize(10_000)
                    .allSatisfy(a -> assertThat(a.outcome).isEqualTo(ModelAudit.REJECTED));
        }
    }

    /** Watermark status comes from the event input and waits behind queued events. */
    @Test
    void watermarkStatusComesFromTheEventInputBehindQueuedElements() throws Exception {
        VersionsSupport batching = new VersionsSupport(
                VersionsSupport.config(v1, roots, b -> b.maxBatchSize(8).maxWait(Duration.ofHours(1))), v1);
        try (var h = batching.harness()) {
            h.open();
            h.processWatermarkStatus2(WatermarkStatus.IDLE);
            h.processElement1("a|first", 5L);
            h.processWatermark1(new Watermark(5));
            h.processWatermarkStatus1(WatermarkStatus.IDLE);
            assertThat(h.getOutput())
                    .as("nothing may overtake the queued element")
                    .isEmpty();
            h.endInput(1);
            List<Object> out = new ArrayList<>(h.getOutput());
            assertThat(out).hasSize(3);
            assertThat(out.get(0)).isInstanceOf(org.apache.flink.streaming.runtime.streamrecord.StreamRecord.class);
            assertThat(out.get(1)).isEqualTo(new Watermark(5));
            assertThat(out.get(2)).isEqualTo(WatermarkStatus.IDLE);
        }
    }

    @Test
    void savepointRestoreKeepsEveryKeysAssignmentAndReverifiesArtifacts() throws Exception {
        Path v2copy = TinyBundles.write(
                roots.resolve("v2-restorable"),
                new TinyBundles.Spec().id("m").version("2").seed(99));
        Map<String, String> before = new HashMap<>();
        OperatorSubtaskState snapshot;
        try (var h = support.harness()) {
            h.open();
            support.command(h, deploy("c1", v2copy, Role.CANARY).percent(50));
            support.command(h, deploy("c2", v3, Role.SHADOW).keys(List.of("k3")));
            for (int k = 0; k < 40; k++) {
                Scored<String> r = score(h, "k" + k, "text");
                before.put("k" + k, r.variant + r.modelVersion);
            }
            snapshot = h.snapshot(1, 1);
        }
        assertThat(before.values()).contains("canary2", "active1");
        try (var restored = support.harness()) {
            restored.initializeState(snapshot);
            restored.open();
            for (int k = 0; k < 40; k++) {
                Scored<String> r = score(restored, "k" + k, "text");
                assertThat(r.variant + r.modelVersion).as("k" + k).isEqualTo(before.get("k" + k));
            }
            assertThat(shadows(restored)).extracting(s -> s.shadowModel).containsOnly("m:3");
            assertThat(audits(restored))
                    .filteredOn(a -> ModelAudit.LOADED.equals(a.outcome))
                    .extracting(a -> a.version)
                    .contains("1", "2", "3");
        }
        // the artifact changes behind the job's back: restore fails fast naming it ...
        TinyBundles.write(v2copy, new TinyBundles.Spec().id("m").version("2").seed(1234));
        try (var broken = support.harness()) {
            broken.initializeState(snapshot);
            assertThatThrownBy(broken::open).hasMessageContaining("m:2").hasMessageContaining("CHECKSUM_MISMATCH");
        }
        // ... unless the fallback policy serves its keys with another loaded version
        VersionsSupport fallbackSupport = new VersionsSupport(
                VersionsSupport.config(v1, roots, b -> b.missingArtifactPolicy(MissingArtifactPolicy.FALLBACK)), v1);
        try (var fallback = fallbackSupport.harness()) {
            fallback.initializeState(snapshot);
            fallback.open();
            List<String> versions = new ArrayList<>();
            for (int k = 0; k < 40; k++) {
                versions.add(score(fallback, "k" + k, "text").modelVersion);
            }
            assertThat(versions).containsOnly("1");
            assertThat(audits(fallback)).anySatisfy(a -> {
                assertThat(a.outcome).isEqualTo(ModelAudit.LOAD_FAILED);
                assertThat(a.version).isEqualTo("2");
                assertThat(a.reason).contains("CHECKSUM_MISMATCH");
            });
        }
    }

    /** Close releases every lease: versions with batches in flight, and loads that finish after close. */
    @Test
    void noLeaseOutlivesTheOperator() throws Exception {
        Path slowV2 = TinyBundles.write(
                roots.resolve("slow-v2"),
                new TinyBundles.Spec().id("slow").version("2").slow(10));
        ModelBundle b1 = BundleLoader.verify(v1.toUri(), v1, null);
        ModelBundle b2 = BundleLoader.verify(slowV2.toUri(), slowV2, null);
        RuntimeOptions runtime = support.config.runtime();
        TestRuntime hanging = new TestRuntime();
        try {
            var h = support.harness(128, 1, 0, hanging);
            h.open();
            support.command(h, deploy("c1", slowV2, Role.ACTIVE));
            hanging.hang(true);
            h.processElement1("a|in flight at close", 1L);
            runMailsUntil(h, () -> hanging.hungCalls() == 1);
            h.processElement2(support.admit(deploy("c2", v3, Role.ACTIVE))); // a load that finishes after close
            h.close();
            hanging.releaseHung();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while ((SessionCache.shared().references(b1, runtime)
                                    + SessionCache.shared().references(b2, runtime))
                            > 0
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(SessionCache.shared().references(b1, runtime)).isZero();
            assertThat(SessionCache.shared().references(b2, runtime)).isZero();
        } finally {
            hanging.shutdown();
        }
        ModelBundle b3 = BundleLoader.verify(v3.toUri(), v3, null);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (SessionCache.shared().references(b3, runtime) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(SessionCache.shared().references(b3, runtime))
                .as("the late load released its lease")
                .isZero();
        // and no thread of a closed operator is left behind (the session closer exits when idle)
        java.util.function.Supplier<List<String>> operatorThreads = () -> Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName)
                .filter(n -> n.startsWith("slm-") && !n.startsWith("slm-session-closer"))
                .toList();
        deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!operatorThreads.get().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(operatorThreads.get()).isEmpty();
    }

    @Test
    void restoredRuleLogsAreEqualAcrossRescaling() throws Exception {
        OperatorSubtaskState a;
        OperatorSubtaskState b;
        try (var s0 = support.harness(128, 2, 0, InferenceRuntime.DEFAULT);
                var s1 = support.harness(128, 2, 1, InferenceRuntime.DEFAULT)) {
            s0.open();
            s1.open();
            support.command(List.of(s0, s1), deploy("c1", v2, Role.CANARY).percent(25));
            support.command(List.of(s0, s1), deploy("c2", v3, Role.ACTIVE).keys(List.of("vip")));
            a = s0.snapshot(3, 3);
            b = s1.snapshot(3, 3);
        }
        RuleLog expected = VersionsSupport.ruleLog(a);
        assertThat(VersionsSupport.ruleLog(b)).isEqualTo(expected);
        OperatorSubtaskState merged =
                org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness.repackageState(a, b);
        for (int i = 0; i < 3; i++) {
            try (var h = support.harness(128, 3, i, InferenceRuntime.DEFAULT)) {
                h.initializeState(
                        org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness.repartitionOperatorState(
                                merged, 128, 2, 3, i));
                h.open();
                runQueuedMails(h);
                assertThat(VersionsSupport.ruleLog(h.snapshot(4, 4))).isEqualTo(expected);
            }
        }
    }

    @Test
    void controlStreamRequiresAKeyedInput() {
        var env = org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.getExecutionEnvironment();
        var events = env.fromData("a|x");
        var commands = env.fromData(ModelCommand.deploy("c", uri(v2), Role.ACTIVE));
        assertThatThrownBy(() -> SlmScoring.<String>builder()
                        .text(s -> s)
                        .model(v1.toString())
                        .controlStream(commands)
                        .build()
                        .apply(events))
                .hasMessageContaining("keyBy");
    }
}
