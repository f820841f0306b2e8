package dev.flinkslm.operators;

import static dev.flinkslm.operators.HarnessSupport.runMailsUntil;

import dev.flinkslm.models.ModelRef;
import dev.flinkslm.operators.internal.InferenceRuntime;
import dev.flinkslm.operators.internal.VersionedScoringOperatorFactory;
import dev.flinkslm.operators.internal.versions.Admission;
import dev.flinkslm.operators.internal.versions.AdmittedCommand;
import dev.flinkslm.operators.internal.versions.RuleLog;
import dev.flinkslm.operators.internal.versions.RuleLogSerializer;
import dev.flinkslm.operators.internal.versions.VersionedRouter;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ShadowResult;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.StateObjectCollection;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Builds versioned scoring operators on tiny generated bundles: events are {@code key|text}, the
 * initial model is {@code v1}. Commands go through the real admission step before they reach the
 * operator, as in a job.
 */
final class VersionsSupport {

    static final OutputTag<ModelAudit> AUDIT = new OutputTag<>("audit", SlmScoring.AUDIT_TYPE);
    static final OutputTag<ShadowResult<String>> SHADOW =
            new OutputTag<>("shadow", SlmScoring.shadowType(Types.STRING));

    private static final AtomicLong CLOCK = new AtomicLong(1_000_000);

    final ScoringConfig config;
    final Path initial;
    final Admission admission;

    VersionsSupport(ScoringConfig config, Path initial) {
        this.config = config;
        this.initial = initial;
        this.admission = new Admission(config, "test-job");
    }

    static ScoringConfig config(
            Path initial, Path roots, java.util.function.UnaryOperator<SlmScoring.Builder<String>> more) {
        SlmScoring.Builder<String> b = SlmScoring.<String>builder()
                .text(s -> s)
                .model(initial.toString())
                .modelRoots(roots.toString())
                .executionProvider(dev.flinkslm.models.ExecutionProvider.CPU)
                .maxBatchSize(1)
                // Batches form exactly as the test feeds them: full, at max-wait or at end of input. The
                // adaptive policy has its own tests (AdaptiveBatchingTest) and is the default in the ITCases.
                .dispatch(DispatchPolicy.FILL)
                .maxWait(Duration.ofHours(1));
        return more.apply(b).build().config();
    }

    VersionedHarness<String> harness(int maxParallelism, int parallelism, int subtask, InferenceRuntime runtime)
            throws Exception {
        var factory = new VersionedScoringOperatorFactory<>(
                config,
                (String s) -> s.substring(s.indexOf('|') + 1),
                ModelRef.of(initial.toUri().toString()),
                HarnessSupport.DEAD_LETTERS,
                AUDIT,
                SHADOW,
                runtime);
        var h = new VersionedHarness<>(
                factory,
                (String s) -> s.substring(0, s.indexOf('|')),
                maxParallelism,
                parallelism,
                subtask,
                Types.STRING.createSerializer(new SerializerConfigImpl()),
                SlmScoring.ADMITTED_TYPE.createSerializer(new SerializerConfigImpl()));
        h.setup(SlmScoring.scoredType(Types.STRING).createSerializer(new SerializerConfigImpl()));
        return h;
    }

    VersionedHarness<String> harness() throws Exception {
        return harness(128, 1, 0, InferenceRuntime.DEFAULT);
    }

    AdmittedCommand admit(ModelCommand c) {
        return admission.admit(c, CLOCK.incrementAndGet());
    }

    static List<Scored<String>> results(VersionedHarness<String> h) {
        return HarnessSupport.results(h);
    }

    static List<ModelAudit> audits(VersionedHarness<String> h) {
        var q = h.getSideOutput(AUDIT);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue).toList();
    }

    static List<ModelAudit> audits(VersionedHarness<String> h, String commandId, String outcome) {
        return audits(h).stream()
                .filter(a -> commandId.equals(a.commandId) && outcome.equals(a.outcome))
                .toList();
    }

    static List<ShadowResult<String>> shadows(VersionedHarness<String> h) {
        var q = h.getSideOutput(SHADOW);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue).toList();
    }

    /** Scores one event of {@code key} and returns its result (fails if it was dead-lettered). */
    static Scored<String> score(VersionedHarness<String> h, String key, String text) throws Exception {
        int scored = results(h).size();
        int dead = HarnessSupport.deadLetters(h).size();
        h.processElement1(key + "|" + text, 1L);
        runMailsUntil(h, () -> results(h).size() + HarnessSupport.deadLetters(h).size() > scored + dead);
        if (results(h).size() == scored) {
            throw new AssertionError(
                    "dead-lettered: " + HarnessSupport.deadLetters(h).get(dead));
        }
        return results(h).get(scored);
    }

    /**
     * Sends a command to every harness and waits until it is decided and, if accepted, READY on every
     * harness. Returns the command-level record (from subtask 0).
     */
    ModelAudit command(List<VersionedHarness<String>> subtasks, ModelCommand c) throws Exception {
        AdmittedCommand admitted = admit(c);
        for (VersionedHarness<String> h : subtasks) {
            h.processElement2(admitted);
        }
        VersionedHarness<String> first = subtasks.get(0);
        List<ModelAudit> decided = audits(first).stream().filter(decides(c)).toList();
        if (decided.isEmpty()) {
            throw new AssertionError("no ACCEPTED/REJECTED record for " + c + ": " + audits(first));
        }
        ModelAudit decision = decided.get(decided.size() - 1);
        if (ModelAudit.ACCEPTED.equals(decision.outcome)) {
            for (VersionedHarness<String> h : subtasks) {
                runMailsUntil(h, () -> !audits(h, c.commandId, ModelAudit.READY).isEmpty());
            }
        }
        return decision;
    }

    ModelAudit command(VersionedHarness<String> h, ModelCommand c) throws Exception {
        return command(List.of(h), c);
    }

    private static Predicate<ModelAudit> decides(ModelCommand c) {
        return a -> a.subtask == null
                && java.util.Objects.equals(c.commandId, a.commandId)
                && (ModelAudit.ACCEPTED.equals(a.outcome) || ModelAudit.REJECTED.equals(a.outcome));
    }

    /** The rule log a snapshot holds in broadcast state (every subtask writes its own copy). */
    static RuleLog ruleLog(OperatorSubtaskState snapshot) throws Exception {
        StateObjectCollection<OperatorStateHandle> handles = snapshot.getManagedOperatorState();
        for (OperatorStateHandle handle : handles) {
            var meta = handle.getStateNameToPartitionOffsets().get(VersionedRouter.RULES_STATE);
            if (meta == null) {
                continue;
            }
            try (FSDataInputStream in = handle.openInputStream()) {
                in.seek(meta.getOffsets()[0]);
                DataInputViewStreamWrapper view = new DataInputViewStreamWrapper(in);
                int entries = view.readInt();
                List<RuleLog> logs = new ArrayList<>();
                for (int i = 0; i < entries; i++) {
                    org.apache.flink.api.common.typeutils.base.StringSerializer.INSTANCE.deserialize(view);
                    logs.add(RuleLogSerializer.INSTANCE.deserialize(view));
                }
                return logs.get(0);
            }
        }
        throw new AssertionError("no rule log in the snapshot");
    }
}
