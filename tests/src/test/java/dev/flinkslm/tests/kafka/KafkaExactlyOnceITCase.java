package dev.flinkslm.tests.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.connectors.DeadLetterReason;
import dev.flinkslm.connectors.StartingOffsets;
import dev.flinkslm.models.compliance.ComplianceLabels;
import dev.flinkslm.screening.AlertPolicy;
import dev.flinkslm.screening.FinancialEvent;
import dev.flinkslm.screening.ScreeningConfig;
import dev.flinkslm.screening.ScreeningJob;
import dev.flinkslm.screening.ScreeningOptions;
import dev.flinkslm.screening.ScreeningSchemas;
import dev.flinkslm.screening.SyntheticEventGenerator;
import dev.flinkslm.tests.FailOnceAfterCheckpoint;
import dev.flinkslm.tests.ScreeningTests;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The screening job ({@link ScreeningJob}, tiny generated model) from Kafka to Kafka with the
 * EXACTLY_ONCE sinks, a failure injected after the first completed checkpoint, and the outputs
 * checked with read_committed: every good event scored exactly once, alerts exactly as the policy
 * says, every bad record (invalid, truncated, not an object, missing/empty fields, wrong types,
 * NaN, bad time/currency/country, deep nesting, oversize, blank) dead-lettered exactly once with
 * its reason, and inputs = scored + dead letters.
 */
class KafkaExactlyOnceITCase {

    private static final int PARALLELISM = 2;
    private static final int GOOD = 400;
    private static final int PARTITIONS = 2;
    private static final long MAX_EVENT_BYTES = 64 * 1024;
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

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
    static Path models;

    @Test
    void scoresEveryGoodEventOnceAndDeadLettersEveryBadOneDespiteAFailure() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String eventsTopic = "events-" + run;
        String scoredTopic = "scored-" + run;
        String alertsTopic = "alerts-" + run;
        String deadTopic = "dead-" + run;
        KAFKA.createTopics(PARTITIONS, eventsTopic, scoredTopic, alertsTopic);
        KAFKA.createTopics(1, deadTopic);
        Path bundle = ScreeningTests.tinyBundle(models, "1", 7);

        SyntheticEventGenerator generator =
                SyntheticEventGenerator.builder().seed(7).build();
        List<String> goodIds = new ArrayList<>();
        List<byte[]> good = new ArrayList<>();
        for (long i = 0; i < GOOD; i++) {
            FinancialEvent e = generator.generate(i);
            goodIds.add(e.eventId);
            good.add(ScreeningSchemas.financialEvents().serialize(e));
        }
        Map<String, DeadLetterReason> bad = badRecords();

        // Interleave bad records among the good ones, spread evenly over the partitions.
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        List<byte[]> badBytes = bad.keySet().stream()
                .map(s -> s.getBytes(StandardCharsets.UTF_8))
                .collect(Collectors.toList());
        int b = 0;
        for (int i = 0; i < good.size(); i++) {
            records.add(new ProducerRecord<>(eventsTopic, i % PARTITIONS, null, good.get(i)));
            if (i % 30 == 5 && b < badBytes.size()) {
                records.add(new ProducerRecord<>(eventsTopic, b % PARTITIONS, null, badBytes.get(b++)));
            }
        }
        while (b < badBytes.size()) {
            records.add(new ProducerRecord<>(eventsTopic, b % PARTITIONS, null, badBytes.get(b++)));
        }
        KAFKA.produceRecords(records);

        Configuration options = ScreeningTests.scoring(bundle, models);
        options.set(ConnectorOptions.BOOTSTRAP_SERVERS, KAFKA.bootstrapServers());
        options.set(ConnectorOptions.EVENTS_TOPIC, eventsTopic);
        options.set(ScreeningOptions.SCORED_TOPIC, scoredTopic);
        options.set(ScreeningOptions.ALERTS_TOPIC, alertsTopic);
        options.set(ConnectorOptions.DEAD_LETTER_TOPIC, deadTopic);
        options.set(ConnectorOptions.GROUP_ID, "it-" + run);
        options.set(ConnectorOptions.STARTING_OFFSETS, StartingOffsets.EARLIEST);
        options.set(ConnectorOptions.TRANSACTIONAL_ID_PREFIX, "it-" + run);
        options.set(ConnectorOptions.TRANSACTION_TIMEOUT, Duration.ofMinutes(5));
        options.set(ConnectorOptions.MAX_EVENT_SIZE, MemorySize.parse(MAX_EVENT_BYTES + "b"));
        options.set(ScreeningOptions.ALERT_LABEL_THRESHOLDS, Map.of("fraud", "0.8"));
        ScreeningConfig config = ScreeningConfig.builder()
                .options(options)
                .bounded(true)
                .modelCommands(false)
                .checkpointInterval(Duration.ofMillis(150))
                .parallelism(PARALLELISM)
                .restartAttempts(3)
                .restartDelay(Duration.ofMillis(200))
                .build();
        assertThat(options.get(ConnectorOptions.DELIVERY_GUARANTEE)).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);

        FailOnceAfterCheckpoint.reset();
        StreamExecutionEnvironment env = ScreeningJob.environment(config);
        ScreeningJob.Inputs inputs = ScreeningJob.read(env, config);
        DataStream<FinancialEvent> events = inputs.events();
        ScreeningJob.screen(
                inputs.withEvents(events.map(
                                new FailOnceAfterCheckpoint<FinancialEvent>(), TypeInformation.of(FinancialEvent.class))
                        .name("fail-once")),
                config,
                false);
        env.execute("kafka-exactly-once-it");

        assertThat(FailOnceAfterCheckpoint.failed())
                .as("the failure was injected")
                .isTrue();

        List<ConsumerRecord<byte[], byte[]>> scored = KAFKA.readCommitted(scoredTopic, READ_TIMEOUT);
        List<String> scoredIds = new ArrayList<>();
        Set<String> expectedAlerts = new HashSet<>();
        AlertPolicy policy = config.alertPolicy();
        for (ConsumerRecord<byte[], byte[]> r : scored) {
            JsonNode n = JSON.readTree(r.value());
            scoredIds.add(n.get("eventId").asText());
            assertThat(n.get("modelId").asText()).isEqualTo("tiny");
            assertThat(n.get("modelVersion").asText()).isEqualTo("1");
            assertThat(n.get("variant").asText()).isEqualTo("active");
            assertThat(n.get("labelScores").size()).isEqualTo(ComplianceLabels.ALL.size());
            assertThat(n.get("labelScores").get(n.get("label").asText()).asDouble())
                    .isEqualTo(n.get("score").asDouble());
            assertThat(new String(r.key(), StandardCharsets.UTF_8))
                    .isEqualTo(n.get("accountId").asText());
            if (ScreeningTests.alerts(policy, n)) {
                expectedAlerts.add(
                        n.get("eventId").asText() + ":" + n.get("label").asText());
            }
        }
        assertThat(scoredIds)
                .as("scored event ids")
                .doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(goodIds);

        List<String> alertIds = ScreeningTests.committed(KAFKA, alertsTopic).stream()
                .map(n -> n.get("alertId").asText())
                .collect(Collectors.toList());
        assertThat(expectedAlerts).as("the tiny model raises some alerts").isNotEmpty();
        assertThat(alertIds).as("alerts").doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(expectedAlerts);

        List<ConsumerRecord<byte[], byte[]>> dead = KAFKA.readCommitted(deadTopic, READ_TIMEOUT);
        Map<String, DeadLetterReason> deadByPayload = new HashMap<>();
        Set<String> coordinates = new java.util.HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            JsonNode n = JSON.readTree(r.value());
            String payload =
                    new String(Base64.getDecoder().decode(n.get("payloadBase64").asText()), StandardCharsets.UTF_8);
            assertThat(deadByPayload.put(
                            payload, DeadLetterReason.valueOf(n.get("reason").asText())))
                    .as("dead letter seen twice: %s", n.get("reason"))
                    .isNull();
            JsonNode source = n.get("source");
            assertThat(source.get("system").asText()).isEqualTo("kafka");
            assertThat(source.get("name").asText()).isEqualTo(eventsTopic);
            coordinates.add(
                    source.get("partition").asInt() + "@" + source.get("offset").asLong());
            assertThat(n.get("message").asText()).isNotBlank();
        }
        assertThat(deadByPayload).isEqualTo(bad);
        assertThat(coordinates).hasSize(bad.size());
        assertThat(scored.size() + dead.size())
                .as("inputs = scored + dead letters")
                .isEqualTo(records.size());
    }

    private static Map<String, DeadLetterReason> badRecords() {
        Map<String, DeadLetterReason> bad = new LinkedHashMap<>();
        String base = "{\"eventId\":\"bad-%d\",\"accountId\":\"ACC-9\",\"kind\":\"PAYMENT\",\"text\":\"x\"%s}";
        bad.put("{\"eventId\":\"bad-1\",\"accountId\":\"ACC-9\",\"kind\":\"PAY", DeadLetterReason.TRUNCATED_JSON);
        bad.put("this is not json", DeadLetterReason.INVALID_JSON);
        bad.put("[{\"eventId\":\"bad-3\"}]", DeadLetterReason.NOT_AN_OBJECT);
        bad.put("{\"accountId\":\"ACC-9\",\"kind\":\"PAYMENT\",\"text\":\"no id\"}", DeadLetterReason.MISSING_FIELD);
        bad.put(String.format(base, 5, ",\"amount\":\"12\""), DeadLetterReason.WRONG_TYPE);
        bad.put(String.format(base, 6, ",\"amount\":NaN"), DeadLetterReason.NON_FINITE_NUMBER);
        bad.put(String.format(base, 7, ",\"eventTime\":\"tomorrow\""), DeadLetterReason.INVALID_TIME);
        bad.put(String.format(base, 8, ",\"currency\":\"XYZ\""), DeadLetterReason.INVALID_CURRENCY);
        bad.put(String.format(base, 9, ",\"country\":\"ZZ\""), DeadLetterReason.INVALID_COUNTRY);
        bad.put(
                String.format(base, 10, ",\"deep\":" + "[".repeat(200) + "]".repeat(200)),
                DeadLetterReason.TOO_DEEPLY_NESTED);
        bad.put(String.format(base, 11, ",\"pad\":\"" + "p".repeat(100_000) + "\""), DeadLetterReason.OVERSIZE_RECORD);
        bad.put(String.format(base, 12, "").replace("\"x\"", "\"\""), DeadLetterReason.EMPTY_FIELD);
        bad.put("   ", DeadLetterReason.EMPTY_RECORD);
        return bad;
    }
}
