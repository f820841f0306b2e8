package dev.flinkslm.tests.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.tests.ScreeningTests;
import dev.flinkslm.tests.kafka.KafkaBroker;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * ML_PREDICT with the onnx-slm provider between two Kafka tables on the real broker: JSON events from a
 * two-partition topic, scored by the built-in compliance model through the TaskManager's batch dispatcher, written
 * with the exactly-once Kafka sink and read back with read_committed. Every event yields exactly one result, with
 * the model's own label; an event without text yields its error row.
 */
class SqlKafkaITCase {

    private static final int PARALLELISM = 2;
    private static final int EVENTS = 240;
    private static final String[] TEMPLATES = {
        "Please wire the funds to my personal account before the audit, reference %d",
        "Lunch at noon tomorrow? Table for %d",
        "Split the cash into deposits under ten thousand each so nobody files a report, %d branches",
        "The quarterly report is attached, page %d has the revenue summary",
        "Route the shipment through a third country so the sanctions list does not flag it, lot %d",
        "Reminder: team offsite on the %dth, bring a laptop",
    };
    private static final RuntimeOptions RUNTIME = RuntimeOptions.defaults();

    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final KafkaBroker KAFKA = KafkaBroker.perTestClass();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                    .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(PARALLELISM)
                    .build());

    @Test
    void scoresAKafkaTableIntoAKafkaTableExactlyOnce() throws Exception {
        KAFKA.createTopic("sql-events", 2);
        KAFKA.createTopic("sql-results", 1);
        List<String> texts = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            // the last event has no text: its result is an error row, never a silent label
            String text = i == EVENTS - 1 ? null : String.format(TEMPLATES[i % TEMPLATES.length], i);
            texts.add(text);
            ObjectNode event = ScreeningTests.JSON.createObjectNode();
            event.put("eventId", "e-" + i);
            event.put("accountId", "acct-" + (i % 17));
            event.put("text", text);
            records.add(new ProducerRecord<>("sql-events", i % 2, null, ScreeningTests.JSON.writeValueAsBytes(event)));
        }
        KAFKA.produceRecords(records);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(PARALLELISM);
        env.enableCheckpointing(500);
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
        tEnv.executeSql("CREATE TABLE events (eventId STRING, accountId STRING, text STRING) WITH ("
                + "'connector' = 'kafka', 'topic' = 'sql-events',"
                + " 'properties.bootstrap.servers' = '" + KAFKA.bootstrapServers() + "',"
                + " 'properties.group.id' = 'sql-it', 'scan.startup.mode' = 'earliest-offset',"
                + " 'scan.bounded.mode' = 'latest-offset', 'format' = 'json')");
        tEnv.executeSql("CREATE TABLE results (eventId STRING, accountId STRING, label STRING, score DOUBLE,"
                + " model_version STRING, error_reason STRING) WITH ("
                + "'connector' = 'kafka', 'topic' = 'sql-results',"
                + " 'properties.bootstrap.servers' = '" + KAFKA.bootstrapServers() + "',"
                + " 'sink.delivery-guarantee' = 'exactly-once',"
                + " 'sink.transactional-id-prefix' = 'sql-it-" + UUID.randomUUID() + "',"
                + " 'format' = 'json')");
        tEnv.executeSql("CREATE TEMPORARY MODEL compliance INPUT (text STRING)"
                + " OUTPUT (label STRING, score DOUBLE, model_version STRING, error STRING, error_reason STRING)"
                + " WITH ('provider' = 'onnx-slm', 'model' = 'default:fp32', 'error-mode' = 'ERROR_COLUMNS')");

        TableResult insert = tEnv.executeSql("INSERT INTO results SELECT eventId, accountId, label, score,"
                + " model_version, error_reason FROM ML_PREDICT(TABLE events, MODEL compliance, DESCRIPTOR(text),"
                + " MAP['output-mode', 'ALLOW_UNORDERED', 'max-concurrent-operations', '64'])");
        JobID job = insert.getJobClient().orElseThrow().getJobID();
        insert.await(5, TimeUnit.MINUTES);

        ModelBundle model = BundleLoader.builder().build().load("default:fp32");
        Map<String, JsonNode> byId = new HashMap<>();
        List<JsonNode> results = ScreeningTests.committed(KAFKA, "sql-results");
        for (JsonNode r : results) {
            assertThat(byId.put(r.get("eventId").asText(), r))
                    .as("a second result for %s", r.get("eventId"))
                    .isNull();
        }
        assertThat(results).as("one committed result per event").hasSize(EVENTS);

        List<Prediction> expected = alone(model, texts.subList(0, EVENTS - 1));
        for (int i = 0; i < EVENTS - 1; i++) {
            JsonNode r = byId.get("e-" + i);
            assertThat(r).as("result of e-%d", i).isNotNull();
            assertThat(r.get("accountId").asText()).isEqualTo("acct-" + (i % 17));
            assertThat(r.get("label").asText())
                    .as("label of e-%d", i)
                    .isEqualTo(expected.get(i).label());
            assertThat(r.get("score").asDouble()).isCloseTo(expected.get(i).score(), within(1e-4));
            assertThat(r.get("model_version").asText()).isEqualTo(model.version());
            assertThat(r.get("error_reason").isNull()).isTrue();
        }
        JsonNode missing = byId.get("e-" + (EVENTS - 1));
        assertThat(missing.get("label").isNull()).isTrue();
        assertThat(missing.get("score").isNull()).isTrue();
        assertThat(missing.get("error_reason").asText()).isEqualTo("TEXT_MISSING");
        assertThat(expected.stream().map(Prediction::label).distinct())
                .as("the texts are not all one label")
                .hasSizeGreaterThan(1);

        long rowsThroughTheDispatcher = 0;
        double largestJointRun = 0;
        for (Histogram h : histograms(job, "coalescedBatchSize")) {
            rowsThroughTheDispatcher += h.getCount();
            largestJointRun = Math.max(largestJointRun, h.getStatistics().getMax());
        }
        assertThat(rowsThroughTheDispatcher).isEqualTo(EVENTS - 1);
        assertThat(largestJointRun)
                .as("rows of concurrent calls (and of both subtasks) scored in one joint run")
                .isGreaterThan(1);

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (SessionCache.shared().references(model, RUNTIME) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(SessionCache.shared().references(model, RUNTIME))
                .as("session leases held after the job ended")
                .isZero();
    }

    /** Each text scored alone by the session: the fp32 model gives the same in any batch. */
    private static List<Prediction> alone(ModelBundle model, List<String> texts) throws Exception {
        List<Prediction> out = new ArrayList<>();
        try (SessionCache.Lease lease = SessionCache.shared().acquire(model, RUNTIME)) {
            for (String text : texts) {
                out.add(lease.session().scoreTexts(List.of(text)).get(0));
            }
        }
        return out;
    }

    private static List<Histogram> histograms(JobID job, String name) {
        List<Histogram> found = new ArrayList<>();
        for (Map.Entry<String, Metric> e : REPORTER.getMetricsByIdentifiers(job).entrySet()) {
            if (e.getKey().endsWith(".slm." + name) && e.getValue() instanceof Histogram h) {
                found.add(h);
            }
        }
        assertThat(found).as("slm.%s histograms of job %s", name, job).hasSize(PARALLELISM);
        return found;
    }
}
