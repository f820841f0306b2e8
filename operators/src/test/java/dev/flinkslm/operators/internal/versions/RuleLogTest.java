package dev.flinkslm.operators.internal.versions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ModelCommand.Action;
import dev.flinkslm.operators.versions.ModelCommand.Role;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/** The rule log's semantics (docs/model-versions.md, "Sequences and their outcome"), without Flink. */
class RuleLogTest {

    static final VersionKey V1 = new VersionKey("m", "1");
    static final VersionKey V2 = new VersionKey("m", "2");
    static final VersionKey V3 = new VersionKey("m", "3");
    static final ControlLimits LIMITS = ControlLimits.defaults();

    private long clock = 1_000;

    static String sha(VersionKey v) {
        return String.format("%064x", v.version().hashCode());
    }

    static RuleLog fresh() {
        return RuleLog.bootstrap("initial", new CatalogEntry(V1, "file:///m/1/", sha(V1), false));
    }

    private Decision deploy(RuleLog log, String id, VersionKey v, Role role) {
        return deploy(log, ModelCommand.deploy(id, "file:///m/" + v.version() + "/", role), v);
    }

    private Decision deploy(RuleLog log, ModelCommand c, VersionKey v) {
        AdmittedCommand a = AdmittedCommand.of(c, clock++).admitted(v, c.uri, sha(v));
        return log.apply(a, LIMITS);
    }

    private Decision run(RuleLog log, ModelCommand c) {
        return log.apply(AdmittedCommand.of(c, clock++), LIMITS);
    }

    private static ModelCommand cmd(String id, Action a, VersionKey v) {
        return ModelCommand.of(id, a, v == null ? null : v.id(), v == null ? null : v.version());
    }

    private static VersionKey served(RuleLog log, String key) {
        return log.resolve(key).servingVersion();
    }

    private static long share(RuleLog log, VersionKey v, int keys) {
        return IntStream.range(0, keys)
                .filter(i -> v.equals(served(log, "acct-" + i)))
                .count();
    }

    @Test
    void deployActiveThenRollbackAndRetireAgree() {
        RuleLog log = fresh();
        assertThat(deploy(log, "c1", V2, Role.ACTIVE).accepted()).isTrue();
        assertThat(served(log, "a")).isEqualTo(V2);
        assertThat(log.needed()).as("v1 stays loaded as the rollback target").containsExactlyInAnyOrder(V1, V2);

        RuleLog rolledBack = log.copy();
        assertThat(run(rolledBack, cmd("c2", Action.ROLLBACK, null)).accepted()).isTrue();
        assertThat(served(rolledBack, "a")).isEqualTo(V1);

        assertThat(run(log, cmd("c3", Action.RETIRE, V1)).accepted())
                .as("v1 is hidden by v2")
                .isTrue();
        Decision rollback = run(log, cmd("c4", Action.ROLLBACK, null));
        assertThat(rollback.accepted()).isFalse();
        assertThat(rollback.reasonCode()).isEqualTo(ModelAudit.NOTHING_TO_ROLL_BACK);
        Decision retire = run(log, cmd("c5", Action.RETIRE, V2));
        assertThat(retire.reasonCode()).isEqualTo(ModelAudit.STILL_ROUTED);
        assertThat(served(log, "new-key")).as("never NO_MODEL").isEqualTo(V2);
    }

    @Test
    void retiringAVersionThatServesSomeKeysIsRefused() {
        RuleLog log = fresh();
        deploy(log, ModelCommand.deploy("c1", "file:///m/2/", Role.ACTIVE).keys(List.of("a")), V2);
        Decision d = run(log, cmd("c2", Action.RETIRE, V2));
        assertThat(d.accepted()).isFalse();
        assertThat(d.reasonCode()).isEqualTo(ModelAudit.STILL_ROUTED);
        assertThat(d.reason()).contains("keys:1").contains("c1");
        assertThat(served(log, "a")).isEqualTo(V2);
        assertThat(served(log, "b")).isEqualTo(V1);
    }

    @Test
    void rollbackRevertsServingChangesAndLeavesShadowsAlone() {
        RuleLog log = fresh();
        deploy(log, "c1", V2, Role.ACTIVE);
        deploy(log, "c2", V3, Role.SHADOW);
        assertThat(run(log, cmd("c3", Action.ROLLBACK, null)).accepted()).isTrue();
        Target t = log.resolve("k");
        assertThat(t.servingVersion()).isEqualTo(V1);
        assertThat(t.shadowVersion()).isEqualTo(V3);
        ModelCommand endShadow = cmd("c4", Action.ROLLBACK, null).role(Role.SHADOW);
        assertThat(run(log, endShadow).accepted()).isTrue();
        assertThat(log.resolve("k").shadowVersion()).isNull();
        assertThat(run(log, cmd("c5", Action.ROLLBACK, null).role(Role.SHADOW)).reasonCode())
                .isEqualTo(ModelAudit.NOTHING_TO_ROLL_BACK);
    }

    @Test
    void promoteAbsorbsTheCanaryAndRollbackReturnsToThePreviousVersion() {
        RuleLog log = fresh();
        deploy(log, ModelCommand.deploy("c1", "file:///m/2/", Role.CANARY).percent(20), V2);
        long canary = share(log, V2, 2000);
        assertThat(canary).isBetween(320L, 480L);
        assertThat(log.resolve("x").variant()).isIn("active", "canary");
        assertThat(run(log, cmd("c2", Action.PROMOTE, V2)).accepted()).isTrue();
        assertThat(share(log, V2, 2000)).isEqualTo(2000);
        assertThat(log.deployments()).extracting(Deployment::role).containsExactly(Role.ACTIVE, Role.ACTIVE);
        assertThat(run(log, cmd("c3", Action.ROLLBACK, null)).accepted()).isTrue();
        assertThat(share(log, V1, 2000)).isEqualTo(2000);
    }

    @Test
    void rollbackAfterAnActiveDeployOverACanaryRestoresTheCanary() {
        RuleLog log = fresh();
        deploy(log, ModelCommand.deploy("c1", "file:///m/2/", Role.CANARY).percent(20), V2);
        List<VersionKey> before =
                IntStream.range(0, 500).mapToObj(i -> served(log, "acct-" + i)).toList();
        deploy(log, "c2", V3, Role.ACTIVE);
        assertThat(share(log, V3, 500)).isEqualTo(500);
        RuleLog named = log.copy();
        assertThat(run(log, cmd("c3", Action.ROLLBACK, null)).accepted()).isTrue();
        assertThat(IntStream.range(0, 500)
                        .mapToObj(i -> served(log, "acct-" + i))
                        .toList())
                .as("the same keys are on the canary again")
                .isEqualTo(before);
        assertThat(run(named, cmd("c4", Action.ROLLBACK, V1)).accepted()).isTrue();
        assertThat(share(named, V1, 500)).isEqualTo(500);
        assertThat(named.deployments()).hasSize(1);
        assertThat(run(named, cmd("c5", Action.ROLLBACK, V1)).reasonCode()).isEqualTo(ModelAudit.NOTHING_TO_ROLL_BACK);
    }

    @Test
    void sharesAreSaltedPerDeploymentAndSticky() {
        RuleLog log = fresh();
        deploy(log, ModelCommand.deploy("c1", "file:///m/2/", Role.CANARY).percent(10), V2);
        List<String> first = IntStream.range(0, 5000)
                .mapToObj(i -> "acct-" + i)
                .filter(k -> V2.equals(served(log, k)))
                .toList();
        deploy(log, ModelCommand.deploy("c2", "file:///m/2/", Role.CANARY).percent(10), V2);
        long both = IntStream.range(0, 5000)
                .filter(i -> V2.equals(served(log, "acct-" + i)))
                .count();
        assertThat(first.size()).isBetween(400, 600);
        assertThat(both).as("two 10% canaries pick different keys: about 19%").isBetween(830L, 1070L);
        assertThat(first).allSatisfy(k -> assertThat(served(log, k)).isEqualTo(V2));
    }

    @Test
    void rejectionsLeaveNothingBehind() {
        RuleLog log = fresh();
        RuleLog before = log.copy();
        List<String> keys = IntStream.range(0, 1000).mapToObj(i -> "k" + i).toList();
        for (int i = 0; i < 2000; i++) {
            ModelCommand promote = cmd("p" + i, Action.PROMOTE, V2);
            promote.keys = keys;
            Decision d = run(log, promote);
            assertThat(d.accepted()).isFalse();
        }
        assertThat(run(log, cmd("unknown", Action.PROMOTE, V3)).reasonCode()).isEqualTo(ModelAudit.UNKNOWN_VERSION);
        assertThat(log).isEqualTo(before);
    }

    @Test
    void duplicatesConflictsAndMismatchesAreRejected() {
        RuleLog log = fresh();
        assertThat(deploy(log, "c1", V2, Role.ACTIVE).accepted()).isTrue();
        assertThat(deploy(log, "c1", V2, Role.ACTIVE).reasonCode()).isEqualTo(ModelAudit.DUPLICATE_COMMAND);
        ModelCommand other = ModelCommand.deploy("c2", "file:///elsewhere/2/", Role.CANARY);
        Decision conflict = log.apply(AdmittedCommand.of(other, clock++).admitted(V2, other.uri, sha(V3)), LIMITS);
        assertThat(conflict.reasonCode()).isEqualTo(ModelAudit.CONFLICTING_CONTENT);
        ModelCommand named = ModelCommand.deploy("c3", "file:///m/3/", Role.ACTIVE);
        named.modelId = "m";
        named.version = "7";
        assertThat(deploy(log, named, V3).reasonCode()).isEqualTo(ModelAudit.VERSION_MISMATCH);
        ModelCommand failed = ModelCommand.deploy("c4", "file:///m/bad/", Role.ACTIVE);
        Decision notAdmitted = log.apply(
                AdmittedCommand.of(failed, clock++).rejected(ModelAudit.ADMISSION_FAILED, "CHECKSUM_MISMATCH: ..."),
                LIMITS);
        assertThat(notAdmitted.reasonCode()).isEqualTo(ModelAudit.ADMISSION_FAILED);
        assertThat(notAdmitted.reason()).contains("CHECKSUM_MISMATCH");
        assertThat(log.epoch()).isEqualTo(1);
    }

    @Test
    void malformedCommandsAreRejectedWithTheReason() {
        List<String> bad = List.of(
                "not json",
                "{\"commandId\":\"x\",\"action\":\"DEPLOY\"",
                "{\"commandId\":\"x\",\"action\":\"EXPLODE\"}",
                "{\"commandId\":\"x\",\"action\":\"DEPLOY\",\"uri\":\"file:///m/2/\",\"percent\":-5}",
                "{\"commandId\":\"x\",\"action\":\"DEPLOY\",\"uri\":\"file:///m/2/\",\"percent\":150}",
                "{\"commandId\":\"x\",\"action\":\"DEPLOY\",\"uri\":\"file:///m/2/\",\"percent\":\"NaN\"}",
                "{\"commandId\":\"\",\"action\":\"ROLLBACK\"}",
                "{\"commandId\":\"x\",\"action\":\"DEPLOY\",\"role\":\"BOSS\",\"uri\":\"file:///m/2/\"}",
                "{\"commandId\":\"x\",\"action\":\"DEPLOY\",\"uri\":\"file:///m/2/\",\"keys\":\"ACC-1\"}",
                "{\"commandId\":\"x\",\"action\":\"ROLLBACK\",\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}",
                "{\"commandId\":\"x\",\"action\":\"DEPLOY\",\"uri\":\"file:///m/2/\",\"precent\":10}",
                "{\"commandId\":\"x\",\"commandId\":\"y\",\"action\":\"ROLLBACK\"}");
        RuleLog log = fresh();
        for (String json : bad) {
            ModelCommand c = ModelCommand.parse(json);
            Decision d = run(log, c);
            assertThat(d.accepted()).as(json).isFalse();
            assertThat(d.reasonCode()).as(json).isEqualTo(ModelAudit.INVALID_COMMAND);
            assertThat(d.reason()).as(json).isNotBlank();
        }
        byte[] huge = ("{\"commandId\":\"x\",\"action\":\"ROLLBACK\",\"issuedBy\":\"" + "y".repeat(2 << 20) + "\"}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ModelCommand oversize = ModelCommand.parse(huge, "topic/0/7", ModelCommand.DEFAULT_MAX_BYTES);
        assertThat(oversize.parseError).contains("limit");
        assertThat(oversize.source).isEqualTo("topic/0/7");
        assertThat(run(log, oversize).reasonCode()).isEqualTo(ModelAudit.INVALID_COMMAND);
        assertThat(log.epoch()).isZero();
    }

    @Test
    void compactionBoundsHistoryAndLimitsBoundTheLog() {
        RuleLog log = fresh();
        ControlLimits tight = new ControlLimits(5, 3, 6, 1L << 20, 2, 3, Duration.ofDays(1), 2);
        for (int i = 2; i < 12; i++) {
            VersionKey v = new VersionKey("m", String.valueOf(i));
            ModelCommand c = ModelCommand.deploy("d" + i, "file:///m/" + i + "/", Role.ACTIVE);
            assertThat(log.apply(AdmittedCommand.of(c, clock++).admitted(v, c.uri, sha(v)), tight)
                            .accepted())
                    .isTrue();
        }
        assertThat(log.deployments()).as("history 2").hasSize(2);
        assertThat(log.catalog().size())
                .as("2 referenced + 2 unreferenced kept")
                .isEqualTo(4);
        assertThat(log.acceptedCommandIds()).hasSize(3);
        ModelCommand tooMany =
                ModelCommand.deploy("k", "file:///m/2/", Role.CANARY).keys(List.of("a", "b", "c", "d"));
        assertThat(log.apply(AdmittedCommand.of(tooMany, clock++).admitted(V2, tooMany.uri, sha(V2)), tight)
                        .reasonCode())
                .isEqualTo(ModelAudit.INVALID_COMMAND);
        for (int i = 0; i < 3; i++) {
            ModelCommand pin = ModelCommand.deploy("pin" + i, "file:///m/2/", Role.ACTIVE)
                    .keys(List.of("x" + i, "y" + i, "z" + i));
            Decision d = log.apply(AdmittedCommand.of(pin, clock++).admitted(V2, pin.uri, sha(V2)), tight);
            assertThat(d.accepted()).as("pin " + i).isEqualTo(i < 2);
            if (i == 2) {
                assertThat(d.reasonCode()).isEqualTo(ModelAudit.RULE_LIMIT);
            }
        }
    }

    /** Keys count, but so do their bytes: long keys cannot make broadcast state large within the key limits. */
    @Test
    void theRuleLogsSizeIsBounded() {
        RuleLog log = fresh();
        ControlLimits limits = new ControlLimits(100, 10_000, 100_000, 256 * 1024, 8, 10_000, Duration.ofDays(1), 32);
        String pad = "k".repeat(1000);
        int accepted = 0;
        for (int i = 0; i < 50; i++) {
            List<String> keys = new ArrayList<>();
            for (int k = 0; k < 20; k++) {
                keys.add(pad + i + "-" + k);
            }
            ModelCommand c =
                    ModelCommand.deploy("big" + i, "file:///m/2/", Role.CANARY).keys(keys);
            Decision d = log.apply(AdmittedCommand.of(c, clock++).admitted(V2, c.uri, sha(V2)), limits);
            if (d.accepted()) {
                accepted++;
            } else {
                assertThat(d.reasonCode()).isEqualTo(ModelAudit.RULE_LIMIT);
                assertThat(d.reason()).contains("slm.versions.max-rule-size");
            }
        }
        assertThat(accepted).isBetween(8, 10); // deployments of about 20 kB within 3/4 of 256 KiB
        assertThat(log.estimatedBytes()).isLessThanOrEqualTo(256 * 1024);
        DataOutputSerializer out = new DataOutputSerializer(1024);
        try {
            RuleLogSerializer.INSTANCE.serialize(log, out);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        assertThat((long) out.length())
                .as("the estimate is close to what is written")
                .isBetween(log.estimatedBytes() / 2, log.estimatedBytes() * 2);
    }

    @Test
    void commandIdsAgeOutByTheAdmissionClock() {
        RuleLog log = fresh();
        ControlLimits limits = new ControlLimits(100, 10, 100, 1L << 20, 8, 100, Duration.ofMillis(50), 32);
        ModelCommand c = cmd("r", Action.ROLLBACK, null).role(Role.SHADOW);
        deploy(log, "s", V2, Role.SHADOW);
        assertThat(log.apply(AdmittedCommand.of(c, 100), limits).accepted()).isTrue();
        deploy(log, "s2", V2, Role.SHADOW);
        assertThat(log.apply(AdmittedCommand.of(c, 120), limits).reasonCode()).isEqualTo(ModelAudit.DUPLICATE_COMMAND);
        assertThat(log.apply(AdmittedCommand.of(c, 200), limits).accepted())
                .as("forgotten after 50 ms")
                .isTrue();
    }

    @Test
    void serializerRoundTripsAndRefusesOtherFormats() throws Exception {
        RuleLog log = fresh();
        deploy(log, ModelCommand.deploy("c1", "file:///m/2/", Role.CANARY).percent(12.5), V2);
        deploy(log, ModelCommand.deploy("c2", "file:///m/3/", Role.SHADOW).keys(List.of("b", "a")), V3);
        run(log, cmd("c3", Action.RETIRE, V1));
        DataOutputSerializer out = new DataOutputSerializer(256);
        RuleLogSerializer.INSTANCE.serialize(log, out);
        RuleLog back = RuleLogSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertThat(back).isEqualTo(log);
        List<VersionKey> a = new ArrayList<>();
        List<VersionKey> b = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            a.add(served(log, "k" + i));
            b.add(served(back, "k" + i));
        }
        assertThat(b).isEqualTo(a);
        byte[] bytes = out.getCopyOfBuffer();
        bytes[3] = 99;
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> RuleLogSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes)))
                .hasMessageContaining("format 99");
    }

    // ================================================================== size of the rule log

    private static final long SMALL = 64 * 1024;
    private static final ControlLimits SMALL_LIMITS =
            new ControlLimits(1000, 10_000, 100_000, SMALL, 1, 10_000, Duration.ofDays(7), 32);

    private Decision deploySmall(RuleLog log, String id, List<String> keys) {
        ModelCommand c = ModelCommand.deploy(id, "file:///m/2/", Role.CANARY).keys(keys);
        return log.apply(AdmittedCommand.of(c, clock++).admitted(V2, c.uri, sha(V2)), SMALL_LIMITS);
    }

    /** The longest key of {@code unit} characters a DEPLOY may still add (binary search on copies). */
    private int longestKey(RuleLog log, String id, String unit) {
        int lo = 0;
        int hi = 2048;
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (deploySmall(log.copy(), id, List.of(unit.repeat(mid))).accepted()) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private RuleLog rulesFull() {
        RuleLog log = fresh();
        fill(log);
        return log;
    }

    /** Fills the rules (not the remembered ids) as far as a DEPLOY may. */
    private void fill(RuleLog log) {
        for (int i = 0; ; i++) {
            Decision d = deploySmall(log, "big" + i, List.of(String.format("%04d", i) + "\u4e00".repeat(1000)));
            if (!d.accepted()) {
                assertThat(d.reasonCode()).isEqualTo(ModelAudit.RULE_LIMIT);
                break;
            }
        }
        for (String unit : List.of("\u4e00", "p")) {
            int n = longestKey(log, "pad-" + unit, unit);
            if (n > 0) {
                assertThat(deploySmall(log, "pad-" + unit, List.of(unit.repeat(n)))
                                .accepted())
                        .isTrue();
            }
        }
    }

    private static long serialized(RuleLog log) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        RuleLogSerializer.INSTANCE.serialize(log, out);
        return out.length();
    }

    @Test
    void commandsWithLongIdsKeepTheLogWithinItsLimitWhenTheRulesAreFull() throws Exception {
        RuleLog log = fresh();
        // v3 known but routing nothing, so that it can be retired later
        ModelCommand v3 = ModelCommand.deploy("v3", "file:///m/3/", Role.CANARY).keys(List.of("z"));
        assertThat(log.apply(AdmittedCommand.of(v3, clock++).admitted(V3, v3.uri, sha(V3)), SMALL_LIMITS)
                        .accepted())
                .isTrue();
        assertThat(log.apply(AdmittedCommand.of(cmd("undo-v3", Action.ROLLBACK, null), clock++), SMALL_LIMITS)
                        .accepted())
                .isTrue();
        fill(log);
        assertThat(serialized(log)).isLessThanOrEqualTo(SMALL * 3 / 4 + 1024).isLessThanOrEqualTo(log.estimatedBytes());
        int accepted = 0;
        for (int i = 0; i < 30; i++) {
            String id = String.format("%03d", i) + "\u4e00".repeat(253); // the longest id, 3 bytes a character
            ModelCommand c = i == 0 ? cmd(id, Action.RETIRE, V3) : cmd(id, Action.ROLLBACK, null);
            Decision d = log.apply(AdmittedCommand.of(c, clock++), SMALL_LIMITS);
            accepted += d.accepted() ? 1 : 0;
            assertThat(serialized(log))
                    .as("after %s %s (%s)", c.action, i, d.reasonCode())
                    .isLessThanOrEqualTo(SMALL)
                    .isLessThanOrEqualTo(log.estimatedBytes());
        }
        assertThat(accepted).isGreaterThan(10);
    }

    /** Rules can fill at most 3/4 of the limit, so a re-sent command is still recognised after a large DEPLOY. */
    @Test
    void aResentRollbackIsADuplicateAfterADeployFillsTheRules() throws Exception {
        RuleLog log = rulesFull();
        String rollback = "rollback-" + "x".repeat(100);
        assertThat(log.apply(AdmittedCommand.of(cmd(rollback, Action.ROLLBACK, null), clock++), SMALL_LIMITS)
                        .accepted())
                .isTrue();
        int n = longestKey(log, "refill", "\u4e00");
        assertThat(n).isPositive();
        assertThat(deploySmall(log, "refill", List.of("\u4e00".repeat(n))).accepted())
                .isTrue();
        int deployments = log.deployments().size();
        Decision again = log.apply(AdmittedCommand.of(cmd(rollback, Action.ROLLBACK, null), clock++), SMALL_LIMITS);
        assertThat(again.reasonCode()).isEqualTo(ModelAudit.DUPLICATE_COMMAND);
        assertThat(log.deployments()).hasSize(deployments);
        assertThat(serialized(log)).isLessThanOrEqualTo(SMALL);
    }

    /**
     * Rules restored from a log written under a larger limit can exceed the share of a smaller one: the
     * remembered ids still keep a quarter of the limit, so an accepted command sent again is a duplicate.
     */
    @Test
    void afterARestoreUnderASmallerLimitAResentCommandIsStillADuplicate() throws Exception {
        ControlLimits large = new ControlLimits(1000, 10_000, 100_000, 4 * SMALL, 1, 10_000, Duration.ofDays(7), 32);
        RuleLog log = fresh();
        for (int i = 0; i < 30; i++) {
            ModelCommand c = ModelCommand.deploy("big" + i, "file:///m/2/", Role.CANARY)
                    .keys(List.of(String.format("%04d", i) + "\u4e00".repeat(1000)));
            assertThat(log.apply(AdmittedCommand.of(c, clock++).admitted(V2, c.uri, sha(V2)), large)
                            .accepted())
                    .isTrue();
        }
        DataOutputSerializer out = new DataOutputSerializer(1024);
        RuleLogSerializer.INSTANCE.serialize(log, out);
        RuleLog restored = RuleLogSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertThat(restored.rulesBytes()).isGreaterThan(SMALL);

        String first = "rollback-1";
        assertThat(restored.apply(AdmittedCommand.of(cmd(first, Action.ROLLBACK, null), clock++), SMALL_LIMITS)
                        .accepted())
                .isTrue();
        assertThat(restored.apply(AdmittedCommand.of(cmd("rollback-2", Action.ROLLBACK, null), clock++), SMALL_LIMITS)
                        .accepted())
                .isTrue();
        assertThat(restored.acceptedCommandIds()).containsKeys(first, "rollback-2", "big0");
        Decision again = restored.apply(AdmittedCommand.of(cmd(first, Action.ROLLBACK, null), clock++), SMALL_LIMITS);
        assertThat(again.reasonCode()).isEqualTo(ModelAudit.DUPLICATE_COMMAND);
        assertThat(deploySmall(restored, "more", List.of("k")).reasonCode()).isEqualTo(ModelAudit.RULE_LIMIT);
    }
}
