package dev.flinkslm.operators;

import dev.flinkslm.operators.internal.versions.Scope;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * An independent implementation of {@code docs/model-versions.md}, written from the page and not
 * from {@code RuleLog}: the oracle of {@link RoutingModelTest}. It keeps the rule log as a plain list
 * of rules, oldest first, answers served/shadow/reachable/needed with the page's one fold (newest to
 * oldest), and decides every command by the page's table, with the default limits (history 8,
 * 100 rules, 100,000 listed keys, 10,000 remembered ids).
 *
 * <p>The one thing borrowed from the implementation is the hash of a percent share: the page only
 * says "a stable 64-bit hash of the key, salted with the deployment's command id", so which keys a
 * share picks is taken from {@link Scope#bucket}, {@link Scope#hash} and {@link Scope#salt} (static
 * functions, no rule-log code). Whether a share of 100 % is "all keys", how many buckets a percent
 * is, and everything else is decided here.
 *
 * <p>Where the page leaves a detail open, the choice made here is written next to it (and listed
 * in the report of the issue): rejection codes of a named ROLLBACK and of {@code ROLLBACK role=SHADOW}
 * are {@code NOTHING_TO_ROLL_BACK}; a version is "already deployed" while it is known and not retired
 * (so a version whose rules were all rolled back still pins its content); an id accepted before makes
 * a well-formed command a {@code DUPLICATE_COMMAND} before anything else is checked. Not thread-safe.
 */
final class ReferenceRouting {

    /** Defaults of the page's limits table. */
    static final int HISTORY = 8;

    static final int MAX_RULES = 100;
    static final int MAX_RULE_KEYS = 100_000;
    static final int ID_RETENTION = 10_000;

    enum Role {
        ACTIVE,
        CANARY,
        SHADOW
    }

    /** Who a rule targets: all keys, a list of keys, or a share of 10,000 buckets salted per rule. */
    record Targets(Set<String> keys, int buckets, long salt) {
        static final Targets ALL = new Targets(null, 10_000, 0);

        static Targets keys(List<String> keys) {
            return new Targets(Collections.unmodifiableSet(new TreeSet<>(keys)), 0, 0);
        }

        /** Percent is kept in hundredths; {@code percent: 100} is all keys (the page says so). */
        static Targets percent(double percent, String commandId) {
            int buckets = (int) Math.round(percent * 100);
            return buckets >= 10_000 ? ALL : new Targets(null, buckets, Scope.salt(commandId));
        }

        boolean all() {
            return keys == null && buckets >= 10_000;
        }

        boolean contains(String key) {
            if (all()) {
                return true;
            }
            if (keys != null) {
                return keys.contains(key);
            }
            return Scope.bucket(Scope.hash(key), salt) < buckets;
        }

        @Override
        public String toString() {
            return all() ? "all" : keys != null ? "keys" + keys : "share(" + buckets + "/10000 salt " + salt + ")";
        }
    }

    /** One deployment; {@code version} is {@code modelId:version}. */
    record Rule(String commandId, String version, Role role, Targets targets) {
        boolean serving() {
            return role != Role.SHADOW;
        }

        String variant() {
            return role == Role.CANARY ? "canary" : "active";
        }

        @Override
        public String toString() {
            return commandId + ":" + role + " " + version + " " + targets;
        }
    }

    /** A bundle as the admission stage finds it: its version, an identity of its content, whether it passes. */
    record Bundle(String name, String version, String content, boolean admissible) {}

    /** The commands of the page, as the reference is told them. */
    sealed interface Command permits Deploy, Promote, Rollback, RollbackTo, RollbackShadow, Retire, Malformed {
        String id();
    }

    /** {@code keys} or {@code percent} (or neither: all keys); {@code named} is the optional modelId:version. */
    record Deploy(String id, Bundle bundle, Role role, List<String> keys, Double percent, String named)
            implements Command {}

    record Promote(String id, String version) implements Command {}

    record Rollback(String id) implements Command {}

    record RollbackTo(String id, String version) implements Command {}

    record RollbackShadow(String id) implements Command {}

    record Retire(String id, String version) implements Command {}

    /** Anything the page calls malformed; {@code id} may be null. */
    record Malformed(String id, String what) implements Command {}

    /** The outcome of a command: ACCEPTED, or REJECTED with its reason code; the epoch after it. */
    record Decision(boolean accepted, String reasonCode, long epoch) {
        String outcome() {
            return accepted ? "ACCEPTED" : "REJECTED";
        }
    }

    private record Known(String content, boolean retired) {}

    private final List<Rule> rules = new ArrayList<>();
    private final Map<String, Known> known = new LinkedHashMap<>();
    private final LinkedHashSet<String> acceptedIds = new LinkedHashSet<>();
    private long epoch;
    private int compactions;

    /** The page: the rule log starts with the initial model serving all keys. */
    ReferenceRouting(String initialVersion, String initialContent) {
        rules.add(new Rule("initial", initialVersion, Role.ACTIVE, Targets.ALL));
        known.put(initialVersion, new Known(initialContent, false));
    }

    /** A copy: the rules as they are now (what a subtask's last READY keeps serving while it loads). */
    ReferenceRouting copy() {
        ReferenceRouting c = new ReferenceRouting(this);
        return c;
    }

    private ReferenceRouting(ReferenceRouting other) {
        rules.addAll(other.rules);
        known.putAll(other.known);
        acceptedIds.addAll(other.acceptedIds);
        epoch = other.epoch;
        compactions = other.compactions;
    }

    long epoch() {
        return epoch;
    }

    List<Rule> rules() {
        return List.copyOf(rules);
    }

    /** How many accepted commands dropped rules by the history limit (for the test's coverage line). */
    int compactions() {
        return compactions;
    }

    /** The content the version is known with now (null when unknown). */
    String content(String version) {
        Known k = known.get(version);
        return k == null ? null : k.content;
    }

    // ------------------------------------------------------------------ the fold

    /** served(k): the first ACTIVE or CANARY rule, newest to oldest, whose targets contain k. */
    Rule served(String key) {
        return servedAmong(key, v -> true);
    }

    /** The fold over rules whose version is usable only (a key not seen before while versions load). */
    Rule servedAmong(String key, Predicate<String> usable) {
        for (int i = rules.size() - 1; i >= 0; i--) {
            Rule r = rules.get(i);
            if (r.serving() && r.targets.contains(key) && usable.test(r.version)) {
                return r;
            }
        }
        return null;
    }

    /** shadow(k): the first SHADOW rule whose targets contain k; none if its version is the served one. */
    String shadow(String key) {
        String served = served(key).version;
        for (int i = rules.size() - 1; i >= 0; i--) {
            Rule r = rules.get(i);
            if (!r.serving() && r.targets.contains(key)) {
                return r.version.equals(served) ? null : r.version;
            }
        }
        return null;
    }

    /** A serving rule is hidden by a newer serving rule for all keys; a shadow by a newer all-keys shadow. */
    private static boolean reachable(List<Rule> log, int index) {
        Rule r = log.get(index);
        for (int j = index + 1; j < log.size(); j++) {
            Rule newer = log.get(j);
            if (newer.serving() == r.serving() && newer.targets.all()) {
                return false;
            }
        }
        return true;
    }

    private static Set<String> reachableVersions(List<Rule> log) {
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < log.size(); i++) {
            if (reachable(log, i)) {
                out.add(log.get(i).version);
            }
        }
        return out;
    }

    Set<String> reachableVersions() {
        return reachableVersions(rules);
    }

    /** What a subtask keeps loaded: reachable versions, and those a plain ROLLBACK would make reachable. */
    Set<String> needed() {
        Set<String> out = new LinkedHashSet<>(reachableVersions(rules));
        List<Rule> after = new ArrayList<>(rules);
        if (plainRollback(after) == null) {
            out.addAll(reachableVersions(after));
        }
        return out;
    }

    // ------------------------------------------------------------------ commands

    Decision apply(Command c) {
        if (c instanceof Malformed) {
            return reject("INVALID_COMMAND");
        }
        if (acceptedIds.contains(c.id())) {
            return reject("DUPLICATE_COMMAND");
        }
        String refused;
        if (c instanceof Deploy d) {
            refused = deploy(d);
        } else if (c instanceof Promote p) {
            refused = promote(p);
        } else if (c instanceof Rollback) {
            refused = plainRollback(rules);
        } else if (c instanceof RollbackTo r) {
            refused = rollbackTo(r);
        } else if (c instanceof RollbackShadow) {
            refused = rollbackShadow();
        } else {
            refused = retire((Retire) c);
        }
        if (refused != null) {
            return reject(refused);
        }
        compact();
        acceptedIds.add(c.id());
        if (acceptedIds.size() > ID_RETENTION) {
            acceptedIds.remove(acceptedIds.iterator().next());
        }
        epoch++;
        return new Decision(true, null, epoch);
    }

    private Decision reject(String code) {
        return new Decision(false, code, epoch);
    }

    /** Each command method returns null when it applied its effect, or the reason code it is refused with. */
    private String deploy(Deploy d) {
        Bundle b = d.bundle;
        if (!b.admissible) {
            return "ADMISSION_FAILED";
        }
        if (d.named != null && !d.named.equals(b.version)) {
            return "VERSION_MISMATCH";
        }
        Known k = known.get(b.version);
        if (k != null && !k.retired && !k.content.equals(b.content)) {
            return "CONFLICTING_CONTENT";
        }
        Targets targets = d.keys != null
                ? Targets.keys(d.keys)
                : d.percent != null ? Targets.percent(d.percent, d.id) : Targets.ALL;
        if (rules.size() + 1 > MAX_RULES) {
            return "RULE_LIMIT";
        }
        long listed = targets.keys == null ? 0 : targets.keys.size();
        for (Rule r : rules) {
            listed += r.targets.keys == null ? 0 : r.targets.keys.size();
        }
        if (listed > MAX_RULE_KEYS) {
            return "RULE_LIMIT";
        }
        rules.add(new Rule(d.id, b.version, d.role, targets));
        known.put(b.version, new Known(b.content, false));
        return null;
    }

    private String promote(Promote p) {
        Known k = known.get(p.version);
        if (k == null) {
            return "UNKNOWN_VERSION";
        }
        if (k.retired) {
            return "VERSION_RETIRED";
        }
        List<Rule> next = new ArrayList<>(rules);
        next.removeIf(r -> r.role == Role.CANARY && r.version.equals(p.version));
        next.add(new Rule(p.id, p.version, Role.ACTIVE, Targets.ALL));
        if (next.size() > MAX_RULES) {
            return "RULE_LIMIT";
        }
        replace(next);
        return null;
    }

    /** Removes the newest serving rule from {@code log} if another serving rule for all keys stays. */
    private static String plainRollback(List<Rule> log) {
        int newest = -1;
        for (int i = log.size() - 1; i >= 0 && newest < 0; i--) {
            if (log.get(i).serving()) {
                newest = i;
            }
        }
        boolean otherForAll = false;
        for (int i = 0; i < log.size(); i++) {
            if (i != newest && log.get(i).serving() && log.get(i).targets.all()) {
                otherForAll = true;
            }
        }
        if (!otherForAll) {
            return "NOTHING_TO_ROLL_BACK";
        }
        log.remove(newest);
        return null;
    }

    private String rollbackTo(RollbackTo r) {
        int base = -1;
        for (int i = 0; i < rules.size(); i++) {
            Rule x = rules.get(i);
            if (x.serving() && x.targets.all() && x.version.equals(r.version)) {
                base = i;
            }
        }
        if (base < 0) {
            return "NOTHING_TO_ROLL_BACK"; // the page names no code for this case
        }
        List<Rule> next = new ArrayList<>();
        boolean removed = false;
        for (int i = 0; i < rules.size(); i++) {
            Rule x = rules.get(i);
            if (i > base && x.serving()) {
                removed = true;
            } else {
                next.add(x);
            }
        }
        if (!removed) {
            return "NOTHING_TO_ROLL_BACK";
        }
        replace(next);
        return null;
    }

    private String rollbackShadow() {
        for (int i = rules.size() - 1; i >= 0; i--) {
            if (!rules.get(i).serving()) {
                rules.remove(i);
                return null;
            }
        }
        return "NOTHING_TO_ROLL_BACK";
    }

    private String retire(Retire r) {
        Known k = known.get(r.version);
        if (k == null) {
            return "UNKNOWN_VERSION";
        }
        if (k.retired) {
            return "VERSION_RETIRED";
        }
        for (int i = 0; i < rules.size(); i++) {
            if (rules.get(i).version.equals(r.version) && reachable(rules, i)) {
                return "STILL_ROUTED";
            }
        }
        rules.removeIf(x -> x.version.equals(r.version));
        known.put(r.version, new Known(k.content, true));
        return null;
    }

    /**
     * The history limit: of each family (serving, shadow) the newest {@value #HISTORY} rules for all
     * keys are kept, and every rule of that family older than the oldest kept one is dropped.
     */
    private void compact() {
        for (boolean serving : new boolean[] {true, false}) {
            int seen = 0;
            int cut = -1;
            for (int i = rules.size() - 1; i >= 0 && cut < 0; i--) {
                Rule r = rules.get(i);
                if (r.serving() == serving && r.targets.all() && ++seen == HISTORY) {
                    cut = i;
                }
            }
            if (cut <= 0) {
                continue;
            }
            Set<Integer> drop = new HashSet<>();
            for (int i = 0; i < cut; i++) {
                if (rules.get(i).serving() == serving) {
                    drop.add(i);
                }
            }
            if (!drop.isEmpty()) {
                compactions++;
                List<Rule> next = new ArrayList<>();
                for (int i = 0; i < rules.size(); i++) {
                    if (!drop.contains(i)) {
                        next.add(rules.get(i));
                    }
                }
                replace(next);
            }
        }
    }

    private void replace(List<Rule> next) {
        rules.clear();
        rules.addAll(next);
    }

    @Override
    public String toString() {
        return "epoch " + epoch + " " + rules;
    }
}
