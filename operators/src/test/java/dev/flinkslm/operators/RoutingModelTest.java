package dev.flinkslm.operators;

import static dev.flinkslm.operators.HarnessSupport.runMailsUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.ReferenceRouting.Bundle;
import dev.flinkslm.operators.ReferenceRouting.Command;
import dev.flinkslm.operators.ReferenceRouting.Decision;
import dev.flinkslm.operators.ReferenceRouting.Deploy;
import dev.flinkslm.operators.ReferenceRouting.Malformed;
import dev.flinkslm.operators.ReferenceRouting.Promote;
import dev.flinkslm.operators.ReferenceRouting.Retire;
import dev.flinkslm.operators.ReferenceRouting.Rollback;
import dev.flinkslm.operators.ReferenceRouting.RollbackShadow;
import dev.flinkslm.operators.ReferenceRouting.RollbackTo;
import dev.flinkslm.operators.ReferenceRouting.Rule;
import dev.flinkslm.operators.internal.InferenceRuntime;
import dev.flinkslm.operators.internal.versions.AdmittedCommand;
import dev.flinkslm.operators.internal.versions.Deployment;
import dev.flinkslm.operators.internal.versions.RuleLog;
import dev.flinkslm.operators.internal.versions.Scope;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ModelCommand.Action;
import dev.flinkslm.operators.versions.ShadowResult;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * Model-based randomised test of live model versions (docs/model-versions.md): random sequences of
 * valid and invalid commands and events for many keys, at parallelism 1 to 4, with a checkpoint,
 * restore and rescale in the middle, checked against {@link ReferenceRouting}, an independent
 * implementation of the written semantics.
 *
 * <p>After every command the test waits until every subtask reported READY, so the reference decides
 * exactly which version serves each event (and which shadows it). Some commands are followed by
 * events before the subtasks ran any mail ("pending" steps): a key then moves to its new version only
 * if that version is loaded on its subtask, which the test knows exactly from the subtask's LOADED and
 * RELEASED records; otherwise it is served as the rules of its subtask's last READY serve it (it keeps
 * its previous version, never an older one, whether or not it had an event meanwhile). In the middle, events are
 * left in flight, every subtask is snapshotted and closed, and the state is restored at another
 * parallelism (1 to 2 or 1, 2 to 3, 3 to 2, 4 to 1, 4 or 3); outputs the old instances would give
 * after the snapshot are not counted, so an event scored exactly once is scored once across both.
 *
 * <p>Checked: every event is scored exactly once, by the version and variant the reference says, at
 * the reference's rule epoch, and shadowed exactly when the reference says; every command has exactly
 * one command-level ACCEPTED/REJECTED record in the union of all subtasks' audit outputs, with the
 * reference's outcome, reason code and epoch; after every command the broadcast rule log is identical
 * on all subtasks and has the reference's deployments; LOADED/RELEASED records never load a version
 * twice or release one not loaded; after every settled command (and at the end) every subtask holds
 * exactly the versions the page says it keeps (reachable ones and plain-ROLLBACK targets); right after
 * a rejected command, or a ROLLBACK/RETIRE once those are loaded, no event waits for a load; after
 * close no session lease is left.
 *
 * <p>Seeds: CI runs the fixed seeds {@link #CI_SEEDS} at every parallelism. {@code
 * -Dflinkslm.routing.seeds=N} adds N seeds starting at {@code -Dflinkslm.routing.base} (default: the
 * clock; logged); {@code -Dflinkslm.routing.seed=S} runs only seed S (to reproduce a failure, whose
 * message names the seed, the parallelism and the whole command/event sequence); {@code
 * -Dflinkslm.routing.parallelism=P} runs only the scenarios that start at parallelism P.
 */
class RoutingModelTest {

    private static final Logger LOG = LoggerFactory.getLogger(RoutingModelTest.class);

    static final long[] CI_SEEDS = {1, 2, 3};
    private static final int MAX_PARALLELISM = 128;
    private static final int KEYS = 60;
    private static final int COMMANDS_PER_PHASE = 40;
    private static final String[] WORDS = {
        "wire",
        "transfer",
        "invoice",
        "payment",
        "cash",
        "deposit",
        "trade",
        "refund",
        "crypto",
        "vessel",
        "salary",
        "loan",
        "fee",
        "urgent",
        "client"
    };

    @TempDir
    static Path tmp;

    static VersionsSupport support;
    /** Every bundle by name; the reference's view of it and where it is. */
    static final Map<String, Bundle> BUNDLES = new LinkedHashMap<>();

    static final Map<String, Path> PATHS = new HashMap<>();
    static final Map<String, ModelBundle> VERIFIED = new LinkedHashMap<>();

    @BeforeAll
    static void bundles() throws Exception {
        Path roots = tmp.resolve("models");
        bundle(roots, "v1", "1", 7);
        bundle(roots, "v2", "2", 99);
        bundle(roots, "v3", "3", 5);
        bundle(roots, "v4", "4", 42);
        bundle(roots, "v3copy", "3", 5); // the same content as v3 from another directory: not a conflict
        bundle(roots, "v2other", "2", 1234); // m:2 with other content: CONFLICTING_CONTENT while m:2 is known
        Path corrupt = TinyBundles.write(
                roots.resolve("corrupt"),
                new TinyBundles.Spec().id("m").version("5").seed(3));
        byte[] bytes = Files.readAllBytes(corrupt.resolve("model.onnx"));
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(corrupt.resolve("model.onnx"), bytes); // CHECKSUM_MISMATCH at admission
        BUNDLES.put("corrupt", new Bundle("corrupt", "m:5", "corrupt", false));
        PATHS.put("corrupt", corrupt);
        Path v1 = PATHS.get("v1");
        support = new VersionsSupport(VersionsSupport.config(v1, roots, b -> b), v1);
    }

    private static void bundle(Path roots, String name, String version, int seed) throws Exception {
        Path dir = TinyBundles.write(
                roots.resolve(name),
                new TinyBundles.Spec().id("m").version(version).seed(seed));
        ModelBundle verified = BundleLoader.verify(dir.toUri(), dir, null);
        // the content of a version is the SHA-256 of its manifest, as the page defines it
        BUNDLES.put(
                name, new Bundle(name, "m:" + version, verified.manifestSha256().toLowerCase(Locale.ROOT), true));
        PATHS.put(name, dir);
        VERIFIED.put(name, verified);
    }

    static Stream<Arguments> scenarios() {
        List<Long> seeds = new ArrayList<>();
        String only = System.getProperty("flinkslm.routing.seed");
        if (only != null) {
            seeds.add(Long.parseLong(only.trim()));
        } else {
            for (long s : CI_SEEDS) {
                seeds.add(s);
            }
            int more = Integer.getInteger("flinkslm.routing.seeds", 0);
            if (more > 0) {
                long base = Long.getLong("flinkslm.routing.base", System.currentTimeMillis() % 1_000_000_000L);
                LOG.info("RoutingModelTest: {} more seeds from -Dflinkslm.routing.base={}", more, base);
                for (int i = 0; i < more; i++) {
                    seeds.add(base + i);
                }
            }
        }
        Integer onlyParallelism = Integer.getInteger("flinkslm.routing.parallelism");
        List<Arguments> out = new ArrayList<>();
        for (long seed : seeds) {
            int variant = (int) Math.floorMod(seed, 3L);
            int[] after = {new int[] {2, 1, 2}[variant], 3, 2, new int[] {1, 4, 3}[variant]};
            for (int p = 1; p <= 4; p++) {
                if (onlyParallelism == null || onlyParallelism == p) {
                    out.add(Arguments.of(seed, p, after[p - 1]));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "seed {0}, parallelism {1} then {2}")
    @MethodSource("scenarios")
    void everyEventIsScoredOnceByTheVersionTheWrittenSemanticsChoose(long seed, int before, int after)
            throws Exception {
        Scenario s = new Scenario(seed, before, after);
        long start = System.nanoTime();
        try {
            s.run();
        } catch (Throwable t) {
            s.closeQuietly();
            throw new AssertionError(s.report(t), t);
        }
        LOG.info(
                "RoutingModelTest seed {} parallelism {}->{}: {} in {} ms",
                seed,
                before,
                after,
                s.coverage,
                (System.nanoTime() - start) / 1_000_000);
    }

    // ------------------------------------------------------------------ one scenario

    /** A generated command: what the reference is told, the JSON the operator parses, and a short form. */
    private record Cmd(Command ref, byte[] json, String text) {}

    /**
     * What the written semantics say about one event. {@code version}/{@code variant} null: not
     * decided by the page. {@code shadowExact}: the shadow is exactly {@code shadow}; otherwise a
     * shadow, if any, must be {@code shadow}.
     */
    private record Expect(
            String id,
            String key,
            String version,
            String variant,
            long epoch,
            String shadow,
            boolean shadowExact,
            String mode) {}

    /** One subtask instance: its harness and what of its output was read. */
    private static final class Sub {
        final int index;
        final VersionedHarness<String> h;
        int results;
        int shadows;
        int audits;
        /** {@code modelId:version@sha256} loaded here now, by its LOADED/RELEASED records. */
        final Set<String> loaded = new LinkedHashSet<>();

        final Map<String, Integer> ready = new HashMap<>();
        /** The rules as of this subtask's last READY: a key whose target still loads is served by them. */
        ReferenceRouting readyRules;

        Sub(int index, VersionedHarness<String> h) {
            this.index = index;
            this.h = h;
        }

        Set<String> loadedNames() {
            Set<String> names = new HashSet<>();
            for (String l : loaded) {
                names.add(l.substring(0, l.indexOf('@')));
            }
            return names;
        }
    }

    private final class Scenario {
        final long seed;
        final int before;
        final int after;
        final Random rnd;
        final Bundle initial = BUNDLES.get("v1");
        final ReferenceRouting ref = new ReferenceRouting(initial.version(), initial.content());
        final List<String> trace = new ArrayList<>();
        final Map<String, Integer> coverage = new TreeMap<>();
        List<Sub> subs = new ArrayList<>();
        int parallelism;
        int commands;
        int events;
        int sources;
        long checkpoint;
        int freshKeys;

        final Map<String, Expect> expected = new HashMap<>();
        final Map<String, Integer> scored = new HashMap<>();
        final Map<String, List<ShadowResult<String>>> shadowsOf = new HashMap<>();
        final Set<String> unscored = new LinkedHashSet<>();
        /** Command-level records by the command's source, and what the reference decided for it. */
        final Map<String, List<ModelAudit>> decisions = new HashMap<>();

        final Map<String, Decision> decided = new LinkedHashMap<>();
        final List<Cmd> sent = new ArrayList<>();
        final List<String> rejectedIds = new ArrayList<>();

        Scenario(long seed, int before, int after) {
            this.seed = seed;
            this.before = before;
            this.after = after;
            this.rnd = new Random(seed * 1_000_003L + before * 31L + after);
        }

        void run() throws Exception {
            open(before, null);
            trace.add("open parallelism " + before);
            checkRuleLogs("open");
            phase();
            rescale();
            phase();
            events(8 + rnd.nextInt(8));
            settle();
            finish();
        }

        void phase() throws Exception {
            for (int i = 0; i < COMMANDS_PER_PHASE; i++) {
                boolean pending = rnd.nextInt(4) == 0;
                command(generate(), pending);
                if (rnd.nextInt(10) < 6) {
                    events(3 + rnd.nextInt(8));
                }
            }
        }

        // -------------------------------------------------------------- subtasks

        void open(int p, OperatorSubtaskState merged) throws Exception {
            List<Sub> next = new ArrayList<>();
            for (int i = 0; i < p; i++) {
                VersionedHarness<String> h = support.harness(MAX_PARALLELISM, p, i, InferenceRuntime.DEFAULT);
                Sub s = new Sub(i, h);
                next.add(s);
                if (merged == null) {
                    s.loaded.add(initial.version() + "@" + initial.content()); // the initial model, loaded in open()
                } else {
                    h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(
                            merged, MAX_PARALLELISM, parallelism, p, i));
                }
            }
            subs = next;
            parallelism = p;
            for (Sub s : subs) {
                s.h.open();
                s.readyRules = ref.copy(); // open() loads every reachable version: READY at once
            }
        }

        Sub owner(String key) {
            return subs.get(KeyGroupRangeAssignment.assignKeyToParallelOperator(key, MAX_PARALLELISM, parallelism));
        }

        List<VersionedHarness<String>> harnesses() {
            return subs.stream().map(s -> s.h).toList();
        }

        void closeQuietly() {
            for (Sub s : subs) {
                try {
                    s.h.close();
                } catch (Exception e) {
                    LOG.warn("closing subtask {} failed", s.index, e);
                }
            }
            subs = List.of();
        }

        // -------------------------------------------------------------- output

        void harvestAll() {
            for (Sub s : subs) {
                harvest(s);
            }
        }

        /** Reads what the subtask emitted since the last call: audits first, so its loaded set is current. */
        void harvest(Sub s) {
            List<ModelAudit> audits = VersionsSupport.audits(s.h);
            for (; s.audits < audits.size(); s.audits++) {
                onAudit(s, audits.get(s.audits));
            }
            List<ShadowResult<String>> shadows = VersionsSupport.shadows(s.h);
            for (; s.shadows < shadows.size(); s.shadows++) {
                ShadowResult<String> r = shadows.get(s.shadows);
                shadowsOf
                        .computeIfAbsent(eventId(r.element), k -> new ArrayList<>())
                        .add(r);
            }
            List<Scored<String>> results = VersionsSupport.results(s.h);
            for (; s.results < results.size(); s.results++) {
                onResult(results.get(s.results));
            }
            var dead = HarnessSupport.deadLetters(s.h);
            if (!dead.isEmpty()) {
                throw new AssertionError("dead-lettered on subtask " + s.index + ": " + dead.get(0).reason + " "
                        + dead.get(0).message + " for " + dead.get(0).element);
            }
        }

        void onAudit(Sub s, ModelAudit a) {
            if (a.subtask == null) {
                assertThat(s.index)
                        .as("only subtask 0 reports command-level records: %s", a)
                        .isZero();
                decisions.computeIfAbsent(a.source, k -> new ArrayList<>()).add(a);
                return;
            }
            assertThat(a.subtask).as("subtask index of %s", a).isEqualTo(s.index);
            String version =
                    a.modelId + ":" + a.version + "@" + (a.sha256 == null ? null : a.sha256.toLowerCase(Locale.ROOT));
            switch (a.outcome) {
                case ModelAudit.LOADED -> {
                    if (!s.loaded.add(version)) {
                        throw new AssertionError(
                                "subtask " + s.index + " LOADED " + version + " again while it" + " was loaded: " + a);
                    }
                    count("loaded");
                }
                case ModelAudit.RELEASED -> {
                    if (!s.loaded.remove(version)) {
                        throw new AssertionError("subtask " + s.index + " RELEASED " + version + ", not loaded: " + a);
                    }
                    count("released");
                }
                case ModelAudit.READY -> {
                    int n = s.ready.merge(a.commandId, 1, Integer::sum);
                    assertThat(n)
                            .as("READY records of %s on subtask %s", a.commandId, s.index)
                            .isEqualTo(1);
                    s.readyRules = ref.copy(); // commands go one at a time: the subtask's rules are ref's
                }
                default -> throw new AssertionError("unexpected per-subtask record " + a);
            }
        }

        void onResult(Scored<String> r) {
            String id = eventId(r.element);
            Expect e = expected.get(id);
            if (e == null) {
                throw new AssertionError("a result for an event never sent: " + r.element);
            }
            int n = scored.merge(id, 1, Integer::sum);
            if (n > 1) {
                throw new AssertionError("event " + id + " (key " + e.key + ") scored " + n + " times");
            }
            unscored.remove(id);
            String got = r.modelId + ":" + r.modelVersion;
            String what = "event " + id + " of key " + e.key + " (" + e.mode + ")";
            if (e.version != null) {
                assertThat(got).as("version serving %s", what).isEqualTo(e.version);
            }
            if (e.variant != null) {
                assertThat(r.variant).as("variant of %s", what).isEqualTo(e.variant);
            }
            assertThat(r.ruleEpoch).as("rule epoch of %s", what).isEqualTo(e.epoch);
            List<ShadowResult<String>> shadow = shadowsOf.getOrDefault(id, List.of());
            if (e.shadowExact && e.shadow == null) {
                assertThat(shadow).as("shadow results of %s", what).isEmpty();
            } else if (e.shadowExact) {
                assertThat(shadow)
                        .as("shadow results of %s", what)
                        .singleElement()
                        .satisfies(x -> assertThat(x.shadowModel).isEqualTo(e.shadow))
                        .satisfies(x -> assertThat(x.servedModel).isEqualTo(got));
            } else {
                assertThat(shadow)
                        .as("shadow results of %s", what)
                        .hasSizeLessThanOrEqualTo(1)
                        .allSatisfy(x -> assertThat(x.shadowModel).isEqualTo(e.shadow));
            }
            count("scored " + e.mode);
        }

        /** Runs mails of every subtask until each has emitted the result of every event it owns. */
        void awaitResults() throws Exception {
            for (Sub s : subs) {
                runUntil(
                        s,
                        () -> {
                            harvest(s);
                            return unscored.stream().noneMatch(id -> owner(expected.get(id).key) == s);
                        },
                        () -> "no result for "
                                + unscored.stream()
                                        .filter(id -> owner(expected.get(id).key) == s)
                                        .toList());
            }
            assertThat(unscored).as("events without a result").isEmpty();
        }

        // -------------------------------------------------------------- events

        String randomKey() {
            if (rnd.nextInt(25) == 0) {
                return "fresh-" + (++freshKeys);
            }
            return key(rnd.nextInt(KEYS));
        }

        static String key(int i) {
            return String.format(Locale.ROOT, "k%02d", i);
        }

        String text(String id) {
            StringBuilder sb = new StringBuilder(id);
            for (int i = 0, n = 1 + rnd.nextInt(6); i < n; i++) {
                sb.append(' ').append(WORDS[rnd.nextInt(WORDS.length)]);
            }
            return sb.toString();
        }

        /** Sends one event to the subtask owning its key; nothing is run. */
        Sub send(String key, String id) throws Exception {
            Sub s = owner(key);
            s.h.processElement1(key + "|" + text(id), 1L);
            unscored.add(id);
            return s;
        }

        /** The page's answer once every subtask is READY: exactly served(k), shadow(k) and the epoch. */
        Expect settled(String id, String key, String mode) {
            Rule r = ref.served(key);
            return new Expect(id, key, r.version(), r.variant(), ref.epoch(), ref.shadow(key), true, mode);
        }

        void events(int n) throws Exception {
            StringBuilder line = new StringBuilder("events");
            for (int i = 0; i < n; i++) {
                String key = randomKey();
                String id = "e" + (++events);
                Sub s = send(key, id);
                expected.put(id, settled(id, key, "settled"));
                line.append(' ').append(id).append(':').append(key).append('@').append(s.index);
            }
            trace.add(line.toString());
            awaitResults();
        }

        // -------------------------------------------------------------- commands

        String uri(String bundle) {
            return PATHS.get(bundle).toUri().toString();
        }

        Cmd generate() {
            String id = "c" + (++commands);
            int r = rnd.nextInt(100);
            if (r < 36) {
                return deploy(id);
            } else if (r < 48) {
                return promote(id);
            } else if (r < 59) {
                return new Cmd(new Rollback(id), json(ModelCommand.of(id, Action.ROLLBACK, null, null)), "ROLLBACK");
            } else if (r < 66) {
                String v = pick("m:1", "m:2", "m:3", "m:4");
                return new Cmd(new RollbackTo(id, v), json(named(id, Action.ROLLBACK, v)), "ROLLBACK " + v);
            } else if (r < 73) {
                return new Cmd(
                        new RollbackShadow(id),
                        json(ModelCommand.of(id, Action.ROLLBACK, null, null).role(ModelCommand.Role.SHADOW)),
                        "ROLLBACK role=SHADOW");
            } else if (r < 84) {
                return retire(id);
            } else if (r < 90 && !sent.isEmpty()) {
                Cmd again = sent.get(rnd.nextInt(sent.size()));
                return new Cmd(again.ref, again.json, again.text + " (sent again)");
            } else if (r < 95 && !rejectedIds.isEmpty()) {
                String reused = rejectedIds.get(rnd.nextInt(rejectedIds.size()));
                Cmd c = rnd.nextBoolean() ? deploy(reused) : promote(reused);
                return new Cmd(c.ref, c.json, c.text + " (reusing a rejected id)");
            }
            return malformed(id);
        }

        Cmd deploy(String id) {
            int b = rnd.nextInt(100);
            String name = b < 8
                    ? "v1"
                    : b < 30
                            ? "v2"
                            : b < 52 ? "v3" : b < 74 ? "v4" : b < 82 ? "v3copy" : b < 92 ? "v2other" : "corrupt";
            Bundle bundle = BUNDLES.get(name);
            int roleDraw = rnd.nextInt(100);
            ReferenceRouting.Role role = roleDraw < 45
                    ? ReferenceRouting.Role.ACTIVE
                    : roleDraw < 75 ? ReferenceRouting.Role.CANARY : ReferenceRouting.Role.SHADOW;
            ModelCommand c = ModelCommand.deploy(id, uri(name), ModelCommand.Role.valueOf(role.name()));
            List<String> keys = null;
            Double percent = null;
            int scope = rnd.nextInt(10);
            if (scope >= 4 && scope < 7) {
                Set<String> chosen = new LinkedHashSet<>();
                for (int i = 0, n = 1 + rnd.nextInt(4); i < n; i++) {
                    chosen.add(
                            rnd.nextInt(8) == 0 ? "fresh-" + (freshKeys + 1 + rnd.nextInt(3)) : key(rnd.nextInt(KEYS)));
                }
                keys = new ArrayList<>(chosen);
                c.keys(keys);
            } else if (scope >= 7) {
                percent = new double[] {10, 12.5, 25, 50, 100}[rnd.nextInt(5)];
                c.percent(percent);
            }
            String namedVersion = null;
            if (rnd.nextInt(100) < 15) {
                namedVersion = rnd.nextInt(10) < 7 ? bundle.version() : "m:9";
                c.modelId = "m";
                c.version = namedVersion.substring(2);
            }
            String text = "DEPLOY " + name + "(" + bundle.version() + ") " + role
                    + (keys != null ? " keys=" + keys : percent != null ? " percent=" + percent : "")
                    + (namedVersion != null ? " naming " + namedVersion : "");
            return new Cmd(new Deploy(id, bundle, role, keys, percent, namedVersion), json(c), text);
        }

        Cmd promote(String id) {
            String v = rnd.nextInt(10) == 0 ? "m:9" : pick("m:1", "m:2", "m:3", "m:4");
            return new Cmd(new Promote(id, v), json(named(id, Action.PROMOTE, v)), "PROMOTE " + v);
        }

        Cmd retire(String id) {
            String v;
            List<String> hidden = new ArrayList<>();
            for (String candidate : List.of("m:1", "m:2", "m:3", "m:4")) {
                if (ref.content(candidate) != null && !ref.reachableVersions().contains(candidate)) {
                    hidden.add(candidate);
                }
            }
            if (!hidden.isEmpty() && rnd.nextBoolean()) {
                v = hidden.get(rnd.nextInt(hidden.size())); // likely accepted (unless already retired)
            } else {
                v = rnd.nextInt(8) == 0 ? "m:9" : pick("m:1", "m:2", "m:3", "m:4");
            }
            return new Cmd(new Retire(id, v), json(named(id, Action.RETIRE, v)), "RETIRE " + v);
        }

        Cmd malformed(String id) {
            String u = uri("v2");
            String[] kinds = {
                "not json",
                "{\"commandId\":\"" + id + "\",\"action\":\"DEPLOY\"",
                "{\"commandId\":\"" + id + "\",\"action\":\"EXPLODE\"}",
                "{\"commandId\":\"" + id + "\",\"action\":\"DEPLOY\",\"uri\":\"" + u + "\",\"precent\":10}",
                "{\"commandId\":\"" + id + "\",\"action\":\"DEPLOY\",\"uri\":\"" + u + "\",\"percent\":\"10\"}",
                "{\"commandId\":\"" + id + "\",\"action\":\"DEPLOY\",\"uri\":\"" + u + "\",\"percent\":150}",
                "{\"commandId\":\"" + id + "\",\"action\":\"DEPLOY\",\"uri\":\"" + u + "\",\"percent\":0}",
                "{\"commandId\":\"" + id + "\",\"action\":\"DEPLOY\",\"uri\":\"" + u + "\",\"percent\":NaN}",
                "{\"commandId\":\"" + id + "\",\"action\":\"DEPLOY\",\"uri\":\"" + u + "\",\"keys\":\"k01\"}",
                "{\"commandId\":\"\",\"action\":\"ROLLBACK\"}",
                "{\"commandId\":\"" + id + "\",\"action\":\"DEPLOY\",\"role\":\"BOSS\",\"uri\":\"" + u + "\"}",
                "{\"commandId\":\"" + id + "\",\"action\":\"ROLLBACK\",\"a\":[[[[[[1]]]]]]}",
                "{\"commandId\":\"" + id
                        + "\",\"action\":\"PROMOTE\",\"modelId\":\"m\",\"version\":\"2\",\"keys\":[\"k01\"]}",
                null, // oversize
            };
            int k = rnd.nextInt(kinds.length);
            byte[] json;
            if (kinds[k] == null) {
                json = new byte[ModelCommand.DEFAULT_MAX_BYTES + 1];
                Arrays.fill(json, (byte) ' ');
            } else {
                json = kinds[k].getBytes(StandardCharsets.UTF_8);
            }
            String text = kinds[k] == null ? "oversize" : kinds[k].replace(u, "<v2>");
            return new Cmd(new Malformed(id, text), json, "MALFORMED " + text);
        }

        ModelCommand named(String id, Action action, String version) {
            int colon = version.indexOf(':');
            return ModelCommand.of(id, action, version.substring(0, colon), version.substring(colon + 1));
        }

        byte[] json(ModelCommand c) {
            return c.toJson().getBytes(StandardCharsets.UTF_8);
        }

        String pick(String... options) {
            return options[rnd.nextInt(options.length)];
        }

        /**
         * Sends a command to every subtask and checks its one decision. Settled: waits until READY
         * everywhere first. Pending: sends events to distinct keys before any mail runs, then waits.
         */
        void command(Cmd cmd, boolean pending) throws Exception {
            String source = "ctl:" + (++sources);
            ModelCommand parsed = ModelCommand.parse(cmd.json, source, ModelCommand.DEFAULT_MAX_BYTES);
            boolean settledFirst = pending && rnd.nextBoolean();
            if (settledFirst) {
                settle();
            }
            Decision d = ref.apply(cmd.ref);
            decided.put(source, d);
            trace.add(source + " " + cmd.ref.id() + " " + cmd.text
                    + (pending ? " [pending" + (settledFirst ? ", after every needed version loaded]" : "]") : "")
                    + " -> " + d.outcome()
                    + (d.reasonCode() == null ? "" : " " + d.reasonCode()) + ", epoch " + d.epoch());
            count(d.outcome()
                    + (d.reasonCode() == null ? " " + cmd.ref.getClass().getSimpleName() : " " + d.reasonCode()));
            if (!(cmd.ref instanceof Malformed)) {
                sent.add(cmd);
                if (!d.accepted() && !"DUPLICATE_COMMAND".equals(d.reasonCode())) {
                    rejectedIds.add(cmd.ref.id());
                } else if (d.accepted()) {
                    rejectedIds.remove(cmd.ref.id());
                }
            }
            if (!pending) {
                support.command(harnesses(), parsed);
                harvestAll();
                checkDecision(source, parsed, cmd, d);
                settle();
                checkReleased("after " + source);
            } else {
                AdmittedCommand admitted = support.admit(parsed);
                for (Sub s : subs) {
                    s.h.processElement2(admitted);
                }
                harvestAll();
                checkDecision(source, parsed, cmd, d);
                List<Expect> sentNow = pendingEvents();
                if (!d.accepted()
                        || (settledFirst
                                && (cmd.ref instanceof Rollback
                                        || cmd.ref instanceof Retire
                                        || cmd.ref instanceof RollbackShadow))) {
                    // nothing to load: a rejected command changes nothing, and a ROLLBACK or RETIRE never
                    // waits for a load once every needed version is loaded
                    assertThat(sentNow)
                            .as("events right after %s", cmd.text)
                            .allSatisfy(e -> assertThat(e.mode).isEqualTo("moved"));
                }
                if (d.accepted()) {
                    for (Sub s : subs) {
                        runUntil(
                                s,
                                () -> {
                                    harvest(s);
                                    return s.ready.containsKey(parsed.commandId);
                                },
                                () -> "no READY for " + parsed.commandId + "; loaded " + s.loaded);
                    }
                }
                awaitResults();
            }
            checkRuleLogs(source);
        }

        /**
         * Events for distinct keys right after a command, before any mail: each key is on its target if
         * that version is loaded on its subtask now; else on what the rules of its subtask's last READY
         * say (docs/model-versions.md): the key keeps its previous version, never an older one.
         */
        List<Expect> pendingEvents() throws Exception {
            List<String> keys = new ArrayList<>();
            for (int i = 0, n = 3 + rnd.nextInt(4); i < n; i++) {
                String key = rnd.nextInt(5) == 0 ? "fresh-" + (++freshKeys) : key(rnd.nextInt(KEYS));
                if (!keys.contains(key)) {
                    keys.add(key);
                }
            }
            List<Expect> out = new ArrayList<>();
            StringBuilder line = new StringBuilder("  pending events");
            for (String key : keys) {
                String id = "e" + (++events);
                Sub s = send(key, id);
                harvest(s); // the loaded set as it was when the event was routed (no mail ran since)
                Rule target = ref.served(key);
                String shadow = ref.shadow(key);
                Expect e;
                if (s.loaded.contains(target.version() + "@" + ref.content(target.version()))) {
                    e = new Expect(id, key, target.version(), target.variant(), ref.epoch(), shadow, false, "moved");
                } else if (s.readyRules != null) {
                    Rule previous = s.readyRules.served(key);
                    e = new Expect(id, key, previous.version(), previous.variant(), ref.epoch(), shadow, false, "kept");
                } else {
                    Rule fallback = ref.servedAmong(key, v -> s.loaded.contains(v + "@" + ref.content(v)));
                    e = new Expect(
                            id,
                            key,
                            fallback == null ? null : fallback.version(),
                            fallback == null ? null : fallback.variant(),
                            ref.epoch(),
                            shadow,
                            false,
                            "new key");
                }
                expected.put(id, e);
                out.add(e);
                line.append(' ')
                        .append(id)
                        .append(':')
                        .append(key)
                        .append('@')
                        .append(s.index)
                        .append('=')
                        .append(e.mode)
                        .append(e.version == null ? "" : " " + e.version);
            }
            trace.add(line.toString());
            return out;
        }

        void checkDecision(String source, ModelCommand parsed, Cmd cmd, Decision d) {
            List<ModelAudit> records = decisions.getOrDefault(source, List.of());
            assertThat(records).as("command-level records of %s", cmd.text).hasSize(1);
            ModelAudit a = records.get(0);
            assertThat(a.outcome).as("outcome of %s (%s)", cmd.text, a.reason).isEqualTo(d.outcome());
            assertThat(a.reasonCode)
                    .as("reason code of %s (%s)", cmd.text, a.reason)
                    .isEqualTo(d.reasonCode());
            assertThat(a.epoch).as("epoch after %s", cmd.text).isEqualTo(d.epoch());
            assertThat(a.commandId).as("command id of %s", cmd.text).isEqualTo(parsed.commandId);
            if (cmd.ref instanceof Deploy dep && dep.bundle().admissible()) {
                assertThat(a.modelId + ":" + a.version)
                        .as("the version the bundle of %s is", cmd.text)
                        .isEqualTo(dep.bundle().version());
                assertThat(a.sha256)
                        .as("content of %s", cmd.text)
                        .isEqualToIgnoringCase(dep.bundle().content());
            }
            if (d.accepted() && cmd.ref instanceof Deploy dep) {
                // the deployment's scope as the rule holds it: distinct keys, a share (all keys from 100 %)
                long buckets = dep.percent() == null ? 0 : Math.max(1, Math.round(dep.percent() * 100));
                String scope = dep.keys() != null
                        ? "keys:" + new java.util.TreeSet<>(dep.keys()).size()
                        : dep.percent() != null && buckets < 10_000 ? "percent:" : "all";
                assertThat(a.scope).as("scope of %s", cmd.text).startsWith(scope);
            }
        }

        /** Broadcast state: the same rule log on every subtask, with the reference's deployments. */
        RuleLog checkRuleLogs(String when) throws Exception {
            return checkRuleLogs(when, snapshots());
        }

        List<OperatorSubtaskState> snapshots() throws Exception {
            long id = ++checkpoint;
            List<OperatorSubtaskState> out = new ArrayList<>();
            for (Sub s : subs) {
                out.add(s.h.snapshot(id, id));
            }
            return out;
        }

        RuleLog checkRuleLogs(String when, List<OperatorSubtaskState> snapshots) throws Exception {
            RuleLog first = VersionsSupport.ruleLog(snapshots.get(0));
            for (int i = 1; i < snapshots.size(); i++) {
                assertThat(VersionsSupport.ruleLog(snapshots.get(i)))
                        .as("rule log of subtask %s after %s", i, when)
                        .isEqualTo(first);
            }
            assertThat(first.epoch()).as("rule log epoch after %s", when).isEqualTo(ref.epoch());
            List<String> actual =
                    first.deployments().stream().map(RoutingModelTest::describe).toList();
            List<String> reference = ref.rules().stream().map(Rule::toString).toList();
            assertThat(actual).as("deployments after %s", when).isEqualTo(reference);
            return first;
        }

        /** Waits until every subtask has loaded every version the page says it keeps loaded. */
        void settle() throws Exception {
            for (Sub s : subs) {
                runUntil(
                        s,
                        () -> {
                            harvest(s);
                            return s.loaded.containsAll(neededHere());
                        },
                        () -> "needed versions never loaded: " + neededHere() + ", loaded " + s.loaded);
            }
        }

        Set<String> neededHere() {
            Set<String> out = new LinkedHashSet<>();
            for (String v : ref.needed()) {
                out.add(v + "@" + ref.content(v));
            }
            return out;
        }

        // -------------------------------------------------------------- checkpoint, restore, rescale

        void rescale() throws Exception {
            StringBuilder line = new StringBuilder("in flight at the checkpoint:");
            List<String> inFlight = new ArrayList<>();
            for (int i = 0, n = 3 + rnd.nextInt(6); i < n; i++) {
                String key = randomKey();
                String id = "e" + (++events);
                Sub s = send(key, id);
                expected.put(id, settled(id, key, "in flight"));
                inFlight.add(id);
                line.append(' ').append(id).append(':').append(key).append('@').append(s.index);
            }
            List<OperatorSubtaskState> snapshots = snapshots();
            harvestAll(); // what the old instances emitted up to the snapshot; nothing later counts
            int done =
                    (int) inFlight.stream().filter(id -> !unscored.contains(id)).count();
            count("in flight, emitted before the snapshot", done);
            count("in flight, restored from state", inFlight.size() - done);
            trace.add(line + " (" + done + " emitted before the snapshot); snapshot, close, restore at parallelism "
                    + after);
            RuleLog before = checkRuleLogs("the checkpoint", snapshots);
            closeQuietly();
            OperatorSubtaskState merged =
                    AbstractStreamOperatorTestHarness.repackageState(snapshots.toArray(new OperatorSubtaskState[0]));
            open(after, merged);
            harvestAll();
            awaitResults();
            RuleLog restored = checkRuleLogs("the restore");
            assertThat(restored).as("restored rule log").isEqualTo(before);
        }

        // -------------------------------------------------------------- the end

        /**
         * The page: a subtask keeps loaded what is reachable and what a plain ROLLBACK would reach;
         * others are released once every reachable version is loaded and no event is being scored.
         * Called when every needed version is loaded and no event is in flight.
         */
        void checkReleased(String when) throws Exception {
            for (Sub s : subs) {
                waitBriefly(s, () -> {
                    harvest(s);
                    return s.loaded.equals(neededHere());
                });
                assertThat(s.loaded)
                        .as("versions loaded on subtask %s %s", s.index, when)
                        .containsExactlyInAnyOrderElementsOf(neededHere());
            }
        }

        void finish() throws Exception {
            checkReleased("at the end");
            harvestAll();
            assertThat(unscored).as("events never scored").isEmpty();
            for (Map.Entry<String, Expect> e : expected.entrySet()) {
                assertThat(scored.get(e.getKey()))
                        .as("results of %s", e.getKey())
                        .isEqualTo(1);
                Expect x = e.getValue();
                int shadows = shadowsOf.getOrDefault(e.getKey(), List.of()).size();
                if (x.shadowExact) {
                    assertThat(shadows).as("shadow results of %s", e.getKey()).isEqualTo(x.shadow == null ? 0 : 1);
                }
            }
            for (Map.Entry<String, Decision> d : decided.entrySet()) {
                assertThat(decisions.getOrDefault(d.getKey(), List.of()))
                        .as("command-level records of %s", d.getKey())
                        .hasSize(1);
            }
            assertThat(decisions.keySet())
                    .as("sources with a command-level record")
                    .isEqualTo(decided.keySet());
            closeQuietly();
            for (Map.Entry<String, ModelBundle> b : VERIFIED.entrySet()) {
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (SessionCache.shared().references(b.getValue(), support.config.runtime()) > 0
                        && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertThat(SessionCache.shared().references(b.getValue(), support.config.runtime()))
                        .as("session leases on %s after every subtask closed", b.getKey())
                        .isZero();
            }
            count("compactions", ref.compactions());
        }

        /** {@link HarnessSupport#runMailsUntil}, failing with what is missing on the subtask. */
        void runUntil(Sub s, BooleanSupplier condition, java.util.function.Supplier<String> missing) throws Exception {
            try {
                runMailsUntil(s.h, condition);
            } catch (AssertionError timeout) {
                if (timeout.getMessage() == null || !timeout.getMessage().startsWith("condition not reached")) {
                    throw timeout; // an assertion of harvest(), not the wait
                }
                throw new AssertionError("subtask " + s.index + ": " + missing.get() + " within 60 s", timeout);
            }
        }

        /** Runs mails until the condition holds or 3 s passed (then the caller's assertion says what is wrong). */
        void waitBriefly(Sub s, BooleanSupplier condition) throws Exception {
            long deadline = System.nanoTime() + 3_000_000_000L;
            while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
                HarnessSupport.runQueuedMails(s.h);
                Thread.sleep(1);
            }
        }

        void count(String what) {
            count(what, 1);
        }

        void count(String what, int n) {
            coverage.merge(what, n, Integer::sum);
        }

        String report(Throwable t) {
            StringBuilder sb = new StringBuilder();
            sb.append("RoutingModelTest failed: seed ")
                    .append(seed)
                    .append(", parallelism ")
                    .append(before)
                    .append(" then ")
                    .append(after)
                    .append(": ")
                    .append(t.getMessage())
                    .append('\n')
                    .append("reproduce: mvn -pl models,operators -am test -Dtest=RoutingModelTest")
                    .append(" -Dsurefire.failIfNoSpecifiedTests=false -Dflinkslm.routing.seed=")
                    .append(seed)
                    .append(" -Dflinkslm.routing.parallelism=")
                    .append(before)
                    .append('\n')
                    .append("reference: ")
                    .append(ref)
                    .append('\n')
                    .append("sequence (ctl:<n> is the command's source):\n");
            for (String line : trace) {
                sb.append("  ").append(line).append('\n');
            }
            return sb.toString();
        }
    }

    static String eventId(String element) {
        int bar = element.indexOf('|');
        int space = element.indexOf(' ', bar);
        return element.substring(bar + 1, space < 0 ? element.length() : space);
    }

    /** A deployment of the implementation in the reference's notation. */
    static String describe(Deployment d) {
        Scope s = d.scope();
        String targets = switch (s.kind()) {
            case ALL -> "all";
            case KEYS -> "keys" + s.keys();
            case PERCENT -> "share(" + s.buckets() + "/10000 salt " + s.salt() + ")";
        };
        return d.commandId() + ":" + d.role() + " " + d.version() + " " + targets;
    }
}
