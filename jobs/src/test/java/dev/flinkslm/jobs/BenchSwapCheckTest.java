package dev.flinkslm.jobs;

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
import java.util.function.BiFunction;
import java.util.function.LongUnaryOperator;
import java.util.stream.IntStream;

/**
 * The checker of {@code bench swap}, fed synthetic runs: routing as docs/model-versions.md describes
 * passes, and each way of breaking it (commands never applied, a key served older than its subtask's
 * last READY, a version no epoch targets, a queueing steady state) is counted.
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
        return new BenchSwap.Versions(Path.of("/tmp/none"), "compliance-minilm",
                List.of(Path.of("/tmp/v1"), Path.of("/tmp/v2"), Path.of("/tmp/v3")), List.of(V1, V2, V3));
    }

    private static List<ModelCommand> commands() {
        return List.of(
                ModelCommand.of("bench-noop", ModelCommand.Action.PROMOTE, "compliance-minilm", "no-such-version"),
                ModelCommand.deploy("bench-deploy-v2", "file:///tmp/v2/", ModelCommand.Role.ACTIVE),
                ModelCommand.deploy("bench-canary-v3", "file:///tmp/v3/", ModelCommand.Role.CANARY).percent(20),
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

    private static BenchSwap.MainRun run(BiFunction<String, Long, Object[]> route) {
        return run(route, created -> 30_000);
    }

    /**
     * A run: events every 10 ms for 40 s, the five commands with a complete audit trail, each result's
     * (version, variant, epoch) chosen by {@code route(key, createdMillis)} and its latency (µs) by
     * {@code latency(createdMillis)}.
     */
    private static BenchSwap.MainRun run(BiFunction<String, Long, Object[]> route, LongUnaryOperator latency) {
        BenchSwap.Versions v = versions();
        List<ModelCommand> commands = commands();
        BenchSwap.Semantics sem = semantics();
        List<String> accounts = IntStream.range(0, 400).mapToObj(i -> "ACC-" + i).toList();
        Map<String, Long> emitted = new HashMap<>();
        List<BenchSwap.Audit> audit = new ArrayList<>();
        for (int i = 0; i < commands.size(); i++) {
            ModelCommand c = commands.get(i);
            long at = T0 + AT[i];
            emitted.put(c.commandId, at);
            Long epoch = sem.epochOf.get(c.commandId);
            if (epoch == null) {
                audit.add(new BenchSwap.Audit(ModelAudit.REJECTED, ModelAudit.UNKNOWN_VERSION, "unknown", c.commandId,
                        c.action, null, null, 0, at + 5));
                continue;
            }
            audit.add(new BenchSwap.Audit(ModelAudit.ACCEPTED, null, null, c.commandId, c.action, null, null, epoch,
                    at + 5));
            for (int s = 0; s < 2; s++) {
                audit.add(new BenchSwap.Audit(ModelAudit.READY, null, null, c.commandId, c.action, null, s, epoch,
                        at + READY_AFTER));
            }
        }
        List<BenchSwap.Result> results = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            long created = T0 + i * 10L;
            String key = accounts.get(i % accounts.size());
            int subtask = KeyGroupRangeAssignment.assignKeyToParallelOperator(key, 128, 2);
            Object[] r = route.apply(key, created);
            long micros = latency.applyAsLong(created);
            long done = created + micros / 1000;
            results.add(new BenchSwap.Result(i, (String) r[0], (String) r[1], (Long) r[2], subtask, created, micros,
                    done, done * 1_000_000, 10_000, 10_000, 4));
        }
        BenchSwap.MainRun run = new BenchSwap.MainRun(v, sem, commands, accounts, EVENTS, 100, 0.6, results, audit,
                new ArrayList<>(), emitted);
        run.analyse();
        return run;
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

    private static boolean loading(long created, long epoch) {
        return epoch > 0 && created <= T0 + AT[(int) epoch] + READY_AFTER;
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

    /** Keys moving to a version that is still loading are served as the previous READY epoch serves them. */
    @Test
    void keysServedAsTheLastReadyEpochWhileTheirVersionLoadsPass() {
        BenchSwap.Semantics sem = semantics();
        long[] kept = {0};
        BenchSwap.MainRun run = run((key, created) -> {
            long e = epochAt(created);
            BenchSwap.Served want = sem.target(e, key);
            if (loading(created, e) && !want.equals(sem.target(e - 1, key))) {
                kept[0]++;
                BenchSwap.Served previous = sem.target(e - 1, key);
                return new Object[] {previous.version(), previous.variant(), e};
            }
            return new Object[] {want.version(), want.variant(), e};
        });
        assertThat(kept[0]).isPositive();
        assertThat(run.keptPrevious).isEqualTo(kept[0]);
        assertThat(run.wrong).isZero();
        assertThat(run.failedCorrectness()).isFalse();
    }

    /** Accepting and auditing every command but routing by the initial rules (epoch 0) is wrong after READY. */
    @Test
    void anOperatorThatNeverAppliesACommandIsServedWrong() {
        BenchSwap.MainRun run = run((key, created) -> new Object[] {V1, "active", 0L});
        long afterFirstReady = IntStream.range(0, EVENTS).filter(i -> T0 + i * 10L > T0 + AT[1] + READY_AFTER).count();
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
        BenchSwap.MainRun run = run((key, created) -> {
            long e = epochAt(created);
            BenchSwap.Served s = sem.target(e, key);
            return new Object[] {s.version(), s.variant(), e};
        }, created -> created >= T0 + 3000 && created < T0 + 5500 ? 200_000 : 20_000);
        assertThat(run.queueing).isTrue();
        assertThat(run.queueReason).contains("halves");
    }
}
