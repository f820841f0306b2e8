package dev.flinkslm.operators.internal.versions;

import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ModelCommand.Action;
import dev.flinkslm.operators.versions.ModelCommand.Role;
import org.apache.flink.annotation.Internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The replicated state machine of live model versions: the ordered log of deployments, the catalog
 * of known versions and the accepted command ids. It is what broadcast state holds, and it is a pure
 * function of the commands applied to it (and their admission records): every subtask that applies
 * the same commands holds an equal log, so rescaling and restore cannot change routing. Nothing that
 * depends on one machine (what is loaded there) is part of it.
 *
 * <p>Every question about routing is answered by one fold, {@link #resolve}: walk the deployments
 * from newest to oldest; the first ACTIVE or CANARY deployment whose scope contains the key serves
 * it, the first SHADOW deployment whose scope contains it shadows it. The oldest deployment is always
 * ACTIVE or CANARY for all keys, so every key is served. Which versions a command may retire, which
 * must stay loaded and what a ROLLBACK returns to are all defined on the same log. The semantics,
 * with examples, are in {@code docs/model-versions.md}.
 *
 * <p>Not thread-safe: the operator uses it on the task thread only.
 */
@Internal
public final class RuleLog {

    private long epoch;
    private final ArrayList<Deployment> deployments;
    private final LinkedHashMap<VersionKey, CatalogEntry> catalog;
    /** Accepted command ids, oldest first, with the time the admission stage received them. */
    private final LinkedHashMap<String, Long> seen;

    RuleLog(long epoch, List<Deployment> deployments, Map<VersionKey, CatalogEntry> catalog, Map<String, Long> seen) {
        this.epoch = epoch;
        this.deployments = new ArrayList<>(deployments);
        this.catalog = new LinkedHashMap<>(catalog);
        this.seen = new LinkedHashMap<>(seen);
    }

    /** A log whose only deployment serves every key with {@code initial}. */
    public static RuleLog bootstrap(String commandId, CatalogEntry initial) {
        Deployment d = new Deployment(commandId, initial.version(), Role.ACTIVE, Scope.all());
        Map<VersionKey, CatalogEntry> catalog = new LinkedHashMap<>();
        catalog.put(initial.version(), initial);
        return new RuleLog(0, List.of(d), catalog, Map.of());
    }

    public RuleLog copy() {
        return new RuleLog(epoch, deployments, catalog, seen);
    }

    /** Number of accepted commands; every accepted command advances it by one. */
    public long epoch() {
        return epoch;
    }

    /** Deployments, oldest first. */
    public List<Deployment> deployments() {
        return List.copyOf(deployments);
    }

    public Map<VersionKey, CatalogEntry> catalog() {
        return java.util.Collections.unmodifiableMap(catalog);
    }

    public Map<String, Long> acceptedCommandIds() {
        return java.util.Collections.unmodifiableMap(seen);
    }

    public CatalogEntry entry(VersionKey version) {
        return catalog.get(version);
    }

    // ------------------------------------------------------------------ the fold

    /** Which deployment serves {@code key} and which shadows it, by the rules alone. */
    public Target resolve(String key) {
        return resolve(key, v -> true);
    }

    /**
     * The fold restricted to usable versions: deployments whose version is not usable are skipped,
     * so a key falls through to the deployment it had before (used while a version loads locally).
     */
    public Target resolve(String key, Predicate<VersionKey> usable) {
        return resolve(deployments, key, Scope.hash(key), usable);
    }

    private static Target resolve(List<Deployment> log, String key, long keyHash, Predicate<VersionKey> usable) {
        Deployment serving = null;
        Deployment shadow = null;
        for (int i = log.size() - 1; i >= 0 && (serving == null || shadow == null); i--) {
            Deployment d = log.get(i);
            if (d.serving() ? serving != null : shadow != null) {
                continue;
            }
            if (d.scope().contains(key, keyHash) && usable.test(d.version())) {
                if (d.serving()) {
                    serving = d;
                } else {
                    shadow = d;
                }
            }
        }
        return new Target(serving, shadow);
    }

    /**
     * Deployments that can route some key now: serving deployments no newer serving deployment for
     * all keys hides, and shadow deployments no newer all-keys shadow hides.
     */
    public List<Deployment> reachable() {
        return reachable(deployments);
    }

    private static List<Deployment> reachable(List<Deployment> log) {
        int servingAll = lastIndex(log, d -> d.serving() && d.scope().isAll());
        int shadowAll = lastIndex(log, d -> !d.serving() && d.scope().isAll());
        List<Deployment> out = new ArrayList<>();
        for (int i = 0; i < log.size(); i++) {
            Deployment d = log.get(i);
            if (i >= (d.serving() ? servingAll : shadowAll)) {
                out.add(d);
            }
        }
        return out;
    }

    /**
     * Versions a subtask keeps loaded: those reachable now and those a plain ROLLBACK would make
     * reachable, so that a rollback never waits for a load.
     */
    public Set<VersionKey> needed() {
        Set<VersionKey> out = new LinkedHashSet<>();
        for (Deployment d : reachable(deployments)) {
            out.add(d.version());
        }
        List<Deployment> rolledBack = new ArrayList<>(deployments);
        int last = lastIndex(rolledBack, Deployment::serving);
        if (last >= 0 && rollbackLeavesAServingAll(rolledBack, last)) {
            rolledBack.remove(last);
            for (Deployment d : reachable(rolledBack)) {
                out.add(d.version());
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ commands

    /**
     * Applies one command. Returns whether it was accepted; a rejected command leaves the log as it
     * was, apart from forgetting command ids that have aged out.
     */
    public Decision apply(AdmittedCommand in, ControlLimits limits) {
        ModelCommand c = in.command;
        forgetOldIds(in.receivedAt, limits);
        if (c == null) {
            return Decision.rejected(ModelAudit.INVALID_COMMAND, "the command is empty", epoch);
        }
        List<String> problems = c.problems(limits.maxKeysPerCommand());
        if (!problems.isEmpty()) {
            return Decision.rejected(ModelAudit.INVALID_COMMAND, String.join("; ", problems), epoch);
        }
        if (seen.containsKey(c.commandId)) {
            return Decision.rejected(
                    ModelAudit.DUPLICATE_COMMAND,
                    "command id " + c.commandId + " was accepted before; a command id applies once",
                    epoch);
        }
        if (in.rejectionCode != null) {
            return Decision.rejected(in.rejectionCode, in.rejection, epoch);
        }
        Decision d = switch (c.actionValue()) {
            case DEPLOY -> deploy(in, c, limits);
            case PROMOTE -> promote(c, limits);
            case ROLLBACK -> rollback(c);
            case RETIRE -> retire(c);
        };
        if (!d.accepted()) {
            return d;
        }
        compact(limits);
        seen.put(c.commandId, in.receivedAt);
        // Remembered ids are bounded by count and by what the rules leave of the byte limit, and always
        // keep at least a quarter of it (far more than one id), also when restored rules take more than
        // their share: the oldest are forgotten first.
        long budget = Math.max(limits.maxRuleBytes() - rulesBytes(), limits.maxRuleBytes() / 4);
        long ids = idsBytes();
        while (seen.size() > limits.commandIdRetention() || ids > budget && seen.size() > 1) {
            Iterator<String> eldest = seen.keySet().iterator();
            ids -= idBytes(eldest.next());
            eldest.remove();
        }
        epoch++;
        return Decision.accepted(epoch);
    }

    private Decision deploy(AdmittedCommand in, ModelCommand c, ControlLimits limits) {
        if (in.modelId == null || in.version == null || in.sha256 == null) {
            return reject(ModelAudit.ADMISSION_FAILED, "the DEPLOY did not pass the admission stage");
        }
        VersionKey v = new VersionKey(in.modelId, in.version);
        if (c.modelId != null && !v.equals(new VersionKey(c.modelId, c.version))) {
            return reject(
                    ModelAudit.VERSION_MISMATCH,
                    "the bundle at " + dev.flinkslm.models.ModelRoots.redact(c.uri) + " is " + v
                            + " but the command names " + c.modelId + ":" + c.version);
        }
        CatalogEntry known = catalog.get(v);
        if (known != null && !known.retired() && !known.sha256().equalsIgnoreCase(in.sha256)) {
            return reject(
                    ModelAudit.CONFLICTING_CONTENT,
                    v + " is already deployed from " + known.uri()
                            + " with other content (manifest SHA-256 " + known.sha256() + "); give the new bundle a new"
                            + " version, or RETIRE " + v + " first");
        }
        Scope scope = c.keys != null
                ? Scope.keys(c.keys)
                : c.percent != null ? Scope.percent(c.percent, c.commandId) : Scope.all();
        if (deployments.size() >= limits.maxRules()) {
            return reject(
                    ModelAudit.RULE_LIMIT,
                    "the rule log holds " + deployments.size() + " deployments, the limit"
                            + " (slm.versions.max-rules); ROLLBACK or RETIRE superseded deployments, or PROMOTE one version");
        }
        long keys = scope.keys().size();
        for (Deployment d : deployments) {
            keys += d.scope().keys().size();
        }
        if (keys > limits.maxRuleKeys()) {
            return reject(
                    ModelAudit.RULE_LIMIT,
                    "the rule log would list " + keys + " keys, more than the limit of " + limits.maxRuleKeys()
                            + " (slm.versions.max-rule-keys); use percent instead of long key lists");
        }
        long bytes = rulesBytes()
                + bytes(new Deployment(c.commandId, v, c.roleValue(), scope))
                + bytes(new CatalogEntry(v, in.uri, in.sha256, false));
        if (bytes > rulesLimit(limits)) {
            return reject(
                    ModelAudit.RULE_LIMIT,
                    "the rules would take about " + bytes + " bytes of broadcast state,"
                            + " more than " + rulesLimit(limits) + " (3/4 of slm.versions.max-rule-size, "
                            + limits.maxRuleBytes()
                            + "; the rest holds remembered command ids); every subtask holds and"
                            + " checkpoints them: use shorter key lists or percent");
        }
        deployments.add(new Deployment(c.commandId, v, c.roleValue(), scope));
        catalog.remove(v);
        catalog.put(v, new CatalogEntry(v, in.uri, in.sha256.toLowerCase(java.util.Locale.ROOT), false));
        return Decision.accepted(epoch);
    }

    private Decision promote(ModelCommand c, ControlLimits limits) {
        VersionKey v = new VersionKey(c.modelId, c.version);
        CatalogEntry e = catalog.get(v);
        if (e == null) {
            return reject(ModelAudit.UNKNOWN_VERSION, v + " is not known; DEPLOY it first");
        }
        if (e.retired()) {
            return reject(ModelAudit.VERSION_RETIRED, v + " was retired; DEPLOY it again first");
        }
        List<Deployment> next = new ArrayList<>(deployments);
        next.removeIf(d -> d.role() == Role.CANARY && d.version().equals(v));
        Deployment promoted = new Deployment(c.commandId, v, Role.ACTIVE, Scope.all());
        next.add(promoted);
        if (next.size() > limits.maxRules()) {
            return reject(
                    ModelAudit.RULE_LIMIT,
                    "the rule log holds " + deployments.size() + " deployments, the limit"
                            + " (slm.versions.max-rules); ROLLBACK or RETIRE superseded deployments");
        }
        long bytes = rulesBytes() + bytes(promoted);
        if (bytes > rulesLimit(limits)) {
            return reject(
                    ModelAudit.RULE_LIMIT,
                    "the rules would take about " + bytes + " bytes of broadcast state,"
                            + " more than " + rulesLimit(limits) + " (3/4 of slm.versions.max-rule-size, "
                            + limits.maxRuleBytes() + "); ROLLBACK or RETIRE deployments with long key lists first");
        }
        replace(next);
        catalog.remove(v);
        catalog.put(v, e);
        return Decision.accepted(epoch);
    }

    private Decision rollback(ModelCommand c) {
        if (c.role != null && c.roleValue() == Role.SHADOW) {
            int last = lastIndex(deployments, d -> !d.serving());
            if (last < 0) {
                return reject(ModelAudit.NOTHING_TO_ROLL_BACK, "no shadow version is deployed");
            }
            deployments.remove(last);
            return Decision.accepted(epoch);
        }
        if (c.modelId != null) {
            VersionKey v = new VersionKey(c.modelId, c.version);
            int base = lastIndex(
                    deployments,
                    d -> d.serving() && d.scope().isAll() && d.version().equals(v));
            if (base < 0) {
                return reject(
                        ModelAudit.NOTHING_TO_ROLL_BACK,
                        v + " did not serve all keys within the kept history"
                                + " (slm.versions.history), or was retired; PROMOTE it instead");
            }
            List<Deployment> next = new ArrayList<>(deployments.subList(0, base + 1));
            for (Deployment d : deployments.subList(base + 1, deployments.size())) {
                if (!d.serving()) {
                    next.add(d);
                }
            }
            if (next.size() == deployments.size()) {
                return reject(
                        ModelAudit.NOTHING_TO_ROLL_BACK,
                        v + " already serves all keys and nothing was" + " deployed over it");
            }
            replace(next);
            return Decision.accepted(epoch);
        }
        int last = lastIndex(deployments, Deployment::serving);
        if (!rollbackLeavesAServingAll(deployments, last)) {
            return reject(
                    ModelAudit.NOTHING_TO_ROLL_BACK,
                    deployments.get(last).version()
                            + " is the only version left that serves all keys (older ones were retired or are beyond the"
                            + " kept history); DEPLOY or PROMOTE another version instead");
        }
        deployments.remove(last);
        return Decision.accepted(epoch);
    }

    private Decision retire(ModelCommand c) {
        VersionKey v = new VersionKey(c.modelId, c.version);
        CatalogEntry e = catalog.get(v);
        if (e == null) {
            return reject(ModelAudit.UNKNOWN_VERSION, v + " is not known");
        }
        if (e.retired()) {
            return reject(ModelAudit.VERSION_RETIRED, v + " is already retired");
        }
        List<String> routes = new ArrayList<>();
        for (Deployment d : reachable(deployments)) {
            if (d.version().equals(v)) {
                routes.add(d.role() + " for " + d.scope().describe() + " (command " + d.commandId() + ")");
            }
        }
        if (!routes.isEmpty()) {
            return reject(
                    ModelAudit.STILL_ROUTED,
                    v + " still routes keys: " + String.join(", ", routes)
                            + "; end those first (ROLLBACK, ROLLBACK with role SHADOW, or DEPLOY/PROMOTE another version)");
        }
        deployments.removeIf(d -> d.version().equals(v));
        catalog.remove(v);
        catalog.put(v, e.retire());
        return Decision.accepted(epoch);
    }

    private Decision reject(String code, String reason) {
        return Decision.rejected(code, reason, epoch);
    }

    /** About the bytes {@link RuleLogSerializer} writes: the rules and the remembered command ids. */
    public long estimatedBytes() {
        return rulesBytes() + idsBytes();
    }

    private long idsBytes() {
        long bytes = 0;
        for (String id : seen.keySet()) {
            bytes += idBytes(id);
        }
        return bytes;
    }

    /** The rules may take this much of the byte limit; remembered command ids the rest. */
    private static long rulesLimit(ControlLimits limits) {
        return limits.maxRuleBytes() / 4 * 3;
    }

    /** The deployments and the catalog (and the fixed fields), without the remembered command ids. */
    public long rulesBytes() {
        long bytes = 24;
        for (Deployment d : deployments) {
            bytes += bytes(d);
        }
        for (CatalogEntry e : catalog.values()) {
            bytes += bytes(e);
        }
        return bytes;
    }

    private static long bytes(Deployment d) {
        long bytes = 16
                + bytes(d.commandId())
                + bytes(d.role().name())
                + bytes(d.scope().kind().name())
                + bytes(d.version().id())
                + bytes(d.version().version());
        for (String key : d.scope().keys()) {
            bytes += bytes(key);
        }
        return bytes;
    }

    private static long bytes(CatalogEntry e) {
        return 8 + bytes(e.version().id()) + bytes(e.version().version()) + bytes(e.uri()) + bytes(e.sha256());
    }

    private static long idBytes(String commandId) {
        return 8 + bytes(commandId);
    }

    /** What {@code StringValue.writeString} writes: a length of up to 5 bytes, then 1-3 bytes a character. */
    static long bytes(String text) {
        if (text == null) {
            return 1;
        }
        long bytes = 5;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            bytes += c < 0x80 ? 1 : c < 0x4000 ? 2 : 3;
        }
        return bytes;
    }

    /** Whether removing the deployment at {@code index} keeps at least one serving deployment for all keys. */
    private static boolean rollbackLeavesAServingAll(List<Deployment> log, int index) {
        for (int i = 0; i < log.size(); i++) {
            Deployment d = log.get(i);
            if (i != index && d.serving() && d.scope().isAll()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Drops what no key can reach and no kept ROLLBACK can return to: serving deployments older
     * than the {@code history}-th newest serving-all deployment (the same for shadows), and catalog
     * entries of unreferenced versions beyond {@code catalogSize}.
     */
    private void compact(ControlLimits limits) {
        compactFamily(true, limits.history());
        compactFamily(false, limits.history());
        Set<VersionKey> referenced = new LinkedHashSet<>();
        for (Deployment d : deployments) {
            referenced.add(d.version());
        }
        int unreferenced = 0;
        for (VersionKey v : catalog.keySet()) {
            if (!referenced.contains(v)) {
                unreferenced++;
            }
        }
        Iterator<Map.Entry<VersionKey, CatalogEntry>> it = catalog.entrySet().iterator();
        while (unreferenced > limits.catalogSize() && it.hasNext()) {
            if (!referenced.contains(it.next().getKey())) {
                it.remove();
                unreferenced--;
            }
        }
    }

    private void compactFamily(boolean serving, int history) {
        List<Integer> alls = new ArrayList<>();
        for (int i = 0; i < deployments.size(); i++) {
            Deployment d = deployments.get(i);
            if (d.serving() == serving && d.scope().isAll()) {
                alls.add(i);
            }
        }
        if (alls.size() < history) {
            return;
        }
        int cut = alls.get(alls.size() - history);
        List<Deployment> next = new ArrayList<>();
        for (int i = 0; i < deployments.size(); i++) {
            Deployment d = deployments.get(i);
            if (i >= cut || d.serving() != serving) {
                next.add(d);
            }
        }
        replace(next);
    }

    private void forgetOldIds(long now, ControlLimits limits) {
        long oldest = now - limits.commandIdMaxAge().toMillis();
        seen.values().removeIf(at -> at < oldest);
    }

    private void replace(List<Deployment> next) {
        deployments.clear();
        deployments.addAll(next);
    }

    private static int lastIndex(List<Deployment> log, Predicate<Deployment> p) {
        for (int i = log.size() - 1; i >= 0; i--) {
            if (p.test(log.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /** The action of a command, for callers that have only the admitted record. */
    static Action action(AdmittedCommand in) {
        return in.command == null ? null : in.command.actionValue();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RuleLog r
                && epoch == r.epoch
                && deployments.equals(r.deployments)
                && catalog.equals(r.catalog)
                && seen.equals(r.seen)
                && List.copyOf(catalog.keySet()).equals(List.copyOf(r.catalog.keySet()))
                && List.copyOf(seen.keySet()).equals(List.copyOf(r.seen.keySet()));
    }

    @Override
    public int hashCode() {
        return Objects.hash(epoch, deployments, catalog, seen);
    }

    @Override
    public String toString() {
        return "RuleLog{epoch=" + epoch + ", deployments=" + deployments + "}";
    }
}
