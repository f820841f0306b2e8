package dev.flinkslm.tests.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.connectors.StartingOffsets;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.screening.ScreeningConfig;
import dev.flinkslm.screening.ScreeningJob;
import dev.flinkslm.screening.ScreeningOptions;
import dev.flinkslm.screening.SyntheticEventGenerator;
import dev.flinkslm.tests.ScreeningTests;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * A live model swap through the Kafka command topic while the screening job runs: events scored by
 * version 1, a DEPLOY of version 2 audited as ACCEPTED, LOADED and LIVE on the audit topic, later
 * events scored by version 2, and every event scored exactly once (read_committed).
 */
class ModelSwapITCase {

    private static final int PARALLELISM = 2;
    private static final int PER_PHASE = 120;
    private static final Duration WAIT = Duration.ofSeconds(45);

    @RegisterExtension
    @Order(1)
    static final KafkaBroker KAFKA = KafkaBroker.perTestClass();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(PARALLELISM)
            .build());

    @TempDir
    Path models;

    @Test
    void swapsTheModelLiveAndScoresEveryEventOnce() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String events = "events-" + run;
        String commands = "commands-" + run;
        String scored = "scored-" + run;
        String audit = "audit-" + run;
        KAFKA.createTopics(2, events, scored, "alerts-" + run);
        KAFKA.createTopics(1, commands, audit, "dead-" + run);
        Path v1 = ScreeningTests.tinyBundle(models, "1", 7);
        Path v2 = ScreeningTests.tinyBundle(models, "2", 99);

        Configuration options = ScreeningTests.scoring(v1, models);
        options.set(ConnectorOptions.BOOTSTRAP_SERVERS, KAFKA.bootstrapServers());
        options.set(ConnectorOptions.EVENTS_TOPIC, events);
        options.set(ConnectorOptions.COMMANDS_TOPIC, commands);
        options.set(ScreeningOptions.SCORED_TOPIC, scored);
        options.set(ScreeningOptions.ALERTS_TOPIC, "alerts-" + run);
        options.set(ConnectorOptions.DEAD_LETTER_TOPIC, "dead-" + run);
        options.set(ConnectorOptions.AUDIT_TOPIC, audit);
        options.set(ConnectorOptions.GROUP_ID, "swap-" + run);
        options.set(ConnectorOptions.STARTING_OFFSETS, StartingOffsets.EARLIEST);
        options.set(ConnectorOptions.TRANSACTIONAL_ID_PREFIX, "swap-" + run);
        options.set(ConnectorOptions.TRANSACTION_TIMEOUT, Duration.ofMinutes(5));
        ScreeningConfig config = ScreeningConfig.builder()
                .options(options)
                .checkpointInterval(Duration.ofMillis(300))
                .parallelism(PARALLELISM)
                .build();
        assertThat(config.commands()).isEqualTo(ScreeningConfig.Commands.KAFKA);

        SyntheticEventGenerator generator =
                SyntheticEventGenerator.builder().seed(3).build();
        List<String> before = ScreeningTests.produceEvents(KAFKA, events, generator, 0, PER_PHASE);

        StreamExecutionEnvironment env = ScreeningJob.environment(config);
        ScreeningJob.build(env, config);
        JobClient job = env.executeAsync("model-swap-it");
        try {
            List<JsonNode> first = ScreeningTests.awaitCommitted(
                    KAFKA, scored, n -> n.size() >= PER_PHASE, WAIT, "the events before the swap");
            assertThat(first).allSatisfy(n -> {
                assertThat(n.get("modelVersion").asText()).isEqualTo("1");
                assertThat(n.get("ruleEpoch").asLong()).isZero();
            });

            ModelCommand deploy = ModelCommand.deploy("swap-" + run, v2.toUri().toString(), ModelCommand.Role.ACTIVE);
            deploy.issuedBy = "ModelSwapITCase";
            KAFKA.produce(commands, List.of(deploy.toJson().getBytes(StandardCharsets.UTF_8)));
            // One ACCEPTED for the command; READY from every subtask once version 2 is loaded there,
            // after which that subtask serves version 2 to all keys.
            List<JsonNode> audits = ScreeningTests.awaitCommitted(
                    KAFKA,
                    audit,
                    n -> subtasks(n, deploy.commandId, ModelAudit.READY) == PARALLELISM,
                    WAIT,
                    "READY on every subtask");
            List<String> outcomes = audits.stream()
                    .filter(n -> deploy.commandId.equals(text(n, "commandId")))
                    .map(n -> text(n, "outcome"))
                    .collect(Collectors.toList());
            assertThat(outcomes).filteredOn(ModelAudit.ACCEPTED::equals).hasSize(1);
            assertThat(outcomes).doesNotContain(ModelAudit.REJECTED);
            assertThat(audits)
                    .filteredOn(n -> ModelAudit.LOADED.equals(text(n, "outcome")) && "2".equals(text(n, "version")))
                    .extracting(n -> n.get("subtask").asInt())
                    .doesNotHaveDuplicates()
                    .hasSize(PARALLELISM);
            assertThat(audits)
                    .filteredOn(n -> ModelAudit.ACCEPTED.equals(text(n, "outcome")))
                    .allSatisfy(n -> assertThat(text(n, "version")).isEqualTo("2"));

            List<String> after = ScreeningTests.produceEvents(KAFKA, events, generator, PER_PHASE, 2 * PER_PHASE);
            List<JsonNode> all = ScreeningTests.awaitCommitted(
                    KAFKA, scored, n -> n.size() >= 2 * PER_PHASE, WAIT, "the events after the swap");

            Map<String, String> versionById = all.stream()
                    .collect(Collectors.toMap(
                            n -> n.get("eventId").asText(),
                            n -> n.get("modelVersion").asText(),
                            (a, b) -> {
                                throw new AssertionError("event scored twice");
                            }));
            assertThat(versionById.keySet()).containsExactlyInAnyOrderElementsOf(concat(before, after));
            assertThat(before)
                    .allSatisfy(id -> assertThat(versionById.get(id)).as(id).isEqualTo("1"));
            assertThat(after)
                    .allSatisfy(id -> assertThat(versionById.get(id)).as(id).isEqualTo("2"));
            // The audit trail of each result: the deploy is the first accepted command (epoch 1).
            assertThat(all)
                    .filteredOn(n -> after.contains(n.get("eventId").asText()))
                    .allSatisfy(n -> assertThat(n.get("ruleEpoch").asLong()).isEqualTo(1));
            assertThat(all)
                    .allSatisfy(n -> assertThat(n.get("modelId").asText()).isEqualTo("tiny"));
        } finally {
            job.cancel().get();
        }
    }

    private static long subtasks(List<JsonNode> audits, String commandId, String outcome) {
        return audits.stream()
                .filter(n -> commandId.equals(text(n, "commandId")) && outcome.equals(text(n, "outcome")))
                .map(n -> n.get("subtask").asInt())
                .distinct()
                .count();
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
