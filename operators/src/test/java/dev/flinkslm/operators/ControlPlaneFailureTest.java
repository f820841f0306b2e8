package dev.flinkslm.operators;

import static dev.flinkslm.operators.HarnessSupport.runQueuedMails;
import static dev.flinkslm.operators.VersionsSupport.audits;
import static dev.flinkslm.operators.VersionsSupport.results;
import static dev.flinkslm.operators.VersionsSupport.score;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.internal.InferenceRuntime;
import dev.flinkslm.operators.internal.versions.AdmittedCommand;
import dev.flinkslm.operators.internal.versions.CatalogEntry;
import dev.flinkslm.operators.internal.versions.CommandAdmission;
import dev.flinkslm.operators.internal.versions.ControlLimits;
import dev.flinkslm.operators.internal.versions.Decision;
import dev.flinkslm.operators.internal.versions.RuleLog;
import dev.flinkslm.operators.internal.versions.RuleLogSerializer;
import dev.flinkslm.operators.internal.versions.VersionKey;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ModelCommand.Action;
import dev.flinkslm.operators.versions.ModelCommand.Role;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

/**
 * Failure timing and hostile inputs of the control plane of live model versions: hung artifacts at
 * load, admission and restore, a hung model, byte limits of broadcast state, hostile command
 * sequences, checkpoints and rescales with loads in flight, close while a load hangs.
 *
 * <p>Hung artifacts are simulated with {@link HangingFetcher} (test resources only): a fetch of a
 * bundle whose directory name contains {@code hang-gate-} blocks, ignoring interrupts, while the
 * gate is closed, like a stalled NFS/FUSE mount or an object store that never answers.
 */
class ControlPlaneFailureTest {

    @TempDir
    static Path tmp;

    static Path roots;
    static Path v1;
    static Path v3;
    static Path hang2;
    static Path hang4;
    static Path fast;

    @BeforeAll
    static void bundles() throws Exception {
        roots = tmp.resolve("models");
        v1 = TinyBundles.write(
                roots.resolve("v1"), new TinyBundles.Spec().id("m").version("1").seed(7));
        v3 = TinyBundles.write(
                roots.resolve("v3"), new TinyBundles.Spec().id("m").version("3").seed(5));
        hang2 = TinyBundles.write(
                roots.resolve(HangingFetcher.MARKER + "v2"),
                new TinyBundles.Spec().id("m").version("2").seed(99));
        hang4 = TinyBundles.write(
                roots.resolve(HangingFetcher.MARKER + "v4"),
                new TinyBundles.Spec().id("m").version("4").seed(42));
        fast = TinyBundles.write(tmp.resolve("fast"), new TinyBundles.Spec().id("fast"));
    }

    @AfterEach
    void openTheGate() {
        HangingFetcher.reset();
    }

    private static VersionsSupport support(UnaryOperator<SlmScoring.Builder<String>> more) {
        return new VersionsSupport(VersionsSupport.config(v1, roots, more), v1);
    }

    private static ModelCommand deploy(String id, Path bundle, Role role) {
        return ModelCommand.deploy(id, bundle.toUri().toString(), role);
    }

    private static ModelCommand of(String id, Action action, String version) {
        return ModelCommand.of(id, action, version == null ? null : "m", version);
    }

    /** Runs mails until the condition holds or the time is up; whether it holds. */
    private static boolean waitFor(AbstractStreamOperatorTestHarness<?> h, Duration max, BooleanSupplier condition)
            throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        TaskMailbox mailbox = h.getTaskMailbox();
        while (!condition.getAsBoolean()) {
            Optional<Mail> mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else if (System.nanoTime() > deadline) {
                return false;
            } else {
                Thread.sleep(2);
            }
        }
        return true;
    }

    private static Thread openGateAfter(Duration delay) {
        Thread t = new Thread(
                () -> {
                    try {
                        Thread.sleep(delay.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                    HangingFetcher.open();
                },
                "gate-watchdog");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static UnaryOperator<SlmScoring.Builder<String>> shortLoads() {
        return b -> b.option(ScoringOptions.LOAD_TIMEOUT, Duration.ofMillis(300))
                .option(ScoringOptions.LOAD_RETRY_BACKOFF, Duration.ofMillis(50))
                .option(ScoringOptions.LOAD_RETRY_MAX_BACKOFF, Duration.ofMillis(50));
    }

    // ================================================================== loads, pool, timeout

    /**
     * A load that never returns (a stalled mount) times out and is retried without taking every
     * loader thread: a stuck attempt gets a replacement thread, so an unrelated DEPLOY for all keys
     * still loads and the ROLLBACK of the hung shadow becomes READY.
     */
    @Test
    void aHungLoadForOneKeyDoesNotStarveOtherLoadsOnTheSubtask() throws Exception {
        VersionsSupport s = support(shortLoads());
        try (var h = s.harness()) {
            h.open();
            AdmittedCommand shadow = s.admit(deploy("c1", hang2, Role.SHADOW).keys(List.of("k1")));
            HangingFetcher.close();
            dev.flinkslm.models.SessionCache.shared()
                    .evictUnused(); // admitted fine; the mount stalls afterwards, and the load must read it
            h.processElement2(shadow);
            assertThat(waitFor(
                            h,
                            Duration.ofSeconds(10),
                            () -> HangingFetcher.blocked() >= 1
                                    && audits(h).stream().anyMatch(a -> ModelAudit.LOAD_FAILED.equals(a.outcome))))
                    .as("the first attempt hangs and times out (300 ms)")
                    .isTrue();
            assertThat(audits(h)).anySatisfy(a -> {
                assertThat(a.outcome).isEqualTo(ModelAudit.LOAD_FAILED);
                assertThat(a.reasonCode).isEqualTo(ModelAudit.LOAD_TIMEOUT);
            });
            h.processElement2(s.admit(deploy("c2", v3, Role.ACTIVE)));
            h.processElement2(
                    s.admit(ModelCommand.of("c3", Action.ROLLBACK, null, null).role(Role.SHADOW)));
            boolean ready = waitFor(
                    h,
                    Duration.ofSeconds(10),
                    () -> !audits(h, "c3", ModelAudit.READY).isEmpty());
            List<ModelAudit> v3Records = audits(h).stream()
                    .filter(a -> "3".equals(a.version) && a.subtask != null)
                    .toList();
            String served = score(h, "a", "after ten seconds").modelVersion;
            assertThat(ready)
                    .as(
                            "READY of c3 (v3 ACTIVE loaded; the hung shadow ended) within 10 s with a 300 ms"
                                    + " load timeout; v3's per-subtask records: %s; key a served by m:%s",
                            v3Records, served)
                    .isTrue();
        }
    }

    /**
     * A version whose attempt is stuck is not attempted again while it is stuck, even after nothing needs
     * it and a later command needs it again: ten DEPLOY/ROLLBACK cycles of a hung shadow block one
     * thread, and a healthy DEPLOY afterwards still loads.
     */
    @Test
    void aStuckVersionIsNeverAttemptedTwiceAcrossDeployAndRollbackCycles() throws Exception {
        VersionsSupport s = support(shortLoads());
        int cycles = 10;
        List<AdmittedCommand> deploys = new ArrayList<>();
        List<AdmittedCommand> rollbacks = new ArrayList<>();
        for (int i = 0; i < cycles; i++) {
            deploys.add(s.admit(deploy("d" + i, hang2, Role.SHADOW).keys(List.of("k1"))));
            rollbacks.add(s.admit(
                    ModelCommand.of("r" + i, Action.ROLLBACK, null, null).role(Role.SHADOW)));
        }
        AdmittedCommand good = s.admit(deploy("good", v3, Role.ACTIVE));
        try (var h = s.harness()) {
            h.open();
            HangingFetcher.close();
            SessionCache.shared().evictUnused(); // admitted fine; the mount stalls afterwards
            int maxBlocked = 0;
            for (int i = 0; i < cycles; i++) {
                long failedBefore = audits(h).stream()
                        .filter(a -> ModelAudit.LOAD_FAILED.equals(a.outcome))
                        .count();
                h.processElement2(deploys.get(i));
                waitFor(
                        h,
                        Duration.ofSeconds(3),
                        () -> audits(h).stream()
                                                .filter(a -> ModelAudit.LOAD_FAILED.equals(a.outcome))
                                                .count()
                                        > failedBefore
                                || HangingFetcher.blocked() > 0);
                h.processElement2(rollbacks.get(i));
                String id = "r" + i;
                assertThat(waitFor(
                                h,
                                Duration.ofSeconds(3),
                                () -> !audits(h, id, ModelAudit.READY).isEmpty()))
                        .as("READY of %s", id)
                        .isTrue();
                maxBlocked = Math.max(maxBlocked, HangingFetcher.blocked());
            }
            h.processElement2(good);
            assertThat(waitFor(
                            h,
                            Duration.ofSeconds(10),
                            () -> !audits(h, "good", ModelAudit.READY).isEmpty()))
                    .as("READY of a healthy DEPLOY after %d cycles of a hung shadow", cycles)
                    .isTrue();
            assertThat(score(h, "a", "after the cycles").modelVersion).isEqualTo("3");
            assertThat(maxBlocked).as("reads of m:2 blocked at once").isEqualTo(1);
        }
    }

    /**
     * A task whose model hangs fails in {@code open()} after the load timeout; restarted in the same JVM
     * it does not start another blocked read of the artifact: the one still blocked is waited for.
     */
    @Test
    void restartsOfATaskWhoseModelHangsBlockOneThreadInAll() throws Exception {
        VersionsSupport s = new VersionsSupport(
                VersionsSupport.config(
                        hang2, roots, b -> b.option(ScoringOptions.LOAD_TIMEOUT, Duration.ofMillis(200))),
                hang2);
        HangingFetcher.close();
        SessionCache.shared().evictUnused();
        int restarts = 5;
        int failed = 0;
        for (int i = 0; i < restarts; i++) {
            var h = s.harness();
            try {
                h.open();
            } catch (Exception expected) {
                failed++;
                assertThat(expected)
                        .hasStackTraceContaining("hang-gate-v2")
                        .hasStackTraceContaining("stalled file system");
            } finally {
                try {
                    h.close();
                } catch (Exception alreadyFailed) {
                    // the task failed in open()
                }
            }
        }
        assertThat(failed).isEqualTo(restarts);
        assertThat(HangingFetcher.blocked())
                .as("reads blocked in the hung artifact after %d restarts", restarts)
                .isEqualTo(1);
    }

    /**
     * At end of input the operator waits for pending loads, and each is bounded by the load timeout
     * counted from its submission, so a bounded job finishes although an artifact hangs.
     */
    @Test
    void endInputReturnsWithinTheLoadTimeoutWhileAnArtifactHangs() throws Exception {
        VersionsSupport s = support(shortLoads());
        try (var h = s.harness()) {
            h.open();
            AdmittedCommand shadow = s.admit(deploy("c1", hang2, Role.SHADOW).keys(List.of("k1")));
            HangingFetcher.close();
            dev.flinkslm.models.SessionCache.shared().evictUnused(); // the load must read the artifact
            h.processElement2(shadow);
            assertThat(waitFor(
                            h,
                            Duration.ofSeconds(10),
                            () -> HangingFetcher.blocked() >= 1
                                    && audits(h).stream().anyMatch(a -> ModelAudit.LOAD_FAILED.equals(a.outcome))))
                    .isTrue();
            h.processElement2(s.admit(deploy("c2", v3, Role.ACTIVE)));
            openGateAfter(Duration.ofSeconds(12));
            long start = System.nanoTime();
            h.endInput(1);
            h.endInput(2);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(millis)
                    .as(
                            "endInput with load-timeout 300 ms took %d ms (the watchdog opens the gate"
                                    + " only after 12 s)",
                            millis)
                    .isLessThan(5_000);
        }
    }

    /**
     * After a restore every reachable version loads in open() within the load timeout; under
     * missing-artifact FAIL a hung artifact fails the restore naming the version, instead of holding
     * the task in INITIALIZING.
     */
    @Test
    void restoreWithAHungArtifactFailsAfterTheLoadTimeout() throws Exception {
        VersionsSupport s = support(shortLoads());
        OperatorSubtaskState snapshot;
        try (var h = s.harness()) {
            h.open();
            s.command(h, deploy("c1", hang2, Role.ACTIVE));
            snapshot = h.snapshot(1, 1);
        }
        HangingFetcher.close();
        dev.flinkslm.models.SessionCache.shared().evictUnused(); // the load must read the artifact
        openGateAfter(Duration.ofSeconds(12));
        long millis;
        try (var restored = s.harness()) {
            restored.initializeState(snapshot);
            long start = System.nanoTime();
            // missing-artifact FAIL: the restore fails naming the version, after the load timeout
            org.assertj.core.api.Assertions.assertThatThrownBy(restored::open)
                    .hasMessageContaining("m:2")
                    .hasMessageContaining("not loaded within 300 ms");
            millis = (System.nanoTime() - start) / 1_000_000;
        }
        assertThat(millis)
                .as("open() after restore with load-timeout 300 ms took %d ms", millis)
                .isLessThan(5_000);
    }

    // ================================================================== the admission stage

    private static OneInputStreamOperatorTestHarness<ModelCommand, AdmittedCommand> admissionHarness(
            ScoringConfig config) throws Exception {
        var factory = new AsyncWaitOperatorFactory<ModelCommand, AdmittedCommand>(
                new CommandAdmission(config, InferenceRuntime.DEFAULT),
                config.versions().admissionTimeout().toMillis(),
                16,
                AsyncDataStream.OutputMode.ORDERED);
        var h = new OneInputStreamOperatorTestHarness<>(
                factory, SlmScoring.COMMAND_TYPE.createSerializer(new SerializerConfigImpl()));
        h.setup(SlmScoring.ADMITTED_TYPE.createSerializer(new SerializerConfigImpl()));
        return h;
    }

    private static List<AdmittedCommand> admitted(AbstractStreamOperatorTestHarness<AdmittedCommand> h) {
        List<AdmittedCommand> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((AdmittedCommand) r.getValue());
            }
        }
        return out;
    }

    /**
     * Commands apply in the order they were sent (their order is their meaning), so a ROLLBACK sent
     * after a DEPLOY whose bundle is still being admitted follows it: at most
     * slm.versions.admission-timeout later, the DEPLOY rejected ADMISSION_TIMEOUT and the ROLLBACK
     * right behind it.
     */
    @Test
    void aRollbackFollowsADeployStillBeingAdmittedWithinTheAdmissionTimeout() throws Exception {
        ScoringConfig config = VersionsSupport.config(
                v1, roots, b -> b.option(ScoringOptions.ADMISSION_TIMEOUT, Duration.ofMillis(500)));
        try (var h = admissionHarness(config)) {
            h.open();
            HangingFetcher.close();
            dev.flinkslm.models.SessionCache.shared().evictUnused(); // the admission must read the artifact
            long start = System.nanoTime();
            h.processElement(new StreamRecord<>(deploy("d1", hang2, Role.CANARY).percent(1), 0L));
            h.processElement(new StreamRecord<>(ModelCommand.of("r1", Action.ROLLBACK, null, null), 0L));
            h.setProcessingTime(h.getProcessingTime() + 600); // the harness's clock: the admission timeout is due
            boolean out = waitFor(
                    h,
                    Duration.ofSeconds(10),
                    () -> admitted(h).stream().anyMatch(a -> "r1".equals(a.command.commandId)));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(out).isTrue();
            assertThat(millis).as("the ROLLBACK waited %d ms", millis).isLessThan(5_000);
            assertThat(admitted(h)).extracting(a -> a.command.commandId).containsExactly("d1", "r1");
            assertThat(admitted(h).get(0).rejectionCode).isEqualTo(ModelAudit.ADMISSION_TIMEOUT);
            HangingFetcher.open();
        }
    }

    /**
     * Two DEPLOYs whose artifacts hang are rejected ADMISSION_TIMEOUT; their stuck threads are
     * replaced, so a later DEPLOY of a good bundle is admitted.
     */
    @Test
    void aGoodDeployIsAdmittedAfterTwoHungAdmissions() throws Exception {
        ScoringConfig config = VersionsSupport.config(v1, roots, b -> b);
        long timeout = config.versions().loadTimeout().toMillis();
        try (var h = admissionHarness(config)) {
            h.open();
            HangingFetcher.close();
            dev.flinkslm.models.SessionCache.shared().evictUnused(); // the load must read the artifact
            h.processElement(new StreamRecord<>(deploy("d1", hang2, Role.ACTIVE), 0L));
            h.processElement(new StreamRecord<>(deploy("d2", hang4, Role.ACTIVE), 0L));
            assertThat(waitFor(h, Duration.ofSeconds(10), () -> HangingFetcher.blocked() == 2))
                    .isTrue();
            h.setProcessingTime(timeout + 1);
            runQueuedMails(h);
            h.processElement(new StreamRecord<>(deploy("g1", v3, Role.ACTIVE), timeout + 2));
            boolean done = waitFor(
                    h,
                    Duration.ofSeconds(5),
                    () -> admitted(h).stream().anyMatch(a -> "g1".equals(a.command.commandId)));
            if (!done) {
                h.setProcessingTime(2 * timeout + 10);
                runQueuedMails(h);
            }
            AdmittedCommand g1 = admitted(h).stream()
                    .filter(a -> "g1".equals(a.command.commandId))
                    .findFirst()
                    .orElseThrow();
            assertThat(g1.rejectionCode)
                    .as("a good bundle deployed after two hung ones: %s (%s)", g1.rejectionCode, g1.rejection)
                    .isNull();
            HangingFetcher.open();
        }
    }

    // ================================================================== circuit breaker

    /**
     * With the default options (max-in-flight 2, max-consecutive-timeouts 3, max-retries 2) a model
     * that hangs on every thread fails the job (consecutive timeouts, or every inference thread
     * stuck) instead of holding the element, the queue and checkpoint barriers forever.
     */
    @Test
    void withDefaultOptionsAHungModelTripsTheCircuitBreaker() throws Exception {
        TestRuntime runtime = new TestRuntime();
        try (var h = HarnessSupport.harness(
                HarnessSupport.builder(fast).maxBatchSize(1).build(), runtime)) {
            h.open();
            runtime.hang(true);
            h.processElement("stuck", 1L);
            String failure = null;
            for (int round = 0; round < 8 && failure == null; round++) {
                try {
                    waitFor(h, Duration.ofMillis(300), () -> false);
                    runtime.advance(Duration.ofMillis(150)); // retry backoff (100 ms)
                    waitFor(h, Duration.ofMillis(300), () -> false);
                    runtime.advance(Duration.ofSeconds(31)); // inference timeout (30 s)
                    runQueuedMails(h);
                } catch (RuntimeException e) {
                    failure = e.getMessage();
                }
            }
            assertThat(failure)
                    .as(
                            "after 8 x 31 s of a hung model (calls %d, hung %d, dead letters %d, results %d)",
                            runtime.calls(),
                            runtime.hungCalls(),
                            HarnessSupport.deadLetters(h).size(),
                            HarnessSupport.results(h).size())
                    .isNotNull()
                    .containsAnyOf("consecutive inference timeouts", "inference threads are stuck");
        } finally {
            runtime.shutdown();
        }
    }

    // ================================================================== RETIRE vs what serves

    /**
     * RETIRE is decided on the rules (identically on every subtask). On a subtask whose replacement is
     * still loading, keys keep being served as the rules of its last READY say, which may be the
     * retired version; the subtask reports READY for the RETIRE and releases the version only once
     * the replacement is loaded (docs/model-versions.md).
     */
    @Test
    void aRetiredVersionServesOnlyUntilItsReplacementIsLoadedThere() throws Exception {
        VersionsSupport s = support(b -> b);
        try (var h = s.harness()) {
            h.open();
            AdmittedCommand c1 = s.admit(deploy("c1", hang2, Role.ACTIVE));
            HangingFetcher.close();
            dev.flinkslm.models.SessionCache.shared().evictUnused(); // the load must read the artifact
            h.processElement2(c1);
            h.processElement2(s.admit(of("c2", Action.RETIRE, "1")));
            assertThat(audits(h, "c2", ModelAudit.ACCEPTED)).hasSize(1);
            assertThat(score(h, "a", "while v2 loads").modelVersion).isEqualTo("1");
            assertThat(audits(h, "c2", ModelAudit.READY))
                    .as("not READY here before v2 is loaded")
                    .isEmpty();
            HangingFetcher.open();
            assertThat(waitFor(
                            h,
                            Duration.ofSeconds(30),
                            () -> !audits(h, "c2", ModelAudit.READY).isEmpty()))
                    .isTrue();
            assertThat(score(h, "a", "after v2 loaded").modelVersion).isEqualTo("2");
            assertThat(waitFor(
                            h,
                            Duration.ofSeconds(30),
                            () -> audits(h).stream()
                                    .anyMatch(a -> ModelAudit.RELEASED.equals(a.outcome) && "1".equals(a.version))))
                    .isTrue();
        }
    }

    private static List<String> loaded(VersionedHarness<String> h) {
        return ((dev.flinkslm.operators.internal.VersionedScoringOperator<?>) h.getOperator())
                .router()
                .loadedVersions();
    }

    // ================================================================== bounded

    /**
     * The size of the rule log is bounded in bytes, not only in counts: 120 DEPLOYs of 1,000 keys of
     * 1,000 characters each (every one within the command limits) leave a serialized rule log under
     * 16 MiB, because slm.versions.max-rule-size rejects what would exceed it.
     */
    @Test
    void broadcastStateStaysWithinItsByteLimit() throws Exception {
        ControlLimits limits = ControlLimits.defaults();
        // one, two and three bytes a character in Flink's string encoding
        for (String unit : List.of("x", "\u00e9", "\u4e00")) {
            RuleLog log = RuleLog.bootstrap(
                    "initial", new CatalogEntry(new VersionKey("m", "1"), "file:///m/1/", sha("1"), false));
            List<String> keys = IntStream.range(0, 300)
                    .mapToObj(i -> String.format(Locale.ROOT, "%04d", i) + unit.repeat(996))
                    .toList();
            int accepted = 0;
            int limited = 0;
            for (int i = 0; i < 60; i++) {
                ModelCommand c = ModelCommand.deploy("k" + i, "file:///m/2/", Role.CANARY)
                        .keys(keys);
                assertThat(c.toJson().getBytes(StandardCharsets.UTF_8).length)
                        .isLessThan(ModelCommand.DEFAULT_MAX_BYTES);
                Decision d = log.apply(
                        AdmittedCommand.of(c, 1L).admitted(new VersionKey("m", "2"), "file:///m/2/", sha("2")), limits);
                accepted += d.accepted() ? 1 : 0;
                limited += ModelAudit.RULE_LIMIT.equals(d.reasonCode()) ? 1 : 0;
            }
            long bytes = serializedBytes(log);
            assertThat(accepted).as("keys of '%s'", unit).isPositive();
            assertThat(limited).as("keys of '%s'", unit).isPositive();
            assertThat(bytes)
                    .as("serialized rule log, keys of '%s', %d accepted", unit, accepted)
                    .isLessThanOrEqualTo(limits.maxRuleBytes())
                    .isLessThanOrEqualTo(log.estimatedBytes());
        }
    }

    /** Every accepted command's id is remembered; the oldest ids are forgotten before the log passes its limit. */
    @Test
    void rememberedCommandIdsStayWithinTheByteLimit() throws Exception {
        ControlLimits limits = ControlLimits.defaults();
        RuleLog log = RuleLog.bootstrap(
                "initial", new CatalogEntry(new VersionKey("m", "1"), "file:///m/1/", sha("1"), false));
        int accepted = 0;
        String last = null;
        for (int i = 0; i < 10_000; i++) {
            last = String.format(Locale.ROOT, "%05d", i) + "\u4e00".repeat(250);
            Decision d = log.apply(AdmittedCommand.of(ModelCommand.of(last, Action.PROMOTE, "m", "1"), 1L), limits);
            accepted += d.accepted() ? 1 : 0;
        }
        assertThat(accepted).isEqualTo(10_000);
        assertThat(serializedBytes(log)).isLessThanOrEqualTo(limits.maxRuleBytes());
        assertThat(log.acceptedCommandIds()).containsKey(last).hasSizeLessThan(10_000);
        Decision again = log.apply(AdmittedCommand.of(ModelCommand.of(last, Action.PROMOTE, "m", "1"), 1L), limits);
        assertThat(again.reasonCode()).isEqualTo(ModelAudit.DUPLICATE_COMMAND);
    }

    private static long serializedBytes(RuleLog log) throws Exception {
        long[] bytes = {0};
        OutputStream counting = new OutputStream() {
            @Override
            public void write(int b) {
                bytes[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                bytes[0] += len;
            }
        };
        RuleLogSerializer.INSTANCE.serialize(log, new DataOutputViewStreamWrapper(counting));
        return bytes[0];
    }

    private static String sha(String version) {
        return String.format(Locale.ROOT, "%064x", version.hashCode());
    }

    // ================================================================== hostile sequences

    private static AdmittedCommand fakeDeploy(String id, String version, Role role, String sha) {
        String uri = "file:///models/" + version + "/";
        return AdmittedCommand.of(ModelCommand.deploy(id, uri, role), 1L)
                .admitted(new VersionKey("m", version), uri, sha);
    }

    private static AdmittedCommand plain(ModelCommand c) {
        return AdmittedCommand.of(c, 1L);
    }

    /** id reuse after rejection, duplicates, rollback chains, retire of hidden shadows, redeploy with other content, percent edges. */
    @Test
    void hostileCommandSequencesFollowTheWrittenSemantics() {
        ControlLimits limits = ControlLimits.defaults();
        RuleLog log = RuleLog.bootstrap(
                "initial", new CatalogEntry(new VersionKey("m", "1"), "file:///models/1/", sha("1"), false));
        // a rejected id may be reused; an accepted one may not
        assertThat(log.apply(plain(of("x", Action.PROMOTE, "9")), limits).reasonCode())
                .isEqualTo(ModelAudit.UNKNOWN_VERSION);
        assertThat(log.apply(fakeDeploy("x", "2", Role.ACTIVE, sha("2")), limits)
                        .accepted())
                .isTrue();
        assertThat(log.apply(fakeDeploy("x", "3", Role.ACTIVE, sha("3")), limits)
                        .reasonCode())
                .isEqualTo(ModelAudit.DUPLICATE_COMMAND);
        // rollback chain down to the initial model, then nothing left to roll back
        assertThat(log.apply(fakeDeploy("d3", "3", Role.ACTIVE, sha("3")), limits)
                        .accepted())
                .isTrue();
        assertThat(log.apply(fakeDeploy("d4", "4", Role.ACTIVE, sha("4")), limits)
                        .accepted())
                .isTrue();
        for (String id : List.of("rb1", "rb2", "rb3")) {
            assertThat(log.apply(plain(of(id, Action.ROLLBACK, null)), limits).accepted())
                    .as(id)
                    .isTrue();
        }
        assertThat(log.resolve("any").servingVersion()).isEqualTo(new VersionKey("m", "1"));
        assertThat(log.apply(plain(of("rb4", Action.ROLLBACK, null)), limits).reasonCode())
                .isEqualTo(ModelAudit.NOTHING_TO_ROLL_BACK);
        // a hidden shadow may be retired; the visible one may not
        assertThat(log.apply(withKeys(fakeDeploy("s5", "5", Role.SHADOW, sha("5")), List.of("a")), limits)
                        .accepted())
                .isTrue();
        assertThat(log.apply(fakeDeploy("s6", "6", Role.SHADOW, sha("6")), limits)
                        .accepted())
                .isTrue();
        assertThat(log.apply(plain(of("r6", Action.RETIRE, "6")), limits).reasonCode())
                .isEqualTo(ModelAudit.STILL_ROUTED);
        assertThat(log.apply(plain(of("r5", Action.RETIRE, "5")), limits).accepted())
                .isTrue();
        assertThat(log.apply(
                                plain(ModelCommand.of("rs", Action.ROLLBACK, null, null)
                                        .role(Role.SHADOW)),
                                limits)
                        .accepted())
                .isTrue();
        assertThat(log.resolve("a").shadowVersion())
                .as("the retired hidden shadow is not restored")
                .isNull();
        // a retired version: PROMOTE refused, redeploy with other content allowed, then served
        assertThat(log.apply(plain(of("p5", Action.PROMOTE, "5")), limits).reasonCode())
                .isEqualTo(ModelAudit.VERSION_RETIRED);
        assertThat(log.apply(fakeDeploy("d5b", "5", Role.ACTIVE, sha("5-other")), limits)
                        .accepted())
                .isTrue();
        assertThat(log.entry(new VersionKey("m", "5")).sha256()).isEqualTo(sha("5-other"));
        assertThat(log.apply(fakeDeploy("d5c", "5", Role.ACTIVE, sha("5")), limits)
                        .reasonCode())
                .isEqualTo(ModelAudit.CONFLICTING_CONTENT);
        // percent edges: 0.001 is one bucket (0.01 %), 99.996 and 100 are all keys
        AdmittedCommand tiny = fakeDeploy("t", "7", Role.CANARY, sha("7"));
        tiny.command.percent(0.001);
        assertThat(log.apply(tiny, limits).accepted()).isTrue();
        assertThat(log.deployments().get(log.deployments().size() - 1).scope().buckets())
                .isEqualTo(1);
        AdmittedCommand almost = fakeDeploy("al", "8", Role.CANARY, sha("8"));
        almost.command.percent(99.996);
        assertThat(log.apply(almost, limits).accepted()).isTrue();
        assertThat(log.deployments().get(log.deployments().size() - 1).scope().isAll())
                .isTrue();
    }

    private static AdmittedCommand withKeys(AdmittedCommand a, List<String> keys) {
        a.command.keys(keys);
        return a;
    }

    /** a 10,000-key DEPLOY is accepted, 10 of them reach max-rule-keys, the 11th is RULE_LIMIT, 10,001 keys INVALID. */
    @Test
    void tenThousandKeyCommandsRespectTheLimits() {
        ControlLimits limits = ControlLimits.defaults();
        RuleLog log = RuleLog.bootstrap(
                "initial", new CatalogEntry(new VersionKey("m", "1"), "file:///models/1/", sha("1"), false));
        for (int c = 0; c < 11; c++) {
            int base = c * 10_000;
            List<String> keys = IntStream.range(base, base + 10_000)
                    .mapToObj(i -> "ACC-" + i)
                    .toList();
            Decision d = log.apply(withKeys(fakeDeploy("k" + c, "2", Role.CANARY, sha("2")), keys), limits);
            if (c < 10) {
                assertThat(d.accepted()).as("command %d", c).isTrue();
            } else {
                assertThat(d.reasonCode()).isEqualTo(ModelAudit.RULE_LIMIT);
            }
        }
        List<String> tooMany =
                IntStream.range(0, 10_001).mapToObj(i -> "B-" + i).toList();
        assertThat(log.apply(withKeys(fakeDeploy("big", "3", Role.CANARY, sha("3")), tooMany), limits)
                        .reasonCode())
                .isEqualTo(ModelAudit.INVALID_COMMAND);
    }

    // ================================================================== TTL

    /** an expired assignment is recomputed from the rules; routing does not change, also while a load is pending. */
    @Test
    void assignmentExpiryDoesNotChangeRouting() throws Exception {
        VersionsSupport s = support(b -> b.option(ScoringOptions.ASSIGNMENT_TTL, Duration.ofSeconds(1)));
        try (var h = s.harness()) {
            h.open();
            s.command(h, deploy("c1", v3, Role.CANARY).percent(50));
            Map<String, String> before = new HashMap<>();
            for (int k = 0; k < 30; k++) {
                Scored<String> r = score(h, "k" + k, "x");
                before.put("k" + k, r.variant + r.modelVersion);
            }
            assertThat(before.values()).contains("canary3", "active1");
            AdmittedCommand pending = s.admit(deploy("c2", hang2, Role.ACTIVE));
            HangingFetcher.close();
            dev.flinkslm.models.SessionCache.shared().evictUnused(); // the load must read the artifact
            h.processElement2(pending);
            h.setStateTtlProcessingTime(1_000_000);
            for (int k = 0; k < 30; k++) {
                Scored<String> r = score(h, "k" + k, "y");
                assertThat(r.variant + r.modelVersion)
                        .as("k%d after expiry, v2 still loading", k)
                        .isEqualTo(before.get("k" + k));
            }
        }
    }

    // ================================================================== determinism

    /**
     * one subtask whose load fails repeatedly: decisions identical (one ACCEPTED, from subtask 0),
     * rule logs equal, the failing subtask reports LOAD_FAILED with growing attempts, no READY, keeps
     * serving the previous version; a ROLLBACK then applies at once on both and the retries stop.
     */
    @Test
    void oneSubtaskFailingToLoadRepeatedlyDoesNotChangeAnyDecision() throws Exception {
        VersionsSupport s = support(b -> b.option(ScoringOptions.LOAD_RETRY_BACKOFF, Duration.ofMillis(20))
                .option(ScoringOptions.LOAD_RETRY_MAX_BACKOFF, Duration.ofMillis(40)));
        try (var s0 = s.harness(128, 2, 0, InferenceRuntime.DEFAULT);
                var s1 = s.harness(128, 2, 1, InferenceRuntime.DEFAULT)) {
            s0.open();
            s1.open();
            AdmittedCommand c1 = s.admit(deploy("c1", hang2, Role.ACTIVE));
            HangingFetcher.onlyThreadsContaining = "(2/2)";
            HangingFetcher.fail = true;
            HangingFetcher.close();
            dev.flinkslm.models.SessionCache.shared().evictUnused(); // the load must read the artifact
            // Subtasks in one JVM share sessions: while subtask 0 has not loaded v2, subtask 1 must read
            // the artifact itself, and fails.
            s1.processElement2(c1);
            assertThat(waitFor(
                            s1,
                            Duration.ofSeconds(20),
                            () -> audits(s1).stream()
                                            .filter(a -> ModelAudit.LOAD_FAILED.equals(a.outcome))
                                            .count()
                                    >= 3))
                    .isTrue();
            assertThat(audits(s1))
                    .filteredOn(a -> ModelAudit.LOAD_FAILED.equals(a.outcome))
                    .allSatisfy(a -> assertThat(a.subtask).isEqualTo(1))
                    .extracting(a -> a.attempt)
                    .startsWith(1, 2, 3);
            assertThat(audits(s1, "c1", ModelAudit.READY)).isEmpty();
            String k1 = keyOf(1, 2);
            assertThat(score(s1, k1, "x").modelVersion).isEqualTo("1");
            s0.processElement2(c1);
            assertThat(waitFor(
                            s0,
                            Duration.ofSeconds(20),
                            () -> !audits(s0, "c1", ModelAudit.READY).isEmpty()))
                    .isTrue();
            assertThat(VersionsSupport.ruleLog(s0.snapshot(1, 1)))
                    .isEqualTo(VersionsSupport.ruleLog(s1.snapshot(1, 1)));
            AdmittedCommand rb = s.admit(of("c2", Action.ROLLBACK, null));
            s0.processElement2(rb);
            s1.processElement2(rb);
            assertThat(audits(s0, "c2", ModelAudit.ACCEPTED)).hasSize(1);
            assertThat(audits(s1)).noneMatch(a -> a.subtask == null);
            assertThat(waitFor(
                            s1,
                            Duration.ofSeconds(5),
                            () -> !audits(s1, "c2", ModelAudit.READY).isEmpty()))
                    .isTrue();
            long failures = audits(s1).stream()
                    .filter(a -> ModelAudit.LOAD_FAILED.equals(a.outcome))
                    .count();
            waitFor(s1, Duration.ofMillis(500), () -> false);
            assertThat(audits(s1).stream()
                            .filter(a -> ModelAudit.LOAD_FAILED.equals(a.outcome))
                            .count())
                    .as("retries stop once v2 is not needed")
                    .isLessThanOrEqualTo(failures + 1);
            assertThat(score(s0, keyOf(0, 2), "x").modelVersion).isEqualTo("1");
        }
    }

    private static String keyOf(int subtask, int parallelism) {
        for (int i = 0; ; i++) {
            String k = "acct-" + i;
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator(k, 128, parallelism) == subtask) {
                return k;
            }
        }
    }

    // ================================================================== failure timing: checkpoint + rescale

    /**
     * a checkpoint while subtask 1's load of v3 is in flight (hung), with elements buffered on
     * both subtasks; restore at parallelism 3 (the pending command's version loads in open()), a
     * second checkpoint with elements buffered, restore at 2: every event scored exactly once, by v3,
     * and the rule logs are equal everywhere.
     */
    @Test
    void checkpointWithALoadInFlightThenRescale2To3To2() throws Exception {
        VersionsSupport s = support(b -> b.maxBatchSize(64).maxWait(Duration.ofHours(1)));
        List<String> keys = IntStream.range(0, 40).mapToObj(i -> "acct-" + i).toList();
        OperatorSubtaskState[] two = new OperatorSubtaskState[2];
        try (var s0 = s.harness(128, 2, 0, InferenceRuntime.DEFAULT);
                var s1 = s.harness(128, 2, 1, InferenceRuntime.DEFAULT)) {
            s0.open();
            s1.open();
            List<VersionedHarness<String>> subs = List.of(s0, s1);
            AdmittedCommand c1 = s.admit(deploy("c1", hang2, Role.ACTIVE));
            HangingFetcher.onlyThreadsContaining = "(2/2)";
            HangingFetcher.close();
            dev.flinkslm.models.SessionCache.shared().evictUnused(); // the load must read the artifact
            s0.processElement2(c1);
            s1.processElement2(c1);
            assertThat(waitFor(
                            s0,
                            Duration.ofSeconds(20),
                            () -> !audits(s0, "c1", ModelAudit.READY).isEmpty()))
                    .isTrue();
            for (String k : keys) {
                subs.get(KeyGroupRangeAssignment.assignKeyToParallelOperator(k, 128, 2))
                        .processElement1(k + "|first " + k, 1L);
            }
            two[0] = s0.snapshot(1, 1);
            two[1] = s1.snapshot(1, 1);
            assertThat(results(s0)).isEmpty();
            assertThat(results(s1)).isEmpty();
        }
        HangingFetcher.reset();
        OperatorSubtaskState merged = AbstractStreamOperatorTestHarness.repackageState(two);
        OperatorSubtaskState[] three = new OperatorSubtaskState[3];
        RuleLog expected = VersionsSupport.ruleLog(two[0]);
        for (int i = 0; i < 3; i++) {
            try (var h = s.harness(128, 3, i, InferenceRuntime.DEFAULT)) {
                h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(merged, 128, 2, 3, i));
                h.open();
                three[i] = h.snapshot(2, 2);
                assertThat(VersionsSupport.ruleLog(three[i])).isEqualTo(expected);
                assertThat(results(h)).isEmpty();
            }
        }
        OperatorSubtaskState merged3 = AbstractStreamOperatorTestHarness.repackageState(three);
        Map<String, Integer> count = new HashMap<>();
        for (int i = 0; i < 2; i++) {
            try (var h = s.harness(128, 2, i, InferenceRuntime.DEFAULT)) {
                h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(merged3, 128, 3, 2, i));
                h.open();
                h.endInput(1);
                for (Scored<String> r : results(h)) {
                    count.merge(r.element, 1, Integer::sum);
                    assertThat(r.modelVersion).as(r.element).isEqualTo("2");
                }
                assertThat(HarnessSupport.deadLetters(h)).isEmpty();
            }
        }
        assertThat(count)
                .hasSize(keys.size())
                .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
    }

    // ================================================================== watermark status

    /** UNORDERED mode, IDLE/ACTIVE of the event input held behind queued elements; status of the command input ignored. */
    @Test
    void watermarkStatusTogglesAreHeldBehindQueuedElementsInUnorderedMode() throws Exception {
        VersionsSupport s = support(b -> b.maxBatchSize(8).outputMode(OutputMode.UNORDERED));
        try (var h = s.harness()) {
            h.open();
            h.processElement1("a|first", 5L);
            h.processWatermarkStatus1(WatermarkStatus.IDLE);
            h.processWatermarkStatus2(WatermarkStatus.ACTIVE);
            h.processWatermarkStatus1(WatermarkStatus.ACTIVE);
            h.processElement1("b|second", 6L);
            h.processWatermarkStatus2(WatermarkStatus.IDLE);
            assertThat(h.getOutput()).isEmpty();
            h.endInput(1);
            List<Object> out = new ArrayList<>(h.getOutput());
            assertThat(out).hasSize(4);
            assertThat(out.get(0)).isInstanceOf(StreamRecord.class);
            assertThat(out.get(1)).isEqualTo(WatermarkStatus.IDLE);
            assertThat(out.get(2)).isEqualTo(WatermarkStatus.ACTIVE);
            assertThat(out.get(3)).isInstanceOf(StreamRecord.class);
        }
    }

    /**
     * Key assignments store model id and version as separate fields, so a version containing ':'
     * ("2:rc1") is served as a shadow like any other.
     */
    @Test
    void aShadowWhoseVersionContainsAColonScores() throws Exception {
        Path colon = TinyBundles.write(
                roots.resolve("colon"),
                new TinyBundles.Spec().id("m").version("2:rc1").seed(99));
        VersionsSupport s = support(b -> b);
        try (var h = s.harness()) {
            h.open();
            assertThat(s.command(h, deploy("c1", colon, Role.SHADOW)).outcome).isEqualTo(ModelAudit.ACCEPTED);
            for (int k = 0; k < 5; k++) {
                score(h, "k" + k, "payment " + k);
            }
            assertThat(VersionsSupport.shadows(h))
                    .as("shadow results of m:2:rc1 for 5 events")
                    .hasSize(5);
        }
    }

    /**
     * stop-with-savepoint without drain on the versioned operator while a batch hangs and a
     * load is in flight: the savepoint holds the elements, close() does not wait, the restored job
     * scores each element once.
     */
    @Test
    void stopWithSavepointWithoutDrainWhileABatchHangsAndALoadIsInFlight() throws Exception {
        VersionsSupport s = support(b -> b.maxBatchSize(2));
        TestRuntime runtime = new TestRuntime();
        OperatorSubtaskState savepoint;
        try {
            var h = s.harness(128, 1, 0, runtime);
            h.open();
            runtime.hang(true);
            h.processElement1("a|first", 1L);
            h.processElement1("b|second", 1L);
            assertThat(waitFor(h, Duration.ofSeconds(10), () -> runtime.hungCalls() == 1))
                    .isTrue();
            AdmittedCommand c1 = s.admit(deploy("c1", hang2, Role.ACTIVE));
            HangingFetcher.close();
            dev.flinkslm.models.SessionCache.shared().evictUnused(); // the load must read the artifact
            h.processElement2(c1);
            savepoint = h.snapshot(1, 1);
            long start = System.nanoTime();
            h.close();
            assertThat((System.nanoTime() - start) / 1_000_000).as("close() ms").isLessThan(5_000);
        } finally {
            HangingFetcher.open();
            runtime.shutdown();
        }
        try (var restored = s.harness()) {
            restored.initializeState(savepoint);
            restored.open();
            restored.endInput(1);
            assertThat(results(restored))
                    .extracting(r -> r.element + "@" + r.modelVersion)
                    .containsExactly("a|first@2", "b|second@2");
        }
    }

    // ================================================================== leaks

    /** close while a load hangs and a batch is in flight: once both return, no lease and no slm-* thread is left. */
    @Test
    void closeWhileALoadHangsLeavesNoLeaseOnceItReturns() throws Exception {
        VersionsSupport s = support(b -> b);
        ModelBundle b2 = BundleLoader.verify(hang2.toUri(), hang2, null);
        ModelBundle b1 = BundleLoader.verify(v1.toUri(), v1, null);
        TestRuntime runtime = new TestRuntime();
        try {
            var h = s.harness(128, 1, 0, runtime);
            h.open();
            AdmittedCommand c1 = s.admit(deploy("c1", hang2, Role.ACTIVE));
            HangingFetcher.close();
            dev.flinkslm.models.SessionCache.shared().evictUnused(); // the load must read the artifact
            h.processElement2(c1);
            assertThat(waitFor(h, Duration.ofSeconds(10), () -> HangingFetcher.blocked() == 1))
                    .isTrue();
            runtime.hang(true);
            h.processElement1("a|in flight", 1L);
            assertThat(waitFor(h, Duration.ofSeconds(10), () -> runtime.hungCalls() == 1))
                    .isTrue();
            h.close();
            HangingFetcher.open();
            runtime.releaseHung();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline
                    && (SessionCache.shared().references(b2, s.config.runtime())
                                            + SessionCache.shared().references(b1, s.config.runtime())
                                    > 0
                            || operatorThreads().size() > 0)) {
                Thread.sleep(20);
            }
            assertThat(SessionCache.shared().references(b2, s.config.runtime())).isZero();
            assertThat(SessionCache.shared().references(b1, s.config.runtime())).isZero();
            assertThat(operatorThreads()).isEmpty();
        } finally {
            runtime.shutdown();
        }
    }

    private static List<String> operatorThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("slm-") && !n.startsWith("slm-session-closer"))
                .toList();
    }
}
