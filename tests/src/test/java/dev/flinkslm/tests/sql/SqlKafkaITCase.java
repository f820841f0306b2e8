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
import dev.flinkslm.tests.FailOnceAfterCheckpoint;
import dev.flinkslm.tests.ScreeningTests;
import dev.flinkslm.tests.kafka.KafkaBroker;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
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
 * with the exactly-once Kafka sink and read back with read_committed, with and without a failure after a
 * checkpoint. Every event yields exactly one result, with the model's own label; an event without text yields its
 * error row.
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
        List<String> texts = produceEvents("sql-events");
        KAFKA.createTopic("sql-results", 1);
        StreamTableEnvironment tEnv = tables(environment(false), "sql-events", "sql-results");

        TableResult insert = tEnv.executeSql("INSERT INTO results SELECT eventId, accountId, label, score,"
                + " model_version, error_reason FROM " + PREDICT);
        JobID job = insert.getJobClient().orElseThrow().getJobID();
        insert.await(5, TimeUnit.MINUTES);

        assertOneResultPerEvent(texts, ScreeningTests.committed(KAFKA, "sql-results"));
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
        awaitNoLease();
    }

    /**
     * A failure after a completed checkpoint, downstream of ML_PREDICT: the rows in flight in the async operator
     * are restored from the checkpoint and scored again, the open transaction is aborted, and the committed output
     * still has exactly one result per event.
     */
    @Test
    void aFailureAfterACheckpointStillGivesOneResultPerEvent() throws Exception {
        List<String> texts = produceEvents("sql-events-failover");
        KAFKA.createTopic("sql-results-failover", 1);
        StreamExecutionEnvironment env = environment(true);
        StreamTableEnvironment tEnv = tables(env, "sql-events-failover", "sql-results-failover");

        FailOnceAfterCheckpoint.reset();
        Table scored =
                tEnv.sqlQuery("SELECT eventId, accountId, label, score, model_version, error_reason FROM " + PREDICT);
        DataStream<Row> rows = tEnv.toDataStream(scored);
        DataStream<Row> failingOnce =
                rows.map(new FailOnceAfterCheckpoint<>(), rows.getType()).name("fail-once");
        TableResult insert = tEnv.fromDataStream(failingOnce).executeInsert("results");
        insert.await(5, TimeUnit.MINUTES);

        assertThat(FailOnceAfterCheckpoint.failed())
                .as("the failure was injected")
                .isTrue();
        assertOneResultPerEvent(texts, ScreeningTests.committed(KAFKA, "sql-results-failover"));
        awaitNoLease();
    }

    private static final String PREDICT = "ML_PREDICT(TABLE events, MODEL compliance, DESCRIPTOR(text),"
            + " MAP['output-mode', 'ALLOW_UNORDERED', 'max-concurrent-operations', '64'])";

    /** {@link #EVENTS} JSON events on a new two-partition topic; the last has no text. Returns the texts. */
    private static List<String> produceEvents(String topic) throws Exception {
        KAFKA.createTopic(topic, 2);
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
            records.add(new ProducerRecord<>(topic, i % 2, null, ScreeningTests.JSON.writeValueAsBytes(event)));
        }
        KAFKA.produceRecords(records);
        return texts;
    }

    private static StreamExecutionEnvironment environment(boolean restarts) {
        Configuration conf = new Configuration();
        if (restarts) {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(PARALLELISM);
        env.enableCheckpointing(500);
        return env;
    }

    /** The events table (bounded), the exactly-once results table and the model, in a new table environment. */
    private static StreamTableEnvironment tables(
            StreamExecutionEnvironment env, String eventsTopic, String resultsTopic) {
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
        tEnv.executeSql("CREATE TABLE events (eventId STRING, accountId STRING, text STRING) WITH ("
                + "'connector' = 'kafka', 'topic' = '" + eventsTopic + "',"
                + " 'properties.bootstrap.servers' = '" + KAFKA.bootstrapServers() + "',"
                + " 'properties.group.id' = 'sql-it', 'scan.startup.mode' = 'earliest-offset',"
                + " 'scan.bounded.mode' = 'latest-offset', 'format' = 'json')");
        tEnv.executeSql("CREATE TABLE results (eventId STRING, accountId STRING, label STRING, score DOUBLE,"
                + " model_version STRING, error_reason STRING) WITH ("
                + "'connector' = 'kafka', 'topic' = '" + resultsTopic + "',"
                + " 'properties.bootstrap.servers' = '" + KAFKA.bootstrapServers() + "',"
                + " 'sink.delivery-guarantee' = 'exactly-once',"
                + " 'sink.transactional-id-prefix' = 'sql-it-" + UUID.randomUUID() + "',"
                + " 'format' = 'json')");
        tEnv.executeSql("CREATE TEMPORARY MODEL compliance INPUT (text STRING)"
                + " OUTPUT (label STRING, score DOUBLE, model_version STRING, error STRING, error_reason STRING)"
                + " WITH ('provider' = 'onnx-slm', 'model' = 'default:fp32', 'error-mode' = 'ERROR_COLUMNS')");
        return tEnv;
    }

    /** One committed result per event with the model's own label; the event without text is an error row. */
    private static void assertOneResultPerEvent(List<String> texts, List<JsonNode> results) throws Exception {
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode r : results) {
            assertThat(byId.put(r.get("eventId").asText(), r))
                    .as("a second result for %s", r.get("eventId"))
                    .isNull();
        }
        assertThat(results).as("one committed result per event").hasSize(EVENTS);
        ModelBundle model = BundleLoader.builder().build().load("default:fp32");
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
    }

    private static void awaitNoLease() throws Exception {
        ModelBundle model = BundleLoader.builder().build().load("default:fp32");
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
