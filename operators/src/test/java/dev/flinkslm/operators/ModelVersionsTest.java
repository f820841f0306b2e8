package dev.flinkslm.operators;

import static dev.flinkslm.operators.HarnessSupport.runMailsUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.internal.VersionedScoringOperator;
import dev.flinkslm.operators.versions.MissingArtifactPolicy;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ShadowResult;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;
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

class ModelVersionsTest {

    @TempDir static Path tmp;
    static Path roots;
    static Path v1;
    static Path v2;
    static Path v3;

    static final OutputTag<ModelAudit> AUDIT = new OutputTag<>("audit", SlmScoring.AUDIT_TYPE);
    static final OutputTag<ShadowResult<String>> SHADOW = new OutputTag<>("shadow", SlmScoring.shadowType(Types.STRING));

    @BeforeAll
    static void bundles() throws Exception {
        roots = tmp.resolve("models");
        v1 = TinyBundles.write(roots.resolve("v1"), new TinyBundles.Spec().id("m").version("1").seed(7));
        v2 = TinyBundles.write(roots.resolve("v2"), new TinyBundles.Spec().id("m").version("2").seed(99));
        v3 = TinyBundles.write(roots.resolve("v3"), new TinyBundles.Spec().id("m").version("3").seed(5));
    }

    private static ScoringConfig config() {
        return SlmScoring.<String>builder().text(s -> s).model(v1.toString()).modelRoots(roots.toString())
                .executionProvider(dev.flinkslm.models.ExecutionProvider.CPU)
                .maxBatchSize(1).maxWait(Duration.ofHours(1)).build().config();
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, String, ModelCommand, Scored<String>> harness(
            MissingArtifactPolicy policy) throws Exception {
        VersionedScoringOperator<String> op = new VersionedScoringOperator<>(config(),
                s -> s.substring(s.indexOf('|') + 1), ModelRef.of(v1.toUri().toString()), HarnessSupport.DEAD_LETTERS,
                AUDIT, SHADOW, policy);
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(op, (String s) -> s.substring(0, s.indexOf('|')),
                (ModelCommand c) -> "control", Types.STRING, 128, 1, 0,
                Types.STRING.createSerializer(new SerializerConfigImpl()),
                SlmScoring.COMMAND_TYPE.createSerializer(new SerializerConfigImpl()));
        h.setup(SlmScoring.scoredType(Types.STRING).createSerializer(new SerializerConfigImpl()));
        return h;
    }

    private static List<Scored<String>> results(KeyedTwoInputStreamOperatorTestHarness<?, ?, ?, Scored<String>> h) {
        return HarnessSupport.results(h);
    }

    private static List<ModelAudit> audits(KeyedTwoInputStreamOperatorTestHarness<?, ?, ?, Scored<String>> h) {
        var q = h.getSideOutput(AUDIT);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue).toList();
    }

    private static List<ShadowResult<String>> shadows(KeyedTwoInputStreamOperatorTestHarness<?, ?, ?, Scored<String>> h) {
        var q = h.getSideOutput(SHADOW);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue).toList();
    }

    /** Scores one event of {@code key} and returns its result. */
    private static Scored<String> score(KeyedTwoInputStreamOperatorTestHarness<String, String, ModelCommand, Scored<String>> h,
            String key, String text) throws Exception {
        int before = results(h).size() + HarnessSupport.deadLetters(h).size();
        h.processElement1(key + "|" + text, 1L);
        runMailsUntil(h, () -> results(h).size() + HarnessSupport.deadLetters(h).size() > before);
        List<Scored<String>> r = results(h);
        return r.get(r.size() - 1);
    }

    /** Sends a command and waits until it has a final outcome (LIVE, REJECTED, ...). */
    private static ModelAudit command(KeyedTwoInputStreamOperatorTestHarness<String, String, ModelCommand, Scored<String>> h,
            ModelCommand c) throws Exception {
        int seen = audits(h).size();
        h.processElement2(c, 1L);
        runMailsUntil(h, () -> audits(h).stream().skip(seen)
                .anyMatch(a -> c.commandId.equals(a.commandId) && isFinal(a.outcome)));
        return audits(h).stream().skip(seen)
                .filter(a -> c.commandId.equals(a.commandId) && isFinal(a.outcome)).findFirst().get();
    }

    private static boolean isFinal(String outcome) {
        return !outcome.equals(ModelAudit.ACCEPTED) && !outcome.equals(ModelAudit.LOADED);
    }

    private static String uri(Path p) {
        return p.toUri().toString();
    }

    @Test
    void deployActiveSwapsEveryKeyOnlyOnceTheVersionIsLive() throws Exception {
        try (var h = harness(MissingArtifactPolicy.FAIL)) {
            h.open();
            assertThat(score(h, "a", "wire 100").modelVersion).isEqualTo("1");
            h.processElement2(ModelCommand.deploy("c1", uri(v2), ModelCommand.Role.ACTIVE), 1L);
            // routed before the new version is admitted: the old version still serves
            h.processElement1("b|invoice 7", 1L);
            runMailsUntil(h, () -> audits(h).stream().anyMatch(a -> a.outcome.equals(ModelAudit.LIVE)));
            runMailsUntil(h, () -> results(h).size() == 2);
            assertThat(results(h).get(1).modelVersion).isEqualTo("1");
            assertThat(score(h, "a", "wire 100").modelVersion).isEqualTo("2");
            assertThat(score(h, "b", "invoice 7").modelVersion).isEqualTo("2");
            assertThat(audits(h)).extracting(a -> a.outcome)
                    .containsSubsequence(ModelAudit.ACCEPTED, ModelAudit.LOADED, ModelAudit.LIVE);
            assertThat(audits(h).get(audits(h).size() - 1).version).isEqualTo("2");
        }
    }

    @Test
    void canaryHitsItsShareOfKeysAndIsSticky() throws Exception {
        try (var h = harness(MissingArtifactPolicy.FAIL)) {
            h.open();
            assertThat(command(h, ModelCommand.deploy("c1", uri(v2), ModelCommand.Role.CANARY).percent(30)).outcome)
                    .isEqualTo(ModelAudit.LIVE);
            Map<String, String> variantByKey = new HashMap<>();
            int keys = 500;
            for (int k = 0; k < keys; k++) {
                Scored<String> r = score(h, "acct-" + k, "payment " + k);
                variantByKey.put("acct-" + k, r.variant + "/" + r.modelVersion);
            }
            long canary = variantByKey.values().stream().filter(v -> v.equals("canary/2")).count();
            assertThat(canary).isBetween((long) (keys * 0.24), (long) (keys * 0.36));
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
        try (var h = harness(MissingArtifactPolicy.FAIL);
                ScoringSession reference = ScoringSession.open(b1, RuntimeOptions.cpu())) {
            h.open();
            assertThat(command(h, ModelCommand.deploy("s1", uri(v2), ModelCommand.Role.SHADOW)).outcome)
                    .isEqualTo(ModelAudit.LIVE);
            List<String> texts = TinyBundles.sampleTexts(30);
            for (int i = 0; i < texts.size(); i++) {
                Scored<String> r = score(h, "k" + (i % 5), texts.get(i));
                assertThat(r.modelVersion).isEqualTo("1");
                assertThat(r.variant).isEqualTo("active");
                float[] expected = TinyBundles.reference(new TinyBundles.Spec().seed(7), reference.encode(texts.get(i)));
                assertThat(r.probabilities).containsExactly(expected, org.assertj.core.api.Assertions.within(1e-5f));
            }
            List<ShadowResult<String>> shadow = shadows(h);
            assertThat(shadow).hasSize(30);
            assertThat(shadow).allSatisfy(s -> {
                assertThat(s.shadowModel).isEqualTo("m:2");
                assertThat(s.servedModel).isEqualTo("m:1");
                assertThat(s.agree).isEqualTo(s.servedLabel.equals(s.shadowLabel));
            });
            ShadowResult<String> last = shadow.get(shadow.size() - 1);
            assertThat(last.compared).isEqualTo(30);
            assertThat(last.agreementRate).isEqualTo(shadow.stream().filter(s -> s.agree).count() / 30.0);
        }
    }

    @Test
    void promoteRollbackRetireAndIdempotency() throws Exception {
        try (var h = harness(MissingArtifactPolicy.FAIL)) {
            h.open();
            command(h, ModelCommand.deploy("c1", uri(v2), ModelCommand.Role.CANARY).keys(List.of("a")));
            assertThat(score(h, "a", "x").variant).isEqualTo("canary");
            assertThat(score(h, "b", "x").modelVersion).isEqualTo("1");

            assertThat(command(h, ModelCommand.of("c2", ModelCommand.Action.PROMOTE, "m", "2")).outcome)
                    .isEqualTo(ModelAudit.PROMOTED);
            assertThat(score(h, "a", "x")).extracting(r -> r.variant + r.modelVersion).isEqualTo("active2");
            assertThat(score(h, "b", "x")).extracting(r -> r.variant + r.modelVersion).isEqualTo("active2");

            ModelCommand rollback = ModelCommand.of("c3", ModelCommand.Action.ROLLBACK, null, null);
            assertThat(command(h, rollback).outcome).isEqualTo(ModelAudit.ROLLED_BACK);
            assertThat(command(h, rollback).outcome).isEqualTo(ModelAudit.DUPLICATE);
            assertThat(score(h, "a", "x").modelVersion).isEqualTo("1");
            assertThat(score(h, "b", "x").modelVersion).isEqualTo("1");

            ModelAudit retireActive = command(h, ModelCommand.of("c4", ModelCommand.Action.RETIRE, "m", "1"));
            assertThat(retireActive.outcome).isEqualTo(ModelAudit.REJECTED);
            assertThat(retireActive.reason).contains("active version");

            command(h, ModelCommand.deploy("c5", uri(v3), ModelCommand.Role.CANARY).keys(List.of("c")));
            assertThat(score(h, "c", "x").modelVersion).isEqualTo("3");
            assertThat(command(h, ModelCommand.of("c6", ModelCommand.Action.RETIRE, "m", "3")).outcome)
                    .isEqualTo(ModelAudit.RETIRED);
            assertThat(score(h, "c", "x")).extracting(r -> r.variant + r.modelVersion).isEqualTo("active1");
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
        Path labels = TinyBundles.write(roots.resolve("labels"), new TinyBundles.Spec().version("l").outputWidth(3));
        Path golden = goldenFailing(roots.resolve("golden"));
        Path outside = TinyBundles.write(tmp.resolve("outside"), new TinyBundles.Spec().version("o"));
        Map<Path, String> expected = new java.util.LinkedHashMap<>();
        expected.put(corrupt, "CHECKSUM_MISMATCH");
        expected.put(wrongInputs, "INPUT_OUTPUT_MISMATCH");
        expected.put(labels, "LABEL_COUNT_MISMATCH");
        expected.put(golden, "ADMISSION_FAILED");
        expected.put(outside, "URI_NOT_ALLOWED");
        expected.put(roots.resolve("does-not-exist"), "MISSING_FILE");
        try (var h = harness(MissingArtifactPolicy.FAIL)) {
            h.open();
            int i = 0;
            for (Map.Entry<Path, String> e : expected.entrySet()) {
                ModelAudit a = command(h, ModelCommand.deploy("bad" + i, uri(e.getKey()), ModelCommand.Role.ACTIVE));
                assertThat(a.outcome).as(e.getValue()).isEqualTo(ModelAudit.REJECTED);
                assertThat(a.reason).contains(e.getValue());
                Scored<String> r = score(h, "k" + i, "still served");
                assertThat(r.modelVersion).isEqualTo("1");
                i++;
            }
            assertThat(results(h)).hasSize(expected.size());
            assertThat(HarnessSupport.deadLetters(h)).isEmpty();
        }
    }

    /** A valid bundle whose golden example expects a label the model does not give. */
    private static Path goldenFailing(Path dir) throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().version("g");
        Path bundle = TinyBundles.write(dir, spec);
        try (ScoringSession s = ScoringSession.open(BundleLoader.verify(bundle.toUri(), bundle, null), RuntimeOptions.cpu())) {
            String text = "wire transfer for invoice 77";
            String predicted = s.scoreTexts(List.of(text)).get(0).label();
            String wrong = spec.labels.stream().filter(l -> !l.equals(predicted)).findFirst().get();
            spec.golden(List.of(new ModelManifest.GoldenExample(text, wrong)));
        }
        TinyBundles.writeManifest(bundle, spec);
        return bundle;
    }

    @Test
    void savepointRestoreKeepsEveryKeysAssignmentAndReverifiesArtifacts() throws Exception {
        Path v2copy = TinyBundles.write(roots.resolve("v2-restorable"), new TinyBundles.Spec().id("m").version("2").seed(99));
        Map<String, String> before = new HashMap<>();
        OperatorSubtaskState snapshot;
        try (var h = harness(MissingArtifactPolicy.FAIL)) {
            h.open();
            command(h, ModelCommand.deploy("c1", uri(v2copy), ModelCommand.Role.CANARY).percent(50));
            command(h, ModelCommand.deploy("c2", uri(v3), ModelCommand.Role.SHADOW).keys(List.of("k3")));
            for (int k = 0; k < 40; k++) {
                Scored<String> r = score(h, "k" + k, "text");
                before.put("k" + k, r.variant + r.modelVersion);
            }
            snapshot = h.snapshot(1, 1);
        }
        assertThat(before.values()).contains("canary2", "active1");
        try (var restored = harness(MissingArtifactPolicy.FAIL)) {
            restored.initializeState(snapshot);
            restored.open();
            for (int k = 0; k < 40; k++) {
                Scored<String> r = score(restored, "k" + k, "text");
                assertThat(r.variant + r.modelVersion).as("k" + k).isEqualTo(before.get("k" + k));
            }
            assertThat(shadows(restored)).extracting(s -> s.shadowModel).containsOnly("m:3");
            assertThat(audits(restored)).extracting(a -> a.outcome).contains(ModelAudit.RESTORED);
        }
        // the artifact changes behind the job's back: restore fails fast naming it ...
        TinyBundles.write(v2copy, new TinyBundles.Spec().id("m").version("2").seed(1234));
        try (var broken = harness(MissingArtifactPolicy.FAIL)) {
            broken.initializeState(snapshot);
            assertThatThrownBy(broken::open).hasMessageContaining("m:2").hasMessageContaining("CHECKSUM_MISMATCH");
        }
        // ... unless the fallback policy serves its keys with the initial model
        try (var fallback = harness(MissingArtifactPolicy.FALLBACK)) {
            fallback.initializeState(snapshot);
            fallback.open();
            List<String> versions = new ArrayList<>();
            for (int k = 0; k < 40; k++) {
                versions.add(score(fallback, "k" + k, "text").modelVersion);
            }
            assertThat(versions).containsOnly("1");
        }
    }

    @Test
    void controlStreamRequiresAKeyedInput() {
        var env = org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.getExecutionEnvironment();
        var events = env.fromData("a|x");
        var commands = env.fromData(ModelCommand.deploy("c", uri(v2), ModelCommand.Role.ACTIVE));
        assertThatThrownBy(() -> SlmScoring.<String>builder().text(s -> s).model(v1.toString())
                .controlStream(commands).build().apply(events))
                .hasMessageContaining("keyBy");
    }
}
