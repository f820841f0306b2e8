package dev.flinkslm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.LongUnaryOperator;
import java.util.stream.IntStream;

/**
 * The checker of {@code bench swap}, fed synthetic runs: routing as docs/model-versions.md describes
 * passes, and each way of breaking it (commands never applied, a key served older than its subtask's
 * last READY, the previous version kept although the target's version was loaded, a fallback to an
 * epoch not yet READY when the result came, a version no epoch targets, a queueing steady state) is
 * counted.
 */
class BenchSwapCheckTest {

    private static final String V1 = "1.0.0-int8";
    private static final String V2 = "1.0.0-int8-v2";
    private static final String V3 = "1.0.0-int8-v3";
    private static final long T0 = 1_000_000L;
    private static final int EVENTS = 4000;
    /** Commands emitted at these offsets; ACCEPTED 5 ms later; READY on both subtasks 100 ms later. */
    private static final long[] AT = {10_000, 15_000, 20_000, 25_000, 30_000};

    private static final long READY_AFTER = 100;

    private static BenchSwap.Versions versions() {
        return new BenchSwap.Versions(
                Path.of("/tmp/none"),
                "compliance-minilm",
                List.of(Path.of("/tmp/v1"), Path.of("/tmp/v2"), Path.of("/tmp/v3")),
                List.of(V1, V2, V3));
    }

    private static List<ModelCommand> commands() {
        return List.of(
                ModelCommand.of("bench-noop", ModelCommand.Action.PROMOTE, "compliance-minilm", "no-such-version"),
                ModelCommand.deploy("bench-deploy-v2", "file:///tmp/v2/", ModelCommand.Role.ACTIVE),
                ModelCommand.deploy("bench-canary-v3", "file:///tmp/v3/", ModelCommand.Role.CANARY)
                        .percent(20),
                ModelCommand.of("bench-promote-v3", ModelCommand.Action.PROMOTE, "compliance-minilm", V3),
                ModelCommand.of("bench-rollback", ModelCommand.Action.ROLLBACK, null, null));
    }

    private static BenchSwap.Semantics semantics() {
        BenchSwap.Semantics sem = new BenchSwap.Semantics(V1);
        List<ModelCommand> commands = commands();
        List<String> deployed = List.of("", V2, V3, "", "");
        for (int i = 0; i < commands.size(); i++) {
            sem.apply(commands.get(i), deployed.get(i));
        }
        return sem;
    }

    /** Result latency of the synthetic runs: 30 ms from creation to result. */
    private static final long LATENCY_MS = 30;

    /** When subtask s reports READY for command i, in ms after the command's emission. */
    interface ReadyAt {
        long offset(int command, int subtask);
    }

    /** Each result's (version, variant, epoch), by key, subtask and creation time. */
    interface Route {
        Object[] route(String key, int subtask, long created);
    }

    /** Deploys READY (and their version LOADED) 100 ms after emission on both subtasks; the others at once. */
    private static final ReadyAt UNIFORM = (i, s) -> i == 1 || i == 2 ? READY_AFTER : 6;

    private static BenchSwap.MainRun run(BiFunction<String, Long, Object[]> route) {
        return run(UNIFORM, (key, s, created) -> route.apply(key, created), created -> LATENCY_MS * 1000, true);
    }

    private static BenchSwap.MainRun run(BiFunction<String, Long, Object[]> route, LongUnaryOperator latency) {
        return run(UNIFORM, (key, s, created) -> route.apply(key, created), latency, true);
    }

    private static BenchSwap.MainRun run(ReadyAt readyAt, Route route) {
        return run(readyAt, route, created -> LATENCY_MS * 1000, true);
    }

    /** READY of command i on subtask s, epoch ms. */
    private static long ready(ReadyAt readyAt, int command, int subtask) {
        return T0 + AT[command] + readyAt.offset(command, subtask);
    }

    /**
     * A run: events every 10 ms for 40 s, the five commands with a complete audit trail, each result's
     * (version, variant, epoch) chosen by {@code route} and its latency (µs) by {@code latency}. The
     * per-subtask records are those the operator makes: v2 LOADED at its deploy's READY, v3 at the
     * canary's READY, then v1 RELEASED (no longer needed); after the ROLLBACK, v3 RELEASED and v1
     * LOADED again (the new rollback target) 400 ms after that subtask's READY.
     */
    private static BenchSwap.MainRun run(ReadyAt readyAt, Route route, LongUnaryOperator latency, boolean loadRecords) {
        BenchSwap.Versions v = versions();
        List<ModelCommand> commands = commands();
        BenchSwap.Semantics sem = semantics();
        List<String> accounts =
                IntStream.range(0, 400).mapToObj(i -> "ACC-" + i).toList();
        Map<String, Long> emitted = new HashMap<>();
        List<BenchSwap.Audit> audit = new ArrayList<>();
        for (int i = 0; i < commands.size(); i++) {
            ModelCommand c = commands.get(i);
            long at = T0 + AT[i];
            emitted.put(c.commandId, at);
            Long epoch = sem.epochOf.get(c.commandId);
            if (epoch == null) {
                audit.add(new BenchSwap.Audit(
                        ModelAudit.REJECTED,
                        ModelAudit.UNKNOWN_VERSION,
                        "unknown",
                        c.commandId,
                        c.action,
                        null,
                        null,
                        0,
                        at + 5));
                continue;
            }
            audit.add(new BenchSwap.Audit(
                    ModelAudit.ACCEPTED, null, null, c.commandId, c.action, null, null, epoch, at + 5));
            for (int s = 0; s < 2; s++) {
                audit.add(new BenchSwap.Audit(
                        ModelAudit.READY, null, null, c.commandId, c.action, null, s, epoch, ready(readyAt, i, s)));
            }
        }
        if (loadRecords) {
            for (int s = 0; s < 2; s++) {
                audit.add(local(ModelAudit.LOADED, V2, s, 1, ready(readyAt, 1, s)));
                audit.add(local(ModelAudit.LOADED, V3, s, 2, ready(readyAt, 2, s)));
                audit.add(local(ModelAudit.RELEASED, V1, s, 2, ready(readyAt, 2, s) + 1));
                audit.add(local(ModelAudit.RELEASED, V3, s, 4, ready(readyAt, 4, s) + 1));
                audit.add(local(ModelAudit.LOADED, V1, s, 4, ready(readyAt, 4, s) + 400));
            }
        }
        List<BenchSwap.Result> results = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            long created = T0 + i * 10L;
            String key = accounts.get(i % accounts.size());
            int subtask = subtask(key);
            Object[] r = route.route(key, subtask, created);
            long micros = latency.applyAsLong(created);
            long done = created + micros / 1000;
            results.add(new BenchSwap.Result(
                    i,
                    (String) r[0],
                    (String) r[1],
                    (Long) r[2],
                    subtask,
                    created,
                    micros,
                    done,
                    done * 1_000_000,
                    10_000,
                    10_000,
                    4));
        }
        BenchSwap.MainRun run = new BenchSwap.MainRun(
                v, sem, commands, accounts, EVENTS, 100, 0.6, results, audit, new ArrayList<>(), emitted);
        run.analyse();
        return run;
    }

    private static BenchSwap.Audit local(String outcome, String version, int subtask, long epoch, long at) {
        return new BenchSwap.Audit(outcome, null, null, null, null, version, subtask, epoch, at);
    }

    private static int subtask(String key) {
        return KeyGroupRangeAssignment.assignKeyToParallelOperator(key, 128, 2);
    }

    private static Object[] as(BenchSwap.Served s, long epoch) {
        return new Object[] {s.version(), s.variant(), epoch};
    }

    /** The epoch in force when an event was created (the last command ACCEPTED before it). */
    private static long epochAt(long created) {
        long e = 0;
        int[] epochOfCommand = {-1, 1, 2, 3, 4};
        for (int i = 0; i < AT.length; i++) {
            if (created > T0 + AT[i] + 5 && epochOfCommand[i] > 0) {
                e = epochOfCommand[i];
            }
        }
        return e;
    }

    /** Under {@link #UNIFORM}: whether the deploy of {@code epoch} (1 or 2) was still loading at {@code created}. */
    private static boolean loading(long created, long epoch) {
        return (epoch == 1 || epoch == 2) && created <= T0 + AT[(int) epoch] + READY_AFTER;
    }

    @Test
    void routingAsTheRuleEpochSaysPasses() {
        BenchSwap.Semantics sem = semantics();
        BenchSwap.MainRun run = run((key, created) -> {
            long e = epochAt(created);
            BenchSwap.Served s = sem.target(e, key);
            return new Object[] {s.version(), s.variant(), e};
        });
        assertThat(run.wrong).isZero();
        assertThat(run.keptPrevious).isZero();
        assertThat(run.problems).isEmpty();
        assertThat(run.failedCorrectness()).isFalse();
        assertThat(run.queueing).as(run.queueReason).isFalse();
    }

    /**
     * Keys moving to a version that is still loading on their subtask are served as the subtask's
     * last READY epoch serves them: only the two deploys load (subtask 0 READY after 100 ms, subtask 1
     * after 700 ms); after PROMOTE (v3 loaded since the canary) and ROLLBACK (v2 loaded throughout)
     * nothing may keep the previous version, however late their READY comes (here 300 and 900 ms).
     */
    @Test
    void keysServedAsTheLastReadyEpochWhileTheirVersionLoadsPass() {
        BenchSwap.Semantics sem = semantics();
        ReadyAt staggered = (i, s) -> (i == 1 || i == 2 ? 100 : 300) + 600L * s;
        Map<Long, Long> kept = new TreeMap<>();
        BenchSwap.MainRun run = run(staggered, (key, s, created) -> {
            long e = epochAt(created);
            BenchSwap.Served want = sem.target(e, key);
            // The operator: want's version not loaded yet on this subtask -> the last READY's target.
            if ((e == 1 || e == 2) && created < ready(staggered, (int) e, s)) {
                BenchSwap.Served previous = sem.target(e - 1, key);
                if (!previous.equals(want)) {
                    kept.merge(e, 1L, Long::sum);
                    return as(previous, e);
                }
            }
            return as(want, e);
        });
        assertThat(kept.keySet()).containsExactly(1L, 2L);
        assertThat(run.problems).isEmpty();
        assertThat(run.wrong).as("%s", run.wrongBreakdown).isZero();
        assertThat(run.keptByEpoch).isEqualTo(kept);
        assertThat(run.keptPrevious)
                .isEqualTo(kept.values().stream().mapToLong(Long::longValue).sum());
        assertThat(run.failedCorrectness()).isFalse();
    }

    /**
     * READY and loads are per subtask: subtask 0 is READY 100 ms after each deploy, subtask 1 only
     * 2 s after. Both keep the previous target for 2 s: fine on subtask 1, wrong on subtask 0 for
     * events created after its own load (the result's subtask, not the other one, decides).
     */
    @Test
    void aSubtaskKeepsThePreviousVersionOnlyUntilItsOwnLoad() {
        BenchSwap.Semantics sem = semantics();
        ReadyAt staggered = (i, s) -> i == 1 || i == 2 ? (s == 0 ? 100 : 2000) : 6;
        long[] wrong = new long[2];
        long[] kept = new long[2];
        BenchSwap.MainRun run = run(staggered, (key, s, created) -> {
            long e = epochAt(created);
            BenchSwap.Served want = sem.target(e, key);
            BenchSwap.Served previous = e == 0 ? want : sem.target(e - 1, key);
            if ((e == 1 || e == 2) && !previous.equals(want) && created < T0 + AT[(int) e] + 2000) {
                if (created <= ready(staggered, (int) e, s)) { // the same ms as READY: either order
                    kept[s]++;
                } else {
                    wrong[s]++;
                }
                return as(previous, e);
            }
            return as(want, e);
        });
        assertThat(wrong[0]).isPositive();
        assertThat(wrong[1]).isZero();
        assertThat(kept[0]).isPositive();
        assertThat(kept[1]).isPositive();
        assertThat(run.wrong).as("%s", run.wrongBreakdown).isEqualTo(wrong[0]);
        assertThat(run.keptPrevious).isEqualTo(kept[0] + kept[1]);
    }

    /**
     * (Review finding) After the ROLLBACK (epoch 4) every key's target is v2, loaded all along: results
     * of epoch 4 still served by v3 are wrong even before the subtask's READY for the rollback (here
     * made late, 1.5 s on subtask 0 and 1.8 s on subtask 1, so every one of them comes before it).
     */
    @Test
    void aRollbackServedByTheRolledBackVersionIsServedWrong() {
        BenchSwap.Semantics sem = semantics();
        ReadyAt late = (i, s) -> i == 4 ? 1500 + 300L * s : UNIFORM.offset(i, s);
        long[] bad = {0};
        BenchSwap.MainRun run = run(late, (key, s, created) -> {
            long e = epochAt(created);
            if (e == 4 && created <= T0 + AT[4] + 1000) {
                bad[0]++;
                return as(sem.target(3, key), 4L); // v3 after the rollback to v2
            }
            return as(sem.target(e, key), e);
        });
        assertThat(bad[0]).isEqualTo(100); // created 10..1000 ms after the rollback's emission, every 10 ms
        assertThat(run.keptPrevious).isZero();
        assertThat(run.wrong).as("%s", run.wrongBreakdown).isEqualTo(bad[0]);
        assertThat(run.wrongBreakdown.keySet()).allMatch(k -> k.contains("was loaded on the subtask"));
    }

    /**
     * (Review finding) PROMOTE v3 (epoch 3): v3 is loaded since the canary, so results of epoch 3
     * served as epoch 2 serves them (v2 active, or v3 as a canary) are wrong, READY late or not.
     */
    @Test
    void aPromoteOfALoadedVersionServedAsBeforeIsServedWrong() {
        BenchSwap.Semantics sem = semantics();
        ReadyAt late = (i, s) -> i == 3 ? 700 - 400L * s : UNIFORM.offset(i, s);
        long[] bad = {0};
        BenchSwap.MainRun run = run(late, (key, s, created) -> {
            long e = epochAt(created);
            if (e == 3 && created <= T0 + AT[3] + 1000) {
                bad[0]++;
                return as(sem.target(2, key), 3L);
            }
            return as(sem.target(e, key), e);
        });
        assertThat(bad[0]).isEqualTo(100);
        assertThat(run.keptPrevious).isZero();
        assertThat(run.wrong).as("%s", run.wrongBreakdown).isEqualTo(bad[0]);
    }

    /**
     * (Review finding) An epoch whose READY on the subtask came only after the result may not serve it.
     * On subtask 0, v2's deploy (epoch 1) and the canary (epoch 2) are READY together, 2 s after the
     * canary's emission; until then its last READY is epoch 0, so canary keys waiting for v3 get v1.
     * Serving them v2 (epoch 1's target) is wrong unless epoch 1 was READY by the time of the result
     * (events created less than their latency, here 400 ms, before that READY: it may have come before
     * they were routed). Keys outside the canary get v1 legitimately (v2 is not loaded there either).
     */
    @Test
    void anEpochReadyOnlyAfterTheResultDoesNotServe() {
        BenchSwap.Semantics sem = semantics();
        ReadyAt slow =
                (i, s) -> s == 0 && i == 1 ? AT[2] - AT[1] + 2000 : s == 0 && i == 2 ? 2000 : UNIFORM.offset(i, s);
        long readyOnZero = T0 + AT[2] + 2000;
        long latencyMs = 400;
        long[] bad = {0};
        long[] inFlight = {0};
        long[] kept = {0};
        BenchSwap.MainRun run = run(
                slow,
                (key, s, created) -> {
                    long e = epochAt(created);
                    BenchSwap.Served want = sem.target(e, key);
                    if (s == 0 && e == 1 && created < readyOnZero) {
                        kept[0]++;
                        return as(sem.target(0, key), 1L); // v2 still loading: v1, legitimately
                    }
                    if (s == 0 && e == 2 && created < readyOnZero) {
                        if ("canary".equals(want.variant())) {
                            if (created + latencyMs < readyOnZero) {
                                bad[0]++;
                            } else {
                                inFlight[0]++;
                                kept[0]++;
                            }
                            return as(sem.target(1, key), 2L); // v2: epoch 1 was not READY here yet
                        }
                        kept[0]++;
                        return as(sem.target(0, key), 2L); // v2 not loaded either: v1 (last READY = 0)
                    }
                    if (e > 0 && created < ready(slow, (int) e, s) && !want.equals(sem.target(e - 1, key))) {
                        kept[0]++;
                        return as(sem.target(e - 1, key), e);
                    }
                    return as(want, e);
                },
                created -> latencyMs * 1000,
                true);
        assertThat(bad[0]).isPositive();
        assertThat(inFlight[0]).isPositive();
        assertThat(run.problems).isEmpty();
        assertThat(run.wrong).as("%s", run.wrongBreakdown).isEqualTo(bad[0]);
        assertThat(run.keptPrevious).isEqualTo(kept[0]);
    }

    /** The initial version is loaded from the start; released and loaded again, it is loaded only between. */
    @Test
    void loadedThroughoutFollowsTheLoadedAndReleasedRecords() {
        BenchSwap.MainRun run =
                run(UNIFORM, (key, s, created) -> as(semantics().target(epochAt(created), key), epochAt(created)));
        long released = ready(UNIFORM, 2, 1) + 1;
        long reloaded = ready(UNIFORM, 4, 1) + 400;
        assertThat(run.loadedThroughout(1, V1, T0, released - 1)).isTrue();
        assertThat(run.loadedThroughout(1, V1, T0, released)).isFalse();
        assertThat(run.loadedThroughout(1, V1, released + 10, reloaded - 10)).isFalse();
        assertThat(run.loadedThroughout(1, V1, reloaded, reloaded + 10)).isFalse(); // same ms: either order
        assertThat(run.loadedThroughout(1, V1, reloaded + 1, reloaded + 10)).isTrue();
        long v2Loaded = ready(UNIFORM, 1, 0);
        assertThat(run.loadedThroughout(0, V2, v2Loaded - 10, v2Loaded + 10)).isFalse();
        assertThat(run.loadedThroughout(0, V2, v2Loaded + 1, T0 + 60_000)).isTrue();
        assertThat(run.loadedThroughout(0, V3, T0, T0 + 60_000)).isFalse();
    }

    /** The routing check relies on LOADED records: a deployed version without one is an audit problem. */
    @Test
    void aDeployedVersionWithoutLoadedRecordsIsAProblem() {
        BenchSwap.MainRun run = run(
                UNIFORM,
                (key, s, created) -> as(semantics().target(epochAt(created), key), epochAt(created)),
                created -> LATENCY_MS * 1000,
                false);
        assertThat(run.problems).hasSize(4).allMatch(p -> p.contains("no LOADED record"));
        assertThat(run.failedCorrectness()).isTrue();
    }

    /** Accepting and auditing every command but routing by the initial rules (epoch 0) is wrong after READY. */
    @Test
    void anOperatorThatNeverAppliesACommandIsServedWrong() {
        BenchSwap.MainRun run = run((key, created) -> new Object[] {V1, "active", 0L});
        long afterFirstReady = IntStream.range(0, EVENTS)
                .filter(i -> T0 + i * 10L > T0 + AT[1] + READY_AFTER)
                .count();
        assertThat(run.wrong).isEqualTo(afterFirstReady);
        assertThat(run.failedCorrectness()).isTrue();
    }

    /**
     * While the canary loads (epoch 2), its keys must stay on v2 (epoch 1, READY since 15.1 s), never
     * fall back to v1.
     */
    @Test
    void aKeyServedOlderThanItsSubtasksLastReadyIsServedWrong() {
        BenchSwap.Semantics sem = semantics();
        long[] older = {0};
        BenchSwap.MainRun run = run((key, created) -> {
            long e = epochAt(created);
            BenchSwap.Served want = sem.target(e, key);
            if (e == 2 && loading(created, e) && "canary".equals(want.variant())) {
                older[0]++;
                return new Object[] {V1, "active", 2L};
            }
            return new Object[] {want.version(), want.variant(), e};
        });
        assertThat(older[0]).isPositive();
        assertThat(run.wrong).isEqualTo(older[0]);
        assertThat(run.failedCorrectness()).isTrue();
    }

    /** A result stamped with an epoch older than one READY on its subtask before the event existed. */
    @Test
    void anEpochOlderThanTheLastReadyIsServedWrong() {
        BenchSwap.Semantics sem = semantics();
        long[] stale = {0};
        BenchSwap.MainRun run = run((key, created) -> {
            long e = epochAt(created);
            if (e == 4 && created > T0 + AT[4] + READY_AFTER + 1000 && created < T0 + AT[4] + READY_AFTER + 2000) {
                stale[0]++;
                BenchSwap.Served old = sem.target(3, key);
                return new Object[] {old.version(), old.variant(), 3L};
            }
            BenchSwap.Served want = sem.target(e, key);
            return new Object[] {want.version(), want.variant(), e};
        });
        assertThat(stale[0]).isPositive();
        assertThat(run.wrong).isEqualTo(stale[0]);
    }

    /** A version no epoch targets for the key (a canary version for a key outside the canary). */
    @Test
    void aVersionNoReadyEpochTargetsIsServedWrong() {
        BenchSwap.Semantics sem = semantics();
        long[] bad = {0};
        BenchSwap.MainRun run = run((key, created) -> {
            long e = epochAt(created);
            BenchSwap.Served want = sem.target(e, key);
            if (e == 2 && !loading(created, e) && "active".equals(want.variant())) {
                bad[0]++;
                return new Object[] {V3, "active", 2L};
            }
            return new Object[] {want.version(), want.variant(), e};
        });
        assertThat(bad[0]).isPositive();
        assertThat(run.wrong).isEqualTo(bad[0]);
    }

    /** A high p50 in one half of steady state is queueing even when the whole window's p50 looks fine. */
    @Test
    void aHighP50InOneHalfOfSteadyStateIsQueueing() {
        BenchSwap.Semantics sem = semantics();
        BenchSwap.MainRun run = run(
                (key, created) -> {
                    long e = epochAt(created);
                    BenchSwap.Served s = sem.target(e, key);
                    return new Object[] {s.version(), s.variant(), e};
                },
                created -> created >= T0 + 3000 && created < T0 + 5500 ? 200_000 : 20_000);
        assertThat(run.queueing).isTrue();
        assertThat(run.queueReason).contains("halves");
    }

    /**
     * p99_ratio is the median over the commands of each window's p99 against the stretches right before
     * and after it: one slow window (the canary's, 60 ms instead of 20) shows in the range, not in the
     * median, while the union of the windows over steady state would say 3.
     */
    @Test
    void p99RatioIsTheMedianOfPerCommandRatiosAgainstTheAdjacentStretches() {
        BenchSwap.Semantics sem = semantics();
        long canary = T0 + AT[2];
        BenchSwap.MainRun run = run(
                (key, created) -> {
                    long e = epochAt(created);
                    BenchSwap.Served s = sem.target(e, key);
                    return new Object[] {s.version(), s.variant(), e};
                },
                created -> created >= canary - 1000 && created < canary + 1000 ? 60_000 : 20_000);
        assertThat(run.p99Spread).isEqualTo(new Rounds.Spread(1.0, 1.0, 3.0, 5));
        assertThat(run.p99Ratio).isEqualTo(1.0);
        assertThat(run.p99RatioUnion).isEqualTo(3.0);
        assertThat(run.commandRatios).hasSize(5);
        assertThat(run.commandRatios.get(2))
                .contains("bench-canary-v3", "p99   60.0 ms /   20.0 ms = 3.00", "before and after");
    }
}
