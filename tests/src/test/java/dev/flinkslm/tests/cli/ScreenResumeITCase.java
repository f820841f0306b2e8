package dev.flinkslm.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.screening.AlertPolicy;
import dev.flinkslm.screening.RetainedCheckpoints;
import dev.flinkslm.screening.SyntheticEventGenerator;
import dev.flinkslm.tests.ScreeningTests;
import dev.flinkslm.tests.cluster.JobJars;
import dev.flinkslm.tests.kafka.KafkaBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code screen} as an operator runs it, from the deployable jar in its own JVM, in Kafka mode with model
 * commands: a 30 % canary of version 2, then {@code kill -9} of the process while events are in flight, then
 * {@code screen --resume latest} with the same flags. Read back with read_committed: every event scored exactly
 * once, the events before the canary by version 1, every later one by its key's version whichever job scored it
 * (the keys kept their versions across the crash), one alert per alerting event, and the audit trail without a
 * record written twice (the command topic not replayed).
 */
class ScreenResumeITCase {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final int BEFORE = 100;
    private static final int IN_FLIGHT = 3000;
    private static final int AFTER = 100;
    private static final int KEYS = 200;
    private static final double CANARY_PERCENT = 30;

    @RegisterExtension
    static final KafkaBroker KAFKA = KafkaBroker.perTestClass();

    @TempDir
    Path tmp;

    @Test
    @Timeout(300)
    void resumesAfterSigkillWithEveryEventScoredOnceAndEveryKeyOnItsVersion() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String events = "events-" + run;
        String scored = "scored-" + run;
        String alerts = "alerts-" + run;
        String commands = "commands-" + run;
        String audit = "audit-" + run;
        KAFKA.createTopics(2, events, scored, alerts);
        KAFKA.createTopics(1, commands, audit, "dead-" + run, "shadow-" + run);
        Path models = Files.createDirectories(tmp.resolve("models"));
        Path v1 = ScreeningTests.tinyBundle(models, "1", 7);
        Path v2 = ScreeningTests.tinyBundle(models, "2", 8);
        Path checkpoints = tmp.resolve("checkpoints");
        List<String> flags = kafkaFlags(run, models, v1, checkpoints);
        // few accounts, so that most keys have events scored before the kill and after the resume
        SyntheticEventGenerator generator =
                SyntheticEventGenerator.builder().seed(5).accounts(KEYS).build();

        List<String> before = ScreeningTests.produceEvents(KAFKA, events, generator, 0, BEFORE);
        Process first = screen(flags, List.of(), "first");
        List<String> inFlight;
        ModelCommand canary = ModelCommand.deploy("canary-" + run, v2.toUri().toString(), ModelCommand.Role.CANARY)
                .percent(CANARY_PERCENT);
        try {
            ScreeningTests.awaitCommitted(KAFKA, scored, n -> n.size() >= BEFORE, WAIT, "the first events");
            KAFKA.produce(commands, List.of(canary.toJson().getBytes(StandardCharsets.UTF_8)));
            ScreeningTests.awaitCommitted(
                    KAFKA, audit, n -> readyOn(n, canary.commandId) == 2, WAIT, "the canary READY on both subtasks");

            inFlight = ScreeningTests.produceEvents(KAFKA, events, generator, BEFORE, BEFORE + IN_FLIGHT);
            ScreeningTests.awaitCommitted(
                    KAFKA, scored, n -> n.size() > BEFORE, WAIT, "the first events after the canary");
        } finally {
            // SIGKILL of the launcher: no cancellation, no savepoint, open transactions left behind; the job's
            // JVM (the launcher's child) must end with it
            List<ProcessHandle> jobJvm = first.descendants().toList();
            first.destroyForcibly();
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
            for (ProcessHandle child : jobJvm) {
                boolean ended = child.onExit()
                                .completeOnTimeout(null, 30, TimeUnit.SECONDS)
                                .join()
                        != null;
                if (!ended) {
                    child.destroyForcibly();
                }
                assertThat(ended)
                        .as("the job's JVM %s ended with its launcher", child.pid())
                        .isTrue();
            }
        }
        // what the killed job committed; its open transactions were never committed and are aborted or fenced
        Map<String, JsonNode> byFirst = byEventId(ScreeningTests.committed(KAFKA, scored));
        List<JsonNode> alertsOfFirst = ScreeningTests.committed(KAFKA, alerts);
        List<JsonNode> auditOfFirst = ScreeningTests.committed(KAFKA, audit);

        Process second = screen(flags, List.of("--resume", "latest"), "second");
        try {
            List<String> after = ScreeningTests.produceEvents(
                    KAFKA, events, generator, BEFORE + IN_FLIGHT, BEFORE + IN_FLIGHT + AFTER);
            int all = BEFORE + IN_FLIGHT + AFTER;
            List<JsonNode> results = ScreeningTests.awaitCommitted(
                    KAFKA,
                    scored,
                    n -> n.stream()
                                    .map(r -> r.get("eventId").asText())
                                    .distinct()
                                    .count()
                            >= all,
                    WAIT,
                    "every event after the resume");
            assertThat(output("second"))
                    .containsPattern("resuming from file:/+"
                            + Pattern.quote(checkpoints.toString().substring(1)) + "/[0-9a-f]{32}/chk-\\d+");

            Map<String, JsonNode> byId = byEventId(results);
            assertThat(byId).hasSize(all);
            assertThat(byFirst.size()).as("events were in flight at the kill").isLessThan(BEFORE + IN_FLIGHT);
            Matcher rescored = Pattern.compile("\\| scored ([\\d,]+) \\|").matcher(output("second"));
            long scoredBySecond = 0;
            while (rescored.find()) {
                scoredBySecond = Long.parseLong(rescored.group(1).replace(",", ""));
            }
            assertThat(scoredBySecond)
                    .as("the resumed job scored the events in flight at the kill as well as the new ones")
                    .isGreaterThan(AFTER);
            for (String id : before) {
                assertThat(byId.get(id).get("modelVersion").asText()).as(id).isEqualTo("1");
            }
            assertKeysKeptTheirVersions(byId, byFirst, concat(inFlight, after));
            assertAlertsOnce(results, ScreeningTests.committed(KAFKA, alerts), alertsOfFirst);
            assertCleanLog("first", KAFKA_RUN);
            assertCleanLog("second", KAFKA_RESUMED);
            assertAuditOnce(ScreeningTests.committed(KAFKA, audit), auditOfFirst, canary.commandId);
        } finally {
            second.descendants().forEach(ProcessHandle::destroyForcibly);
            second.destroyForcibly();
            second.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static Map<String, JsonNode> byEventId(List<JsonNode> results) {
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode r : results) {
            assertThat(byId.put(r.get("eventId").asText(), r))
                    .as("a second result for %s", r.get("eventId"))
                    .isNull();
        }
        return byId;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /**
     * Every event after the canary is scored by the rules with the canary (epoch 1), each key by one version
     * whether the killed job or the resumed one scored it, the canary's share of keys on version 2 and the rest
     * on version 1. A key's share is a hash of the key and the command id, so this shows that the rules came back
     * with the checkpoint and the canary was loaded before the resumed job scored; that the checkpoint, not a
     * replay of the command topic, restored them is shown by the audit checks.
     */
    private static void assertKeysKeptTheirVersions(
            Map<String, JsonNode> byId, Map<String, JsonNode> byFirst, List<String> afterCanary) {
        Map<String, String> versionOfKey = new HashMap<>();
        Map<String, Integer> runsOfKey = new HashMap<>();
        for (String id : afterCanary) {
            JsonNode r = byId.get(id);
            String key = r.get("accountId").asText();
            String version = r.get("modelVersion").asText();
            assertThat(r.get("ruleEpoch").asLong()).as(id).isEqualTo(1);
            String earlier = versionOfKey.putIfAbsent(key, version);
            assertThat(version)
                    .as(
                            "key %s, event %s (scored by the %s job)",
                            key, id, byFirst.containsKey(id) ? "killed" : "resumed")
                    .isEqualTo(earlier == null ? version : earlier);
            runsOfKey.merge(key, byFirst.containsKey(id) ? 1 : 2, (x, y) -> x | y);
        }
        long onBoth = runsOfKey.values().stream().filter(r -> r == 3).count();
        assertThat(onBoth)
                .as("keys with events scored both before the kill and after the resume")
                .isGreaterThan(KEYS / 4);
        long onCanary = versionOfKey.values().stream().filter("2"::equals).count();
        assertThat(onCanary)
                .as("keys on the canary, of %d", versionOfKey.size())
                .isBetween((long) (versionOfKey.size() * 0.15), (long) (versionOfKey.size() * 0.45));
    }

    /**
     * Alerts exactly once: one per scored event that the policy alerts on and none for the others, the killed
     * job's committed alerts among them.
     */
    private static void assertAlertsOnce(List<JsonNode> results, List<JsonNode> alerts, List<JsonNode> alertsOfFirst) {
        AlertPolicy policy = AlertPolicy.defaults();
        List<String> expected = results.stream()
                .filter(r -> ScreeningTests.alerts(policy, r))
                .map(r -> r.get("eventId").asText() + ":" + r.get("label").asText())
                .sorted()
                .toList();
        List<String> raised =
                alerts.stream().map(a -> a.get("alertId").asText()).sorted().toList();
        assertThat(expected).as("the tiny models raise alerts").isNotEmpty();
        assertThat(raised).as("one alert per alerting event").isEqualTo(expected);
        assertThat(alerts).as("the killed job's committed alerts").containsAll(alertsOfFirst);
    }

    /**
     * The audit trail across the crash: the killed job's records kept, no record of the command written twice,
     * and the resumed job's records only its subtasks' loads of the restored versions.
     */
    private static void assertAuditOnce(List<JsonNode> audit, List<JsonNode> auditOfFirst, String commandId) {
        assertThat(audit.subList(0, auditOfFirst.size())).isEqualTo(auditOfFirst);
        assertThat(audit)
                .noneMatch(n -> ModelAudit.REJECTED.equals(n.path("outcome").asText()));
        assertThat(audit)
                .as("the command topic was not read again after the resume")
                .filteredOn(n -> commandId.equals(n.path("commandId").asText())
                        && ModelAudit.ACCEPTED.equals(n.path("outcome").asText()))
                .hasSize(1);
        assertThat(audit)
                .filteredOn(n -> commandId.equals(n.path("commandId").asText()))
                .filteredOn(n -> !ModelAudit.LOADED.equals(n.path("outcome").asText()))
                .map(n -> n.path("outcome").asText() + " on subtask "
                        + n.path("subtask").asText())
                .doesNotHaveDuplicates();
        List<String> ofSecond = audit.subList(auditOfFirst.size(), audit.size()).stream()
                .map(n -> n.path("outcome").asText())
                .distinct()
                .toList();
        assertThat(ofSecond).as("records of the resumed job:%n%s", audit).containsOnly(ModelAudit.LOADED);
    }

    /**
     * Ctrl-C (SIGTERM to the launcher) with {@code --savepoint-dir}: the job stops with a savepoint and prints its
     * path, and {@code --resume latest} with the same flags continues from it. Here the stopped job was itself
     * resumed from the checkpoint of a killed one, and the savepoints go to a directory of their own: Flink deletes
     * the checkpoints of a job that stops with a savepoint, so the newest checkpoint under the checkpoint directory
     * is the killed job's, and {@code latest} must look in the savepoint directory to find the newer savepoint.
     */
    @Test
    @Timeout(240)
    void sigtermTakesASavepointThatResumeLatestContinuesFrom() throws Exception {
        String dir = tmp.resolve("state").toUri().toString();
        String savepoints = tmp.resolve("savepoints").toUri().toString();
        List<String> flags = List.of(
                "--events-per-second",
                "200",
                "--checkpoint-dir",
                dir,
                "--checkpoint-interval",
                "300ms",
                "--savepoint-dir",
                savepoints,
                "--status-interval",
                "500ms");
        Process killed = screen(flags, List.of(), "sigterm-killed");
        String killedCheckpoint;
        try {
            killedCheckpoint = awaitCheckpoint(dir, null);
        } finally {
            killed.descendants().forEach(ProcessHandle::destroyForcibly);
            killed.destroyForcibly();
            killed.waitFor(30, TimeUnit.SECONDS);
        }

        Process first = screen(flags, List.of("--resume", "latest"), "sigterm-first");
        try {
            awaitOutput("sigterm-first", "\\| scored [1-9]");
            assertThat(output("sigterm-first")).contains("resuming from " + killedCheckpoint);
            awaitCheckpoint(dir, killedCheckpoint); // one of its own, which the stop will delete
        } finally {
            first.destroy(); // SIGTERM: the launcher's shutdown hook stops its child, which stops the job
            assertThat(first.waitFor(120, TimeUnit.SECONDS)).isTrue();
        }
        Matcher savepoint = Pattern.compile("savepoint (file:\\S+/savepoint-[0-9a-f-]+) \\(resume with --resume \\1\\)")
                .matcher(output("sigterm-first"));
        assertThat(savepoint.find())
                .as("savepoint line in:%n%s", output("sigterm-first"))
                .isTrue();
        assertThat(savepoint.group(1)).startsWith(savepoints.replaceFirst("^file:/+", "file:/"));
        assertThat(Path.of(java.net.URI.create(savepoint.group(1))).resolve("_metadata"))
                .exists();
        assertThat(RetainedCheckpoints.latest(dir))
                .as("the stopped job's checkpoints are gone; the killed job's is the newest")
                .isEqualTo(killedCheckpoint);

        Process second = screen(flags, List.of("--resume", "latest"), "sigterm-second");
        try {
            awaitOutput("sigterm-second", "\\| scored [1-9]");
            assertThat(output("sigterm-second")).contains("resuming from " + savepoint.group(1));
        } finally {
            second.descendants().forEach(ProcessHandle::destroyForcibly);
            second.destroyForcibly();
            second.waitFor(30, TimeUnit.SECONDS);
        }
        for (String run : List.of("sigterm-killed", "sigterm-first", "sigterm-second")) {
            assertCleanLog(run, List.of());
        }
    }

    /** Waits for a complete checkpoint under {@code dir} other than {@code not}; returns its path. */
    private static String awaitCheckpoint(String dir, String not) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                String latest = RetainedCheckpoints.latest(dir);
                if (!latest.equals(not)) {
                    return latest;
                }
            } catch (IllegalArgumentException none) {
                // not yet
            }
            assertThat(System.nanoTime())
                    .as("waiting for a checkpoint under %s", dir)
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static void awaitOutput(String name, String regex) throws Exception {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!pattern.matcher(output(name)).find()) {
            assertThat(System.nanoTime())
                    .as("waiting for /%s/ in %s:%n%s", regex, name, output(name))
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    /** The flags of a Kafka-mode run with model commands, on the topics of {@code run}. */
    private static List<String> kafkaFlags(String run, Path models, Path v1, Path checkpoints) {
        return List.of(
                "--bootstrap-servers",
                KAFKA.bootstrapServers(),
                "--events-topic",
                "events-" + run,
                "--scored-topic",
                "scored-" + run,
                "--alerts-topic",
                "alerts-" + run,
                "--dead-letter-topic",
                "dead-" + run,
                "--shadow-topic",
                "shadow-" + run,
                "--commands-topic",
                "commands-" + run,
                "--audit-topic",
                "audit-" + run,
                "--group-id",
                "resume-" + run,
                "--transactional-id-prefix",
                "resume-" + run,
                "--transaction-timeout",
                "5min",
                "--starting-offsets",
                "EARLIEST",
                "--model",
                v1.toString(),
                "--model-root",
                models.toString(),
                "--provider",
                "CPU",
                "--parallelism",
                "2",
                "--checkpoint-interval",
                "300ms",
                "--checkpoint-dir",
                checkpoints.toUri().toString(),
                "--status-interval",
                "1s");
    }

    /**
     * A fresh start (no {@code --resume}) rebuilds the rules by reading the command topic from its start: the
     * routing is the same, and the second audit record of the command says it is a replay of the first. Then a
     * restore through Flink's own restore path reads no history: a command sent while the job was down is
     * audited once, as new.
     */
    @Test
    @Timeout(300)
    void aFreshStartReplaysTheCommandsAndItsAuditSaysSo() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        KAFKA.createTopics(2, "events-" + run, "scored-" + run, "alerts-" + run);
        KAFKA.createTopics(1, "commands-" + run, "audit-" + run, "dead-" + run, "shadow-" + run);
        Path models = Files.createDirectories(tmp.resolve("models"));
        Path v1 = ScreeningTests.tinyBundle(models, "1", 7);
        Path v2 = ScreeningTests.tinyBundle(models, "2", 8);
        SyntheticEventGenerator generator =
                SyntheticEventGenerator.builder().seed(9).build();
        String audit = "audit-" + run;

        ScreeningTests.produceEvents(KAFKA, "events-" + run, generator, 0, 50);
        Process first = screen(kafkaFlags(run, models, v1, tmp.resolve("first")), List.of(), "replay-first");
        ModelCommand deploy = ModelCommand.deploy("deploy-" + run, v2.toUri().toString(), ModelCommand.Role.ACTIVE);
        try {
            ScreeningTests.awaitCommitted(KAFKA, "scored-" + run, n -> n.size() >= 50, WAIT, "the first events");
            KAFKA.produce("commands-" + run, List.of(deploy.toJson().getBytes(StandardCharsets.UTF_8)));
            ScreeningTests.awaitCommitted(
                    KAFKA, audit, n -> readyOn(n, deploy.commandId) == 2, WAIT, "version 2 READY on both subtasks");
        } finally {
            first.descendants().forEach(ProcessHandle::destroyForcibly);
            first.destroyForcibly();
            first.waitFor(30, TimeUnit.SECONDS);
        }

        // a new checkpoint directory: nothing to resume from
        Process second = screen(kafkaFlags(run, models, v1, tmp.resolve("second")), List.of(), "replay-second");
        try {
            List<JsonNode> accepted = ScreeningTests.awaitCommitted(
                            KAFKA,
                            audit,
                            n -> n.stream()
                                            .filter(r -> ModelAudit.ACCEPTED.equals(
                                                    r.path("outcome").asText()))
                                            .count()
                                    >= 2,
                            WAIT,
                            "the replayed command's ACCEPTED")
                    .stream()
                    .filter(r -> ModelAudit.ACCEPTED.equals(r.path("outcome").asText()))
                    .toList();
            assertThat(accepted).hasSize(2);
            assertThat(accepted.get(0).path("replay").asBoolean())
                    .as("the original")
                    .isFalse();
            assertThat(accepted.get(1).path("replay").asBoolean())
                    .as("the replay")
                    .isTrue();
            assertThat(accepted.get(1).path("source").asText())
                    .isEqualTo(accepted.get(0).path("source").asText())
                    .contains("commands-" + run);
            assertThat(accepted.get(1).path("commandId").asText()).isEqualTo(deploy.commandId);
            assertScoredBy(run, generator, 50, 80, "2", "the events after the fresh start");
        } finally {
            second.descendants().forEach(ProcessHandle::destroyForcibly);
            second.destroyForcibly();
            second.waitFor(30, TimeUnit.SECONDS);
        }

        // Flink's own restore path (what 'flink run -s' sets), not --resume: a restore all the same, so the
        // command sent while the job was down is applied for the first time, not as a replay
        String checkpoint =
                RetainedCheckpoints.latest(tmp.resolve("second").toUri().toString());
        ModelCommand rollback = ModelCommand.of("rollback-" + run, ModelCommand.Action.ROLLBACK, "tiny", "1");
        KAFKA.produce("commands-" + run, List.of(rollback.toJson().getBytes(StandardCharsets.UTF_8)));
        Process third = screen(
                kafkaFlags(run, models, v1, tmp.resolve("second")),
                List.of("--flink-conf", "execution.state-recovery.path=" + checkpoint),
                "replay-third");
        try {
            List<JsonNode> audits = ScreeningTests.awaitCommitted(
                    KAFKA,
                    audit,
                    n -> n.stream()
                            .anyMatch(r -> rollback.commandId.equals(
                                            r.path("commandId").asText())
                                    && ModelAudit.ACCEPTED.equals(
                                            r.path("outcome").asText())),
                    WAIT,
                    "the rollback's ACCEPTED");
            assertThat(output("replay-third")).contains("resuming from " + checkpoint);
            assertThat(audits)
                    .filteredOn(
                            r -> ModelAudit.ACCEPTED.equals(r.path("outcome").asText()))
                    .extracting(r ->
                            r.path("commandId").asText() + (r.path("replay").asBoolean() ? " replay" : ""))
                    .as("no replay after a restore; the rollback applied once, as new")
                    .containsExactly(deploy.commandId, deploy.commandId + " replay", rollback.commandId);
            assertScoredBy(run, generator, 80, 100, "1", "the events after the rollback");
        } finally {
            third.descendants().forEach(ProcessHandle::destroyForcibly);
            third.destroyForcibly();
            third.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Produces events {@code from} to {@code to} and waits until each is scored once, all by {@code version}. */
    private static void assertScoredBy(
            String run, SyntheticEventGenerator generator, int from, int to, String version, String what)
            throws InterruptedException {
        List<String> ids = ScreeningTests.produceEvents(KAFKA, "events-" + run, generator, from, to);
        List<JsonNode> scored = ScreeningTests.awaitCommitted(
                KAFKA,
                "scored-" + run,
                n -> n.stream()
                                .map(r -> r.get("eventId").asText())
                                .filter(ids::contains)
                                .distinct()
                                .count()
                        >= ids.size(),
                WAIT,
                what);
        assertThat(scored)
                .filteredOn(r -> ids.contains(r.get("eventId").asText()))
                .hasSize(ids.size())
                .allSatisfy(r -> assertThat(r.get("modelVersion").asText()).isEqualTo(version));
    }

    /**
     * WARN and ERROR lines a Kafka-mode run may print, each with its reason. A fresh test broker creates its
     * offsets topic on first use, so the first offset commits of the sources fail with CoordinatorNotAvailable
     * or "the coordinator is loading" (they are committed again at a later checkpoint).
     */
    private static final List<Pattern> KAFKA_RUN = List.of(
            Pattern.compile("WARN  KafkaSourceReader - Failed to commit consumer offsets for checkpoint \\d+$"),
            Pattern.compile("WARN  ConsumerCoordinator - .* Offset commit failed on partition .*: The coordinator is"
                    + " (loading|not available)"));

    /**
     * A resumed run also: recovery commits the restored checkpoint's transactions again, and those the killed job
     * had already committed are fenced (the read_committed checks show nothing was lost or written twice).
     */
    private static final List<Pattern> KAFKA_RESUMED = List.of(
            KAFKA_RUN.get(0),
            KAFKA_RUN.get(1),
            Pattern.compile("ERROR KafkaCommitter - Unable to commit transaction .*fenced"));

    private static void assertCleanLog(String name, List<Pattern> allowed) throws IOException {
        List<String> unexpected = output(name)
                .lines()
                .filter(l -> l.matches("^\\S+ (WARN|ERROR) .*"))
                .filter(l -> allowed.stream().noneMatch(a -> a.matcher(l).find()))
                .toList();
        assertThat(unexpected).as("WARN and ERROR lines of the %s run", name).isEmpty();
    }

    private static long readyOn(List<JsonNode> audits, String commandId) {
        return audits.stream()
                .filter(n -> commandId.equals(n.path("commandId").asText())
                        && ModelAudit.READY.equals(n.path("outcome").asText()))
                .map(n -> n.get("subtask").asInt())
                .distinct()
                .count();
    }

    /** {@code java -jar flink-slm.jar screen ...} in its own JVM, output in target/screen-resume-NAME.log. */
    private Process screen(List<String> flags, List<String> extra, String name) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-jar",
                JobJars.deployable(ROOT).toString(),
                "screen"));
        command.addAll(flags);
        command.addAll(extra);
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log(name).toFile())
                .start();
    }

    private static Path log(String name) {
        return Path.of("target", "screen-resume-" + name + ".log").toAbsolutePath();
    }

    private static String output(String name) throws IOException {
        return Files.readString(log(name));
    }
}
