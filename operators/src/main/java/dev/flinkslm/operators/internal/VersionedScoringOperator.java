package dev.flinkslm.operators.internal;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.GoldenCheck;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.TextExtractor;
import dev.flinkslm.operators.versions.MissingArtifactPolicy;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ShadowResult;

import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple5;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.MathUtils;
import org.apache.flink.util.OutputTag;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * The scoring operator with live model versions: events on input 1 (keyed), {@link ModelCommand}s
 * on input 2 (broadcast).
 *
 * <p>The catalog of versions and the ordered log of rules (deploy active/canary/shadow for all keys,
 * some keys or a percentage, promote, roll back, retire) live in broadcast state. Each key's
 * assignment (active, previous, canary, shadow) lives in keyed state and is brought up to date
 * lazily: when an element of the key arrives, the rules it has not seen are applied in order. A
 * rule whose version is still loading stops that walk, so the previous version keeps serving until
 * the new one is admitted (checksums, graph, warm-up and golden examples, loaded off the task
 * thread). Each element is scored by the version its key has when it enters a batch.
 */
public class VersionedScoringOperator<IN> extends ScoringOperator<IN>
        implements TwoInputStreamOperator<IN, ModelCommand, Scored<IN>> {

    private static final long serialVersionUID = 1L;

    static final String CONTROL_STATE = "slm-model-control";
    static final String ASSIGNMENT_STATE = "slm-model-assignment";
    private static final String CONTROL_KEY = "state";
    static final String VARIANT_CANARY = "canary";

    private final OutputTag<ModelAudit> auditTag;
    private final OutputTag<ShadowResult<IN>> shadowTag;
    private final MissingArtifactPolicy missingArtifactPolicy;

    /** Bit 1: events ended, bit 2: commands ended. */
    private transient BroadcastState<String, String> controlStore;
    private transient ControlState control;
    private transient ValueState<Tuple5<String, String, String, String, Integer>> assignments;
    private transient Map<String, ModelSlot> slots;
    private transient Set<String> unavailable;
    private transient ExecutorService loaderExecutor;
    private transient Map<String, long[]> shadowAgreement;
    private transient int subtask;

    public VersionedScoringOperator(StreamOperatorParameters<Scored<IN>> parameters, ScoringConfig config,
            TextExtractor<IN> textExtractor, ModelRef initialModel, OutputTag<ScoringFailure<IN>> deadLetterTag,
            OutputTag<ModelAudit> auditTag, OutputTag<ShadowResult<IN>> shadowTag,
            MissingArtifactPolicy missingArtifactPolicy) {
        super(parameters, config, textExtractor, initialModel, deadLetterTag);
        this.auditTag = auditTag;
        this.shadowTag = shadowTag;
        this.missingArtifactPolicy = missingArtifactPolicy;
    }

    /** For test harnesses; the mailbox arrives via {@link #setMailboxExecutor}. */
    public VersionedScoringOperator(ScoringConfig config, TextExtractor<IN> textExtractor, ModelRef initialModel,
            OutputTag<ScoringFailure<IN>> deadLetterTag, OutputTag<ModelAudit> auditTag,
            OutputTag<ShadowResult<IN>> shadowTag, MissingArtifactPolicy missingArtifactPolicy) {
        super(config, textExtractor, initialModel, deadLetterTag);
        this.auditTag = auditTag;
        this.shadowTag = shadowTag;
        this.missingArtifactPolicy = missingArtifactPolicy;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        if (!keyed) {
            throw new IllegalStateException("model versions are assigned per key: key the event stream"
                    + " (stream.keyBy(...)) before applying SlmScoring with a control stream");
        }
        controlStore = context.getOperatorStateStore().getBroadcastState(
                new MapStateDescriptor<>(CONTROL_STATE, Types.STRING, Types.STRING));
        String json = controlStore.get(CONTROL_KEY);
        control = json == null ? null : ControlState.parse(json);
        assignments = getPartitionedState(new ValueStateDescriptor<>(ASSIGNMENT_STATE,
                Types.TUPLE(Types.STRING, Types.STRING, Types.STRING, Types.STRING, Types.INT)));
    }

    @Override
    protected void openModels() throws Exception {
        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        slots = new HashMap<>();
        unavailable = new HashSet<>();
        shadowAgreement = new HashMap<>();
        loaderExecutor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "slm-model-loader " + getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks());
            t.setDaemon(true);
            return t;
        });
        if (control == null) {
            control = new ControlState();
            ModelSlot initial = acquire(model);
            slots.put(initial.name, initial);
            ControlState.Version v = version(initial.ref, ControlState.VersionStatus.LIVE);
            control.catalog.put(v.key(), v);
            ControlState.Rule bootstrap = new ControlState.Rule();
            bootstrap.commandId = "initial";
            bootstrap.action = ModelCommand.Action.DEPLOY.name();
            bootstrap.role = ModelCommand.Role.ACTIVE.name();
            bootstrap.uri = initial.ref.uri();
            bootstrap.sha256 = initial.ref.sha256();
            bootstrap.target = initial.name;
            bootstrap.status = ControlState.RuleStatus.LIVE.name();
            control.rules.add(bootstrap);
            saveControl();
        } else {
            restoreModels();
        }
        modelVersionName = defaultActive();
    }

    /** Reloads every live version from its URI, verifying checksums again. */
    private void restoreModels() throws Exception {
        for (ControlState.Version v : control.catalog.values()) {
            if (!ControlState.VersionStatus.LIVE.name().equals(v.status)) {
                continue;
            }
            try {
                ModelSlot slot = acquire(new ModelRef(v.id, v.version, v.uri, v.sha256));
                slots.put(slot.name, slot);
                audit(null, "RESTORE", ModelAudit.RESTORED, v.id, v.version, v.uri, null, null, false);
            } catch (BundleException e) {
                if (missingArtifactPolicy == MissingArtifactPolicy.FAIL) {
                    throw new IllegalStateException("model version " + v.key() + " referenced by state cannot be"
                            + " loaded from " + v.uri + ": " + e.getMessage() + ". Restore the artifact, or set "
                            + "slm.versions.missing-artifact=FALLBACK to serve such keys with the initial model.", e);
                }
                LOG.warn("Model version {} from state cannot be loaded ({}); its keys fall back to the initial model",
                        v.key(), e.getMessage());
                unavailable.add(v.key());
                audit(null, "RESTORE", ModelAudit.REJECTED, v.id, v.version, v.uri, null, e.getMessage(), true);
            }
        }
        for (ControlState.Rule r : control.rules) {
            if (ControlState.RuleStatus.PENDING.name().equals(r.status)) {
                startLoad(r);
            }
        }
    }

    // ------------------------------------------------------------------ inputs

    @Override
    public void processElement1(StreamRecord<IN> record) throws Exception {
        processElement(record);
    }

    @Override
    public void processElement2(StreamRecord<ModelCommand> record) throws Exception {
        ModelCommand command = record.getValue();
        try {
            command.validate();
        } catch (IllegalArgumentException e) {
            audit(command.commandId, command.action, ModelAudit.REJECTED, command.modelId, command.version, command.uri,
                    command.role, e.getMessage(), false);
            return;
        }
        if (!control.seenCommands.add(command.commandId)) {
            audit(command.commandId, command.action, ModelAudit.DUPLICATE, command.modelId, command.version,
                    command.uri, command.role, "command id seen before; ignored", false);
            return;
        }
        ControlState.Rule rule = new ControlState.Rule();
        rule.commandId = command.commandId;
        rule.action = command.actionValue().name();
        rule.role = command.roleValue().name();
        rule.uri = command.uri;
        rule.sha256 = command.sha256;
        rule.keys = command.keys;
        rule.percent = command.percent;
        switch (command.actionValue()) {
            case DEPLOY -> {
                rule.status = ControlState.RuleStatus.PENDING.name();
                control.rules.add(rule);
                audit(command.commandId, rule.action, ModelAudit.ACCEPTED, command.modelId, command.version,
                        command.uri, rule.role, null, false);
                startLoad(rule);
            }
            case PROMOTE -> {
                String target = command.modelId + ":" + command.version;
                if (!slots.containsKey(target)) {
                    reject(rule, target, "version " + target + " is not live here; deploy it first");
                } else {
                    rule.target = target;
                    rule.status = ControlState.RuleStatus.LIVE.name();
                    control.rules.add(rule);
                    audit(command.commandId, rule.action, ModelAudit.PROMOTED, command.modelId, command.version,
                            null, null, null, false);
                }
            }
            case ROLLBACK -> {
                rule.status = ControlState.RuleStatus.LIVE.name();
                control.rules.add(rule);
                audit(command.commandId, rule.action, ModelAudit.ROLLED_BACK, null, null, null, null, null, false);
            }
            case RETIRE -> {
                String target = command.modelId + ":" + command.version;
                if (!control.catalog.containsKey(target)) {
                    reject(rule, target, "version " + target + " is unknown");
                } else if (target.equals(defaultActive())) {
                    reject(rule, target, "version " + target + " is the active version for all keys;"
                            + " deploy another active version or roll back first");
                } else {
                    rule.target = target;
                    rule.status = ControlState.RuleStatus.LIVE.name();
                    control.rules.add(rule);
                    control.catalog.get(target).status = ControlState.VersionStatus.RETIRED.name();
                    ModelSlot slot = slots.remove(target);
                    if (slot != null) {
                        slot.retired = true;
                        releaseIfIdle(slot);
                    }
                    audit(command.commandId, rule.action, ModelAudit.RETIRED, command.modelId, command.version,
                            null, null, null, false);
                }
            }
        }
        saveControl();
        modelVersionName = defaultActive();
    }

    private void reject(ControlState.Rule rule, String target, String reason) {
        rule.target = target;
        rule.status = ControlState.RuleStatus.REJECTED.name();
        rule.reason = reason;
        control.rules.add(rule);
        String[] idVersion = target.split(":", 2);
        audit(rule.commandId, rule.action, ModelAudit.REJECTED, idVersion[0], idVersion.length > 1 ? idVersion[1] : null,
                rule.uri, rule.role, reason, false);
    }

    /** Loads a deployed version off the task thread; the outcome comes back through the mailbox. */
    private void startLoad(ControlState.Rule rule) {
        ModelRef ref = new ModelRef(null, null, rule.uri, rule.sha256);
        try {
            loaderExecutor.execute(() -> {
                ModelSlot slot = null;
                Exception failure = null;
                try {
                    slot = acquire(ref);
                    GoldenCheck.require(slot.session());
                } catch (Exception e) {
                    failure = e;
                    if (slot != null) {
                        slot.release();
                        slot = null;
                    }
                }
                ModelSlot loaded = slot;
                Exception error = failure;
                try {
                    mailbox.execute(() -> onLoaded(rule, loaded, error), "slm model loaded");
                } catch (RejectedExecutionException closing) {
                    if (loaded != null) {
                        loaded.release();
                    }
                }
            });
        } catch (RejectedExecutionException closing) {
            LOG.debug("Loader shut down; {} will be loaded again on restore", rule.uri);
        }
    }

    private void onLoaded(ControlState.Rule rule, ModelSlot slot, Exception error) throws Exception {
        if (!ControlState.RuleStatus.PENDING.name().equals(rule.status)) {
            if (slot != null) {
                slot.release();
            }
            return;
        }
        if (error != null) {
            rule.status = ControlState.RuleStatus.REJECTED.name();
            rule.reason = error.getMessage();
            LOG.warn("Model command {} rejected: {}", rule.commandId, error.getMessage());
            audit(rule.commandId, rule.action, ModelAudit.REJECTED, null, null, rule.uri, rule.role, rule.reason, true);
        } else {
            rule.target = slot.name;
            ControlState.Version known = control.catalog.get(slot.name);
            if (known != null && known.sha256 != null && !known.sha256.equals(slot.ref.sha256())
                    && !ControlState.VersionStatus.RETIRED.name().equals(known.status)) {
                slot.release();
                rule.status = ControlState.RuleStatus.REJECTED.name();
                rule.reason = "version " + slot.name + " is already deployed with different content; give the new"
                        + " bundle a new version";
                audit(rule.commandId, rule.action, ModelAudit.REJECTED, slot.ref.id(), slot.ref.version(), rule.uri,
                        rule.role, rule.reason, true);
            } else {
                ModelSlot existing = slots.get(slot.name);
                if (existing != null) {
                    slot.release(); // same artifact already loaded here
                } else {
                    slots.put(slot.name, slot);
                }
                control.catalog.put(slot.name, version(slot.ref, ControlState.VersionStatus.LIVE));
                rule.status = ControlState.RuleStatus.LIVE.name();
                audit(rule.commandId, rule.action, ModelAudit.LOADED, slot.ref.id(), slot.ref.version(), rule.uri,
                        rule.role, null, true);
                audit(rule.commandId, rule.action, ModelAudit.LIVE, slot.ref.id(), slot.ref.version(), rule.uri,
                        rule.role, null, false);
            }
        }
        saveControl();
        modelVersionName = defaultActive();
    }

    @Override
    public void processWatermark1(Watermark mark) throws Exception {
        processWatermark(mark);
    }

    @Override
    public void processWatermark2(Watermark mark) {
        // Control commands do not hold back event time.
    }

    @Override
    protected void processWatermarkStatus(WatermarkStatus status, int index) throws Exception {
        if (index == 1) {
            output.emitWatermarkStatus(status);
        }
    }

    /**
     * Called once both inputs have ended (Flink calls the one-input {@code endInput()} of the base
     * class for each input as it ends; that only flushes batches).
     */
    @Override
    public void finish() throws Exception {
        awaitPendingLoads();
        super.finish();
    }

    /**
     * With both inputs ended (bounded events and commands) a model load still running would report
     * its outcome after the operator finished, which the downstream sinks reject ("Received element
     * after endOfInput"). Let the loads finish first so that every command is audited.
     */
    private void awaitPendingLoads() throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
        while (hasPendingLoads() && System.nanoTime() < deadline) {
            if (!mailbox.tryYield()) {
                Thread.sleep(5);
            }
        }
        if (hasPendingLoads()) {
            LOG.warn("Model loads still pending at the end of input; their outcome will not be audited");
        }
    }

    private boolean hasPendingLoads() {
        for (ControlState.Rule r : control.rules) {
            if (ControlState.RuleStatus.PENDING.name().equals(r.status)) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ routing

    @Override
    protected Route route(PendingElement<IN> element) throws Exception {
        Tuple5<String, String, String, String, Integer> a = assignments.value();
        boolean changed = false;
        if (a == null) {
            a = new Tuple5<>(null, null, null, null, 0);
            changed = true;
        }
        List<ControlState.Rule> rules = control.rules;
        int next = a.f4;
        while (next < rules.size()) {
            ControlState.Rule r = rules.get(next);
            if (ControlState.RuleStatus.PENDING.name().equals(r.status)) {
                break; // the previous assignment serves until this version is admitted
            }
            if (ControlState.RuleStatus.LIVE.name().equals(r.status) && targets(r, element.key)) {
                apply(r, a);
            }
            next++;
        }
        if (next != a.f4) {
            a.f4 = next;
            changed = true;
        }
        if (changed) {
            assignments.update(a);
        }
        ModelSlot active = available(a.f0);
        if (active == null) {
            active = fixedSlot != null && !fixedSlot.retired ? fixedSlot : available(control.rules.get(0).target);
        }
        if (active == null) {
            return null;
        }
        ModelSlot canary = available(a.f2);
        ModelSlot shadow = available(a.f3);
        return canary != null
                ? new Route(canary, VARIANT_CANARY, shadow)
                : new Route(active, VARIANT_ACTIVE, shadow);
    }

    private ModelSlot available(String versionKey) {
        if (versionKey == null || unavailable.contains(versionKey)) {
            return null;
        }
        return slots.get(versionKey);
    }

    private static void apply(ControlState.Rule r, Tuple5<String, String, String, String, Integer> a) {
        switch (ModelCommand.Action.valueOf(r.action)) {
            case DEPLOY -> {
                switch (ModelCommand.Role.valueOf(r.role)) {
                    case ACTIVE -> {
                        if (!Objects.equals(a.f0, r.target)) {
                            a.f1 = a.f0;
                            a.f0 = r.target;
                        }
                        if (Objects.equals(a.f2, r.target)) {
                            a.f2 = null;
                        }
                    }
                    case CANARY -> a.f2 = r.target;
                    case SHADOW -> a.f3 = r.target;
                }
            }
            case PROMOTE -> {
                if (!Objects.equals(a.f0, r.target)) {
                    a.f1 = a.f0;
                    a.f0 = r.target;
                }
                if (Objects.equals(a.f2, r.target)) {
                    a.f2 = null;
                }
            }
            case ROLLBACK -> {
                if (a.f2 != null || a.f3 != null) {
                    a.f2 = null;
                    a.f3 = null;
                } else if (a.f1 != null) {
                    a.f0 = a.f1;
                    a.f1 = null;
                }
            }
            case RETIRE -> {
                if (Objects.equals(a.f2, r.target)) {
                    a.f2 = null;
                }
                if (Objects.equals(a.f3, r.target)) {
                    a.f3 = null;
                }
                if (Objects.equals(a.f1, r.target)) {
                    a.f1 = null;
                }
                if (Objects.equals(a.f0, r.target)) {
                    a.f0 = null; // falls back to the version active for all keys
                }
            }
        }
    }

    /** Whether a rule applies to a key: all keys, listed keys, or a sticky share by stable hash. */
    static boolean targets(ControlState.Rule r, Object key) {
        if (r.keys != null) {
            return r.keys.contains(String.valueOf(key));
        }
        if (r.percent != null) {
            return bucket(key) < Math.round(r.percent * 100);
        }
        return true;
    }

    /** A key's bucket in [0, 10000), stable across JVMs and restarts (String.hashCode is specified). */
    static int bucket(Object key) {
        return MathUtils.murmurHash(String.valueOf(key).hashCode()) % 10_000;
    }

    /** The version active for all keys: the latest live ACTIVE-for-all deploy or promote. */
    private String defaultActive() {
        String active = null;
        String previous = null;
        for (ControlState.Rule r : control.rules) {
            if (!ControlState.RuleStatus.LIVE.name().equals(r.status) || r.keys != null || r.percent != null) {
                continue;
            }
            boolean makesActive = ModelCommand.Action.PROMOTE.name().equals(r.action)
                    || ModelCommand.Action.DEPLOY.name().equals(r.action) && ModelCommand.Role.ACTIVE.name().equals(r.role);
            if (makesActive && !Objects.equals(active, r.target)) {
                previous = active;
                active = r.target;
            } else if (ModelCommand.Action.ROLLBACK.name().equals(r.action) && previous != null) {
                active = previous;
                previous = null;
            }
        }
        return active;
    }

    // ------------------------------------------------------------------ results

    @Override
    protected void beforeEmit(PendingElement<IN> element) {
        if (element.shadowPrediction == null || element.result == null || element.shadowSlot == null) {
            return;
        }
        ShadowResult<IN> r = new ShadowResult<>();
        r.element = element.result.element;
        r.servedModel = element.result.modelId + ":" + element.result.modelVersion;
        r.servedLabel = element.result.label;
        r.servedScore = element.result.score;
        r.shadowModel = element.shadowSlot.name;
        r.shadowLabel = element.shadowPrediction.label();
        r.shadowScore = element.shadowPrediction.score();
        r.agree = r.servedLabel.equals(r.shadowLabel);
        long[] counts = shadowAgreement.computeIfAbsent(r.shadowModel, k -> new long[2]);
        counts[0] += r.agree ? 1 : 0;
        counts[1]++;
        r.compared = counts[1];
        r.agreementRate = (double) counts[0] / counts[1];
        output.collect(shadowTag, element.record.hasTimestamp()
                ? new StreamRecord<>(r, element.record.getTimestamp())
                : new StreamRecord<>(r));
    }

    @Override
    protected void onBatchFinished(ModelSlot slot) {
        releaseIfIdle(slot);
    }

    private void releaseIfIdle(ModelSlot slot) {
        if (slot.retired && slot.inFlightBatches == 0 && slots.get(slot.name) != slot) {
            slot.release();
        }
    }

    @Override
    protected void releaseModels() {
        if (loaderExecutor != null) {
            loaderExecutor.shutdownNow();
        }
        if (slots != null) {
            for (ModelSlot slot : slots.values()) {
                slot.release();
            }
            slots.clear();
        }
        fixedSlot = null;
    }

    // ------------------------------------------------------------------ helpers

    private void saveControl() throws Exception {
        controlStore.put(CONTROL_KEY, control.toJson());
    }

    private static ControlState.Version version(ModelRef ref, ControlState.VersionStatus status) {
        ControlState.Version v = new ControlState.Version();
        v.id = ref.id();
        v.version = ref.version();
        v.uri = ref.uri();
        v.sha256 = ref.sha256();
        v.status = status.name();
        return v;
    }

    /**
     * Emits an audit record. Command-level outcomes are the same on every subtask, so only subtask 0
     * reports them; outcomes that may differ per subtask (loading) are reported by each.
     */
    private void audit(String commandId, String action, String outcome, String modelId, String version, String uri,
            String role, String reason, boolean perSubtask) {
        if (!perSubtask && subtask != 0) {
            return;
        }
        ModelAudit a = new ModelAudit();
        a.commandId = commandId;
        a.action = action;
        a.outcome = outcome;
        a.modelId = modelId;
        a.version = version;
        a.uri = uri;
        a.role = role;
        a.reason = reason;
        a.subtask = subtask;
        a.timestamp = System.currentTimeMillis();
        LOG.info("Model audit: {}", a);
        output.collect(auditTag, new StreamRecord<>(a, a.timestamp));
    }
}
