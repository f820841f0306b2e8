package dev.flinkslm.operators.internal.versions;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.internal.InferenceRuntime;
import dev.flinkslm.operators.internal.ModelRouter;
import dev.flinkslm.operators.internal.ModelSlot;
import dev.flinkslm.operators.internal.Route;
import dev.flinkslm.operators.internal.StuckTolerantPool;
import dev.flinkslm.operators.internal.VersionLoading;
import dev.flinkslm.operators.versions.MissingArtifactPolicy;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;

/**
 * Routes elements by the rule log of live model versions, and keeps the versions it needs loaded on
 * this subtask.
 *
 * <p>Shared state is the {@link RuleLog} in broadcast state: commands change it identically on
 * every subtask (subtask 0 reports the command-level ACCEPTED/REJECTED). Local state is what is
 * loaded here: versions load on a small pool with a timeout, are admitted (checksums, graph,
 * warm-up, golden examples) and retried with backoff when they fail, each reported per subtask. A
 * key moves to its target version on this subtask only once that version is loaded here; until then
 * it is served as the rules of the last READY on this subtask serve it (whose versions are all still
 * loaded), so it keeps its previous version and never an older one. A version no rule needs is
 * released once every reachable version is loaded and no element routed to it is pending. Keyed
 * state caches each key's target per rule-log epoch.
 *
 * <p>Threading: task thread only, except the load workers, which hand their results back through a
 * synchronized hand-off and the mailbox; whatever is loaded after {@link #close} is released.
 */
@Internal
public final class VersionedRouter implements ModelRouter {

    private static final Logger LOG = LoggerFactory.getLogger(VersionedRouter.class);

    public static final String RULES_STATE = "slm-model-rules";
    public static final String ASSIGNMENT_STATE = "slm-model-assignment-v" + KeyAssignment.FORMAT;
    private static final String RULES_KEY = "rules";
    static final String INITIAL_COMMAND = "initial";
    /** Accepted commands that wait for READY here; a subtask that cannot load keeps the newest. */
    private static final int MAX_AWAITING_READY = 1_000;
    /** Loads that hang (and keep their threads) the loader pool replaces by extra threads, at most. */
    static final int MAX_STUCK_LOADS = 8;

    /** Where audit records go (the operator's audit side output). */
    public interface AuditSink {
        void emit(ModelAudit audit);
    }

    public static final MapStateDescriptor<String, RuleLog> RULES_DESCRIPTOR =
            new MapStateDescriptor<>(RULES_STATE, StringSerializer.INSTANCE, RuleLogSerializer.INSTANCE);

    private final ScoringConfig config;
    private final ModelRef initialModel;
    private final AuditSink audit;
    private final InferenceRuntime runtime;

    private BroadcastState<String, RuleLog> rulesState;
    private ValueState<KeyAssignment> assignments;
    private RuleLog log;

    private MailboxExecutor mailbox;
    private int subtask;
    private String jobId;
    private BundleLoader loader;
    private StuckTolerantPool loadPool;
    private InferenceRuntime.Scheduler scheduler;
    private final Map<String, Local> locals = new LinkedHashMap<>();
    private final Deque<ModelAudit> awaitingReady = new ArrayDeque<>();
    private final Object handoffLock = new Object();
    /** Load results waiting for the task thread, with the slot each carries (released if never run). */
    private final Deque<Handoff> handoff = new ArrayDeque<>();

    private boolean closed;
    private boolean finishing;
    /**
     * The rule log as of the newest epoch whose reachable versions were all loaded here (the last
     * READY): keys whose current target is still loading are served as it says. Its versions stay
     * loaded, because nothing is released until the current rules are READY too.
     */
    private RuleLog readyLog;
    /** After a restore in which no version of the rules could be loaded (FALLBACK): the configured model. */
    private ModelSlot fallbackSlot;

    private String provider = "none";

    private final long[] gauges = new long[4];
    private volatile String description = "none";
    private Counter accepted;
    private Counter rejected;
    private Counter loadFailures;

    public VersionedRouter(ScoringConfig config, ModelRef initialModel, AuditSink audit, InferenceRuntime runtime) {
        this.config = config;
        this.initialModel = initialModel;
        this.audit = audit;
        this.runtime = runtime;
    }

    /** A version on this subtask: loaded, loading, or waiting to retry. */
    private static final class Local {
        final CatalogEntry entry;
        ModelSlot slot;
        Object loading;
        InferenceRuntime.Cancellable timeout;
        InferenceRuntime.Cancellable retry;
        /** A timed-out attempt still runs: no new attempt of this version starts until it returns. */
        boolean stuck;

        int attempts;

        Local(CatalogEntry entry) {
            this.entry = entry;
        }
    }

    /** A loader result on its way to the task thread; identity equality, so remove() finds this one. */
    private static final class Handoff {
        final Runnable onTaskThread;
        final ModelSlot slot;

        Handoff(Runnable onTaskThread, ModelSlot slot) {
            this.onTaskThread = onTaskThread;
            this.slot = slot;
        }
    }

    private static String localKey(CatalogEntry e) {
        return e.version() + "@" + e.sha256();
    }

    // ------------------------------------------------------------------ lifecycle

    public void initializeState(StateInitializationContext context, KeyedStateBackend<?> keyedBackend)
            throws Exception {
        rulesState = context.getOperatorStateStore().getBroadcastState(RULES_DESCRIPTOR);
        log = rulesState.get(RULES_KEY);
        ValueStateDescriptor<KeyAssignment> descriptor =
                new ValueStateDescriptor<>(ASSIGNMENT_STATE, Types.POJO(KeyAssignment.class));
        if (!config.versions().assignmentTtl().isZero()) {
            descriptor.enableTimeToLive(
                    StateTtlConfig.newBuilder(config.versions().assignmentTtl())
                            .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                            .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                            .build());
        }
        assignments =
                keyedBackend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, descriptor);
    }

    /**
     * Loads what the rules need now (blocking: the task cannot serve before) and starts loading
     * the versions a ROLLBACK would need, in the background.
     */
    public void open(
            MailboxExecutor mailboxExecutor, int subtaskIndex, String taskName, String job, MetricGroup metrics)
            throws Exception {
        this.mailbox = mailboxExecutor;
        this.subtask = subtaskIndex;
        this.jobId = job;
        this.loader = config.bundleLoader();
        this.loadPool = new StuckTolerantPool(
                runtime, "slm-model-loader " + taskName, config.versions().loadThreads(), MAX_STUCK_LOADS);
        this.scheduler = runtime.newScheduler("slm-model-timers " + taskName);
        MetricGroup g = metrics.addGroup(dev.flinkslm.operators.ScoringMetricNames.GROUP);
        accepted = g.counter("commandsAccepted");
        rejected = g.counter("commandsRejected");
        loadFailures = g.counter("loadFailures");
        // Gauges are read by reporter threads: they see values the task thread publishes.
        g.gauge("ruleEpoch", (Gauge<Long>) () -> gauge(0));
        g.gauge("rules", (Gauge<Long>) () -> gauge(1));
        g.gauge("versionsLoaded", (Gauge<Long>) () -> gauge(2));
        g.gauge("versionsLoading", (Gauge<Long>) () -> gauge(3));
        if (log == null) {
            ModelSlot initial = loadWithin(initialModel);
            provider = initial.session().executionProvider().name();
            CatalogEntry entry = new CatalogEntry(
                    initial.version(), initial.ref().uri(), initial.ref().sha256(), false);
            log = RuleLog.bootstrap(INITIAL_COMMAND, entry);
            rulesState.put(RULES_KEY, log);
            Local local = new Local(entry);
            local.slot = initial;
            locals.put(localKey(entry), local);
        } else {
            long rules = log.rulesBytes();
            long limit = config.versions().limits().maxRuleBytes();
            if (rules > limit / 4 * 3 && subtask == 0) {
                LOG.warn(
                        "The restored rule log's rules take {} bytes, more than 3/4 of slm.versions.max-rule-size ({}"
                                + " bytes); DEPLOY and PROMOTE are rejected until ROLLBACK or RETIRE frees room, and remembered"
                                + " command ids keep a quarter of the limit on top",
                        rules,
                        limit);
            }
            restoreReachable();
        }
        checkReady();
        reconcile();
    }

    /** After a restore: load every reachable version now, verifying it again. */
    private void restoreReachable() throws Exception {
        for (VersionKey v : reachableVersions()) {
            CatalogEntry entry = log.entry(v);
            Local local = new Local(entry);
            locals.put(localKey(entry), local);
            try {
                local.attempts++;
                local.slot = loadWithin(entry.ref());
                provider = local.slot.session().executionProvider().name();
                auditLocal(ModelAudit.LOADED, entry, null, "loaded on restore", local.attempts);
            } catch (Exception e) {
                if (config.versions().missingArtifact() == MissingArtifactPolicy.FAIL) {
                    throw new IllegalStateException(
                            "model version " + v + " in the restored rule log cannot be loaded"
                                    + " from " + dev.flinkslm.models.ModelRoots.redact(entry.uri()) + ": "
                                    + e.getMessage() + ". Restore the artifact, or set "
                                    + "slm.versions.missing-artifact=FALLBACK to serve its keys with another loaded version.",
                            e);
                }
                LOG.warn(
                        "Model version {} from the restored rule log cannot be loaded ({}); its keys fall back",
                        v,
                        e.getMessage());
                loadFailures.inc();
                auditLocal(ModelAudit.LOAD_FAILED, entry, ModelAudit.LOAD_FAILED, e.getMessage(), local.attempts);
                scheduleRetry(local);
            }
        }
        if (locals.values().stream().noneMatch(l -> l.slot != null)) {
            ModelSlot fallback = loadWithin(initialModel);
            CatalogEntry entry = new CatalogEntry(
                    fallback.version(), fallback.ref().uri(), fallback.ref().sha256(), false);
            Local local = locals.computeIfAbsent(localKey(entry), k -> new Local(entry));
            if (local.slot == null) {
                local.slot = fallback;
            } else {
                fallback.release();
            }
            fallbackSlot = local.slot;
            provider = local.slot.session().executionProvider().name();
            LOG.warn(
                    "No version of the restored rule log could be loaded; serving with the configured model {}",
                    fallback.name());
        }
    }

    /** Bounded drain: no more retries are scheduled; pending loads still report. */
    public void finishing() {
        finishing = true;
        for (Local l : locals.values()) {
            if (l.retry != null) {
                l.retry.cancel();
                l.retry = null;
            }
        }
    }

    public boolean hasPendingLoads() {
        return locals.values().stream().anyMatch(l -> l.loading != null);
    }

    /** Releases every lease, including those of loads that finish later. */
    public void close() {
        synchronized (handoffLock) {
            closed = true;
            for (Handoff h : handoff) {
                if (h.slot != null) {
                    h.slot.release(); // a load that finished before close, whose mail never ran
                }
            }
            handoff.clear();
        }
        if (loadPool != null) {
            loadPool.shutdownNow();
        }
        if (scheduler != null) {
            scheduler.shutdown();
        }
        for (Local l : locals.values()) {
            if (l.slot != null) {
                l.slot.release();
            }
        }
        if (fallbackSlot != null) {
            fallbackSlot.release();
        }
        locals.clear();
    }

    // ------------------------------------------------------------------ commands

    /** Applies one admitted command to the rule log (identically on every subtask). */
    public void onCommand(AdmittedCommand in, long now) throws Exception {
        Decision d = log.apply(in, config.versions().limits());
        rulesState.put(RULES_KEY, log);
        ModelAudit record = commandRecord(in, d, now);
        if (d.accepted()) {
            accepted.inc();
            LOG.info("Model command {} {} accepted; rule log epoch {}", record.commandId, record.action, d.epoch());
            awaitingReady.add(record);
            while (awaitingReady.size() > MAX_AWAITING_READY) {
                awaitingReady.poll(); // superseded: READY for a later command implies it
            }
        } else {
            rejected.inc();
            LOG.info(
                    "Model command {} {} rejected: {} {}", record.commandId, record.action, d.reasonCode(), d.reason());
        }
        if (subtask == 0) {
            audit.emit(record);
        }
        if (d.accepted()) {
            // checkReady first: it moves the converged default to the new rules' base version, so that
            // reconcile() can release the previous one now (not only at the next event or load)
            checkReady();
            reconcile();
        }
    }

    private ModelAudit commandRecord(AdmittedCommand in, Decision d, long now) {
        ModelCommand c = in.command;
        ModelAudit a = new ModelAudit();
        a.outcome = d.accepted() ? ModelAudit.ACCEPTED : ModelAudit.REJECTED;
        a.reasonCode = d.reasonCode();
        a.reason = d.reason();
        a.epoch = d.epoch();
        a.timestamp = now;
        if (c != null) {
            a.commandId = c.commandId;
            a.action = c.action;
            a.source = c.source;
            a.replay = c.replay;
            a.issuedBy = c.issuedBy;
            a.role = c.role;
            a.modelId = in.modelId != null ? in.modelId : c.modelId;
            a.version = in.modelId != null ? in.version : c.version;
            a.uri = dev.flinkslm.models.ModelRoots.redact(in.uri != null ? in.uri : c.uri);
            a.sha256 = in.sha256;
            if (d.accepted() && c.actionValue() == ModelCommand.Action.DEPLOY) {
                a.scope = (c.keys != null
                                ? Scope.keys(c.keys)
                                : c.percent != null ? Scope.percent(c.percent, c.commandId) : Scope.all())
                        .describe();
            }
        }
        return a;
    }

    // ------------------------------------------------------------------ loading

    private Set<VersionKey> reachableVersions() {
        Set<VersionKey> out = new java.util.LinkedHashSet<>();
        for (Deployment d : log.reachable()) {
            out.add(d.version());
        }
        return out;
    }

    /** Starts loads of needed versions and releases what nothing needs any more. */
    private void reconcile() {
        try {
            reconcileLoads();
        } finally {
            publish();
        }
    }

    private void reconcileLoads() {
        Set<String> neededKeys = new HashSet<>();
        for (VersionKey v : log.needed()) {
            CatalogEntry entry = log.entry(v);
            String key = localKey(entry);
            neededKeys.add(key);
            Local local = locals.computeIfAbsent(key, k -> new Local(entry));
            if (local.slot == null && local.loading == null && local.retry == null && !local.stuck) {
                startLoad(local);
            }
        }
        if (!converged()) {
            return;
        }
        checkReady(); // releases below rely on the fallback rules being the current ones
        if (fallbackSlot != null && !neededKeys.contains(localKey(fallbackEntry()))) {
            fallbackSlot = null; // from here on released like any unneeded version
        }
        for (Iterator<Map.Entry<String, Local>> it = locals.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Local> e = it.next();
            Local l = e.getValue();
            if (neededKeys.contains(e.getKey()) || l.loading != null || l.stuck) {
                continue; // a stuck attempt keeps its entry, so no second attempt starts while it runs
            }
            if (l.retry != null) {
                l.retry.cancel();
                l.retry = null;
            }
            if (l.slot == null) {
                it.remove();
            } else if (l.slot.pendingParts() == 0) {
                l.slot.release();
                auditLocal(ModelAudit.RELEASED, l.entry, null, null, 0);
                it.remove();
            }
        }
    }

    /** Whether every version that can route a key now is loaded here. */
    private boolean converged() {
        for (VersionKey v : reachableVersions()) {
            Local l = locals.get(localKey(log.entry(v)));
            if (l == null || l.slot == null) {
                return false;
            }
        }
        return true;
    }

    /**
     * When every version reachable under the current rules is loaded here: these rules become the
     * fallback of keys whose target will load later, and the commands waiting for it are READY.
     */
    private void checkReady() {
        if (!converged()) {
            return;
        }
        if (readyLog == null || readyLog.epoch() != log.epoch() || !readyLog.equals(log)) {
            readyLog = log.copy();
        }
        while (!awaitingReady.isEmpty()) {
            ModelAudit command = awaitingReady.poll();
            ModelAudit ready = new ModelAudit();
            ready.outcome = ModelAudit.READY;
            ready.commandId = command.commandId;
            ready.action = command.action;
            ready.modelId = command.modelId;
            ready.version = command.version;
            ready.role = command.role;
            ready.source = command.source;
            ready.subtask = subtask;
            ready.epoch = command.epoch;
            ready.timestamp = System.currentTimeMillis();
            audit.emit(ready);
        }
    }

    private void startLoad(Local local) {
        Object attempt = new Object();
        local.loading = attempt;
        local.attempts++;
        int number = local.attempts;
        long[] started = new long[1];
        StuckTolerantPool.Task task = loadPool.task(() -> {
            started[0] = runtime.nanoTime();
            ModelSlot slot = null;
            Exception error = null;
            try {
                slot = VersionLoading.loadAndAdmit(
                        loader,
                        local.entry.ref(),
                        config.runtime(),
                        jobId,
                        true,
                        config.versions().loadTimeout());
            } catch (Exception e) {
                error = e;
            }
            long millis = (runtime.nanoTime() - started[0]) / 1_000_000;
            ModelSlot loaded = slot;
            Exception failure = error;
            handBack(() -> onLoaded(local, attempt, number, loaded, failure, millis), loaded);
        });
        // The timeout counts from now, waiting for a thread included: a load queued behind stuck ones
        // is reported and retried instead of waiting forever.
        InferenceRuntime.Cancellable timeout = scheduler.schedule(
                () -> {
                    StuckTolerantPool.Timeout outcome = task.timeOut();
                    if (outcome != StuckTolerantPool.Timeout.FINISHED) {
                        handBack(
                                () -> onLoadTimeout(local, attempt, number, outcome == StuckTolerantPool.Timeout.STUCK),
                                null);
                    }
                },
                config.versions().loadTimeout().toNanos());
        local.timeout = timeout;
        try {
            loadPool.execute(task);
        } catch (RejectedExecutionException closing) {
            timeout.cancel();
            local.loading = null;
        }
    }

    private ModelSlot loadWithin(ModelRef ref) throws Exception {
        return VersionLoading.loadWithin(
                loadPool,
                loader,
                ref,
                config.runtime(),
                jobId,
                config.versions().loadTimeout());
    }

    /**
     * Hands a loader result to the task thread. A result that arrives after close, or whose mail is
     * refused, releases its slot here, so no lease outlives the operator.
     */
    private void handBack(Runnable onTaskThread, ModelSlot slot) {
        Handoff entry = new Handoff(onTaskThread, slot);
        synchronized (handoffLock) {
            if (closed) {
                if (slot != null) {
                    slot.release();
                }
                return;
            }
            handoff.add(entry);
        }
        try {
            mailbox.execute(this::runHandoffs, "slm model load result");
        } catch (RejectedExecutionException closing) {
            synchronized (handoffLock) {
                if (handoff.remove(entry) && slot != null) {
                    slot.release();
                }
            }
        }
    }

    private void runHandoffs() {
        while (true) {
            Handoff next;
            synchronized (handoffLock) {
                if (closed) {
                    return;
                }
                next = handoff.poll();
            }
            if (next == null) {
                return;
            }
            next.onTaskThread.run();
        }
    }

    private void onLoaded(Local local, Object attempt, int number, ModelSlot slot, Exception error, long millis) {
        if (local.loading != attempt) {
            if (slot != null) {
                slot.release(); // given up on (timed out) meanwhile
            }
            if (local.stuck) {
                local.stuck = false; // the stuck attempt returned: the version may be tried again
                if (local.retry == null && !finishing && !closed) {
                    reconcile();
                }
            }
            return;
        }
        local.loading = null;
        if (local.timeout != null) {
            local.timeout.cancel();
            local.timeout = null;
        }
        if (error != null) {
            loadFailures.inc();
            LOG.warn(
                    "Loading model version {} failed on subtask {} (attempt {}): {}",
                    local.entry.version(),
                    subtask,
                    number,
                    error.getMessage());
            auditLocal(ModelAudit.LOAD_FAILED, local.entry, ModelAudit.LOAD_FAILED, error.getMessage(), number);
            scheduleRetry(local);
            publish();
            return;
        }
        local.slot = slot;
        provider = slot.session().executionProvider().name();
        auditLocal(ModelAudit.LOADED, local.entry, null, "loaded in " + millis + " ms on " + provider, number);
        checkReady();
        reconcile();
    }

    private void onLoadTimeout(Local local, Object attempt, int number, boolean stillRunning) {
        if (local.loading != attempt) {
            return;
        }
        local.loading = null;
        local.timeout = null;
        local.stuck = stillRunning;
        loadFailures.inc();
        String reason = (stillRunning ? "loading did not finish within " : "no loader thread was free within ")
                + config.versions().loadTimeout().toMillis() + " ms (slm.versions.load-timeout)"
                + (stillRunning ? "; the artifact may be on a stalled file system" : "");
        LOG.warn(
                "Loading model version {} on subtask {} timed out (attempt {}): {}",
                local.entry.version(),
                subtask,
                number,
                reason);
        auditLocal(ModelAudit.LOAD_FAILED, local.entry, ModelAudit.LOAD_TIMEOUT, reason, number);
        scheduleRetry(local);
        publish();
    }

    private void scheduleRetry(Local local) {
        if (finishing || closed) {
            return;
        }
        long max = config.versions().loadRetryMaxBackoff().toNanos();
        long delay = config.versions().loadRetryBackoff().toNanos();
        for (int i = 1; i < local.attempts && delay < max; i++) {
            delay *= 2;
        }
        delay = Math.min(delay, max);
        local.retry = scheduler.schedule(
                () -> handBack(
                        () -> {
                            local.retry = null;
                            if (log.needed().contains(local.entry.version())
                                    && locals.get(localKey(local.entry)) == local
                                    && !local.stuck) {
                                startLoad(local);
                            }
                        },
                        null),
                delay);
    }

    private void auditLocal(String outcome, CatalogEntry entry, String code, String reason, int attempt) {
        ModelAudit a = new ModelAudit();
        a.outcome = outcome;
        a.reasonCode = code;
        a.reason = reason;
        a.modelId = entry.version().id();
        a.version = entry.version().version();
        a.uri = dev.flinkslm.models.ModelRoots.redact(entry.uri());
        a.sha256 = entry.sha256();
        a.subtask = subtask;
        a.epoch = log.epoch();
        a.attempt = attempt;
        a.timestamp = System.currentTimeMillis();
        audit.emit(a);
    }

    private long gauge(int index) {
        synchronized (gauges) {
            return gauges[index];
        }
    }

    /** Publishes what the gauges show; task thread, after every change. */
    private void publish() {
        long loaded = 0;
        long loading = 0;
        for (Local l : locals.values()) {
            loaded += l.slot != null ? 1 : 0;
            loading += l.loading != null ? 1 : 0;
        }
        synchronized (gauges) {
            gauges[0] = log.epoch();
            gauges[1] = log.deployments().size();
            gauges[2] = loaded;
            gauges[3] = loading;
        }
        Deployment all = null;
        for (Deployment d : log.deployments()) {
            if (d.serving() && d.scope().isAll()) {
                all = d;
            }
        }
        description = all == null ? "none" : all.version().toString();
    }

    // ------------------------------------------------------------------ routing

    private CatalogEntry fallbackEntry() {
        return new CatalogEntry(
                fallbackSlot.version(),
                fallbackSlot.ref().uri(),
                fallbackSlot.ref().sha256(),
                false);
    }

    /** The loaded slot of {@code v} as the rule log {@code rules} pins it (id, version and content). */
    private ModelSlot loaded(RuleLog rules, VersionKey v) {
        if (v == null) {
            return null;
        }
        CatalogEntry entry = rules.entry(v);
        Local l = entry == null ? null : locals.get(localKey(entry));
        return l == null ? null : l.slot;
    }

    /**
     * The key's target under the current rules when that version is loaded here; otherwise what the
     * rules of the last READY on this subtask say (the key keeps its previous version while the new
     * one loads); otherwise the newest matching deployment that is loaded; otherwise the restore
     * fallback. Task thread, key context set.
     */
    @Override
    public Route route(Object key) throws Exception {
        String k = String.valueOf(key);
        KeyAssignment a = assignments.value();
        if (a == null || a.epoch != log.epoch() || a.targetId == null) {
            Target t = log.resolve(k);
            a = new KeyAssignment();
            a.epoch = log.epoch();
            a.targetId = t.servingVersion().id();
            a.targetVersion = t.servingVersion().version();
            a.targetVariant = t.variant();
            a.targetRule = t.serving().commandId();
            if (t.shadowVersion() != null) {
                a.shadowId = t.shadowVersion().id();
                a.shadowVersion = t.shadowVersion().version();
            }
            assignments.update(a);
        }
        ModelSlot slot = loaded(log, new VersionKey(a.targetId, a.targetVersion));
        String variant = a.targetVariant;
        if (slot == null && readyLog != null) {
            Target previous = readyLog.resolve(k);
            slot = loaded(readyLog, previous.servingVersion());
            variant = previous.variant();
        }
        if (slot == null) {
            Target loadedOnly = log.resolve(k, v -> loaded(log, v) != null);
            if (loadedOnly.serving() != null) {
                slot = loaded(log, loadedOnly.servingVersion());
                variant = loadedOnly.variant();
            }
        }
        if (slot == null && fallbackSlot != null && !fallbackSlot.isReleased()) {
            slot = fallbackSlot;
            variant = "active";
        }
        if (slot == null) {
            return null;
        }
        ModelSlot shadow = a.shadowId == null ? null : loaded(log, new VersionKey(a.shadowId, a.shadowVersion));
        return new Route(slot, variant, shadow, log.epoch());
    }

    @Override
    public void partsFinished(ModelSlot slot) {
        if (!closed) {
            reconcile();
        }
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public String provider() {
        return provider;
    }

    /** The rule log (tests compare it across subtasks). */
    public RuleLog ruleLog() {
        return log;
    }

    /** Versions loaded on this subtask. */
    public List<String> loadedVersions() {
        List<String> out = new ArrayList<>();
        for (Local l : locals.values()) {
            if (l.slot != null) {
                out.add(l.slot.name());
            }
        }
        return out;
    }
}
