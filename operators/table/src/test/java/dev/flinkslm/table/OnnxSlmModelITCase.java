package dev.flinkslm.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.models.TinyBundles;
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
import org.apache.flink.types.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** ML_PREDICT with the onnx-slm provider and the built-in compliance model on a MiniCluster. */
class OnnxSlmModelITCase {

    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                    .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2)
                    .build());

    private static final String[] TEMPLATES = {
        "Please wire the funds to my personal account before the audit, number %d",
        "Lunch at noon tomorrow? Table for %d",
        "Delete the emails about the side agreement with the client, all %d of them",
        "The quarterly report is attached, page %d has the revenue summary",
        "I can guarantee you a %d percent return, no risk at all",
        "Reminder: team offsite on the %dth, bring a laptop",
    };

    private static final RuntimeOptions RUNTIME = RuntimeOptions.defaults();

    private static ModelBundle bundle;
    /** fp32: batch-invariant, so rows scored in joint runs can be compared with each text scored alone. */
    private static ModelBundle fp32;

    private StreamTableEnvironment tEnv;

    @BeforeAll
    static void loadBundle() throws Exception {
        bundle = BundleLoader.builder().build().load("default:int8");
        fp32 = BundleLoader.builder().build().load("default:fp32");
    }

    @BeforeEach
    void setUp() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        tEnv = StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
    }

    @AfterEach
    void noLeaseLeft() throws Exception {
        awaitNoLease(bundle);
        awaitNoLease(fp32);
    }

    /** The functions' close() runs as the tasks finish, shortly after the last result reached the client. */
    private static void awaitNoLease(ModelBundle b) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (SessionCache.shared().references(b, RUNTIME) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(SessionCache.shared().references(b, RUNTIME))
                .as("session leases of %s:%s held after the job ended", b.id(), b.version())
                .isZero();
    }

    private static List<String> texts(int n) {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            texts.add(String.format(TEMPLATES[i % TEMPLATES.length], i));
        }
        return texts;
    }

    private void events(List<String> texts) {
        SqlTests.events(tEnv, texts);
    }

    /**
     * Each text scored alone. The int8 model quantizes its activations dynamically, per batch, so a text's score
     * depends a little on the texts it shares a run with: only a one-row run gives the same score as here.
     */
    private static List<Prediction> expected(ModelBundle model, List<String> texts) throws Exception {
        List<Prediction> out = new ArrayList<>();
        try (SessionCache.Lease lease = SessionCache.shared().acquire(model, RUNTIME)) {
            for (String text : texts) {
                out.add(lease.session().scoreTexts(List.of(text)).get(0));
            }
        }
        return out;
    }

    private static List<Row> collect(TableResult result) throws Exception {
        return SqlTests.collect(result);
    }

    private void createModel(String name, String schema, String extraOptions) {
        createModel(name, "default:int8", schema, extraOptions);
    }

    private void createModel(String name, String uri, String schema, String extraOptions) {
        tEnv.executeSql("CREATE TEMPORARY MODEL " + name + " " + schema + " WITH ('provider' = 'onnx-slm', 'model' = '"
                + uri + "'" + extraOptions + ")");
    }

    private void assertScoredLikeTheSession(ModelBundle model, List<String> texts, List<Row> rows) throws Exception {
        assertThat(rows).hasSize(texts.size());
        List<Prediction> expected = expected(model, texts);
        Map<Integer, Row> byId = new HashMap<>();
        rows.forEach(r -> byId.put((Integer) r.getField("id"), r));
        assertThat(byId).hasSize(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            Row r = byId.get(i);
            assertThat(r.getField("label"))
                    .as("label of text %d", i)
                    .isEqualTo(expected.get(i).label());
            assertThat((Double) r.getField("score")).isCloseTo(expected.get(i).score(), within(1e-4));
            assertThat(r.getField("model_version")).isEqualTo(model.version());
        }
    }

    @Test
    void asyncPredictScoresEveryRowInJointRuns() throws Exception {
        List<String> texts = texts(300);
        events(texts);
        createModel(
                "compliance",
                "default:fp32",
                "INPUT (text STRING) OUTPUT (label STRING, score DOUBLE, model_version STRING)",
                "");

        TableResult result = tEnv.executeSql("SELECT id, label, score, model_version FROM ML_PREDICT(TABLE events,"
                + " MODEL compliance, DESCRIPTOR(text), MAP['async', 'true', 'max-concurrent-operations', '64'])");
        JobID job = result.getJobClient().orElseThrow().getJobID();
        List<Row> rows = collect(result);

        assertScoredLikeTheSession(fp32, texts, rows);
        Histogram joint = histogram(job, "coalescedBatchSize");
        assertThat(joint.getCount()).as("rows that went through the dispatcher").isEqualTo(texts.size());
        assertThat(joint.getStatistics().getMax())
                .as("largest joint run: rows of concurrent asyncPredict calls scored together")
                .isGreaterThan(1);
    }

    @Test
    void syncPredictScoresEveryRow() throws Exception {
        List<String> texts = texts(12);
        events(texts);
        createModel("compliance", "INPUT (text STRING) OUTPUT (label STRING, score DOUBLE, model_version STRING)", "");

        TableResult result = tEnv.executeSql("SELECT id, label, score, model_version FROM ML_PREDICT(TABLE events,"
                + " MODEL compliance, DESCRIPTOR(text), MAP['async', 'false'])");
        JobID job = result.getJobClient().orElseThrow().getJobID();
        List<Row> rows = collect(result);

        assertScoredLikeTheSession(bundle, texts, rows);
        assertThat(histogram(job, "coalescedBatchSize").getStatistics().getMax())
                .isEqualTo(1);
    }

    @Test
    void errorColumnsCarryTheErrorOfAnUnscorableRow() throws Exception {
        List<String> texts = new ArrayList<>(texts(4));
        texts.add(null);
        events(texts);
        createModel(
                "compliance",
                "INPUT (text STRING) OUTPUT (label STRING, score DOUBLE, model_id STRING, error STRING,"
                        + " error_reason STRING)",
                ", 'error-mode' = 'ERROR_COLUMNS'");

        for (String async : List.of("true", "false")) {
            List<Row> rows = collect(tEnv.executeSql("SELECT id, label, score, model_id, error, error_reason FROM"
                    + " ML_PREDICT(TABLE events, MODEL compliance, DESCRIPTOR(text), MAP['async', '" + async
                    + "'])"));
            assertThat(rows).as("async=%s", async).hasSize(5);
            for (Row r : rows) {
                assertThat(r.getField("model_id")).isEqualTo(bundle.id());
                if ((Integer) r.getField("id") == 4) {
                    assertThat(r.getField("label")).isNull();
                    assertThat(r.getField("score")).isNull();
                    assertThat(r.getField("error_reason")).isEqualTo("TEXT_MISSING");
                    assertThat((String) r.getField("error")).contains("NULL");
                } else {
                    assertThat(r.getField("label")).isNotNull();
                    assertThat(r.getField("error")).isNull();
                    assertThat(r.getField("error_reason")).isNull();
                }
            }
        }
    }

    @Test
    void aModelOutputThatIsNotADistributionIsAnErrorRowNeverALabel(@TempDir Path tmp) throws Exception {
        // A generated model whose output is NaN for every run that holds the word "zebra": that row must come
        // out as MODEL_OUTPUT_INVALID, and the rows it shared a joint run with must still get their own labels.
        Path fine = TinyBundles.write(tmp.resolve("fine"), new TinyBundles.Spec().id("fine"));
        long zebra;
        try (SessionCache.Lease probe =
                SessionCache.shared().acquire(BundleLoader.verify(fine.toUri(), fine, null), RUNTIME)) {
            zebra = probe.session().encode("zebra").ids()[1];
        }
        Path nanBundle = TinyBundles.write(
                tmp.resolve("nan"),
                new TinyBundles.Spec()
                        .id("nan")
                        .badOutput(TinyBundles.BadOutput.NAN)
                        .badOnTokenId(zebra));
        List<String> texts = new ArrayList<>(TinyBundles.sampleTexts(40));
        for (int i = 5; i < texts.size(); i += 10) {
            texts.set(i, "the zebra crossed the road " + i);
        }
        events(texts);
        createModel(
                "poisoned",
                nanBundle.toUri().toString(),
                "INPUT (text STRING) OUTPUT (label STRING, score DOUBLE, error STRING, error_reason STRING)",
                ", 'model-roots' = '" + tmp.toUri() + "', 'error-mode' = 'ERROR_COLUMNS'");

        for (String async : List.of("true", "false")) {
            List<Row> rows = collect(tEnv.executeSql("SELECT id, label, score, error, error_reason FROM"
                    + " ML_PREDICT(TABLE events, MODEL poisoned, DESCRIPTOR(text), MAP['async', '" + async
                    + "', 'max-concurrent-operations', '40'])"));
            assertThat(rows).as("async=%s: one row per input", async).hasSize(texts.size());
            for (Row r : rows) {
                int id = (Integer) r.getField("id");
                if (texts.get(id).contains("zebra")) {
                    assertThat(r.getField("label")).as("row %d", id).isNull();
                    assertThat(r.getField("score")).isNull();
                    assertThat(r.getField("error_reason")).isEqualTo("MODEL_OUTPUT_INVALID");
                    assertThat((String) r.getField("error")).contains("NaN");
                } else {
                    assertThat(r.getField("error_reason"))
                            .as("row %d (async=%s)", id, async)
                            .isNull();
                    assertThat(r.getField("label")).isNotNull();
                }
            }
        }
        awaitNoLease(BundleLoader.verify(nanBundle.toUri(), nanBundle, null));
    }

    @Test
    void failModeFailsTheQueryOnAnUnscorableRow() {
        List<String> texts = new ArrayList<>(texts(2));
        texts.add(null);
        events(texts);
        createModel("compliance", "INPUT (text STRING) OUTPUT (label STRING)", "");

        assertThatThrownBy(() -> collect(tEnv.executeSql(
                        "SELECT id, label FROM ML_PREDICT(TABLE events, MODEL compliance, DESCRIPTOR(text))")))
                .hasStackTraceContaining("TEXT_MISSING")
                .hasStackTraceContaining("'error-mode' = 'ERROR_COLUMNS'");
    }

    @Test
    void schemaErrorsSayWhatToFix() {
        events(texts(1));
        tEnv.executeSql("CREATE TEMPORARY VIEW pairs AS SELECT id, text, text AS other FROM events");

        createModel("two_inputs", "INPUT (text STRING, other STRING) OUTPUT (label STRING)", "");
        assertThatThrownBy(() -> tEnv.explainSql(
                        "SELECT * FROM ML_PREDICT(TABLE pairs, MODEL two_inputs, DESCRIPTOR(text, other))"))
                .hasStackTraceContaining("needs exactly one STRING input column")
                .hasStackTraceContaining("INPUT (text STRING)");

        createModel("unknown_output", "INPUT (text STRING) OUTPUT (label STRING, confidence DOUBLE)", "");
        assertThatThrownBy(() -> tEnv.explainSql(
                        "SELECT * FROM ML_PREDICT(TABLE events, MODEL unknown_output, DESCRIPTOR(text))"))
                .hasStackTraceContaining("unsupported output column 'confidence'")
                .hasStackTraceContaining("label STRING, score DOUBLE, probabilities MAP<STRING, DOUBLE>");

        createModel("wrong_type", "INPUT (text STRING) OUTPUT (score FLOAT)", "");
        assertThatThrownBy(() ->
                        tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL wrong_type, DESCRIPTOR(text))"))
                .hasStackTraceContaining("output column 'score' is FLOAT but must be DOUBLE");

        createModel(
                "not_null", "INPUT (text STRING) OUTPUT (label STRING NOT NULL, model_version STRING NOT NULL)", "");
        assertThatThrownBy(() ->
                        tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL not_null, DESCRIPTOR(text))"))
                .hasStackTraceContaining("output column 'label' is declared NOT NULL")
                .hasStackTraceContaining("only model_id and model_version may be NOT NULL");

        createModel("no_prediction", "INPUT (text STRING) OUTPUT (error STRING, error_reason STRING)", "");
        assertThatThrownBy(() -> tEnv.explainSql(
                        "SELECT * FROM ML_PREDICT(TABLE events, MODEL no_prediction, DESCRIPTOR(text))"))
                .hasStackTraceContaining("has no prediction in its OUTPUT");

        createModel(
                "no_error_columns", "INPUT (text STRING) OUTPUT (label STRING)", ", 'error-mode' = 'ERROR_COLUMNS'");
        assertThatThrownBy(() -> tEnv.explainSql(
                        "SELECT * FROM ML_PREDICT(TABLE events, MODEL no_error_columns, DESCRIPTOR(text))"))
                .hasStackTraceContaining("lacks [error STRING, error_reason STRING]");
    }

    @Test
    void optionErrorsNameTheOption() {
        events(texts(1));
        createModel("typo", "INPUT (text STRING) OUTPUT (label STRING)", ", 'batch.maxsize' = '8'");
        assertThatThrownBy(
                        () -> tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL typo, DESCRIPTOR(text))"))
                .hasStackTraceContaining("Unsupported options")
                .hasStackTraceContaining("batch.maxsize");

        createModel("bad_mode", "INPUT (text STRING) OUTPUT (label STRING)", ", 'error-mode' = 'IGNORE'");
        assertThatThrownBy(() ->
                        tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL bad_mode, DESCRIPTOR(text))"))
                .hasStackTraceContaining("error-mode");

        createModel("zero_batch", "INPUT (text STRING) OUTPUT (label STRING)", ", 'batch.max-size' = '0'");
        assertThatThrownBy(() ->
                        tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL zero_batch, DESCRIPTOR(text))"))
                .hasStackTraceContaining("'batch.max-size' must be between 1 and 65536, was 0");

        // the bounds of the DataStream options
        createModel("many_threads", "INPUT (text STRING) OUTPUT (label STRING)", ", 'dispatcher.threads' = '100000'");
        assertThatThrownBy(() ->
                        tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL many_threads, DESCRIPTOR(text))"))
                .hasStackTraceContaining("'dispatcher.threads' must be between 1 and 64, was 100000");
        createModel("one_token", "INPUT (text STRING) OUTPUT (label STRING)", ", 'batch.max-tokens' = '1'");
        assertThatThrownBy(() ->
                        tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL one_token, DESCRIPTOR(text))"))
                .hasStackTraceContaining("must be at least 2, was 1");

        // a bundle outside the roots fails the statement, not every task that would open it
        createModel(
                "outside",
                "file:///etc/models/x",
                "INPUT (text STRING) OUTPUT (label STRING)",
                ", 'model-roots' = 'file:///opt/models'");
        assertThatThrownBy(() ->
                        tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL outside, DESCRIPTOR(text))"))
                .hasStackTraceContaining("Model default_catalog.default_database.outside")
                .hasStackTraceContaining("'model-roots'");
    }

    @Test
    void theValidationListenerChecksCreateAndAlterModelAsTheyRun() throws Exception {
        Configuration conf = new Configuration();
        conf.setString("table.catalog-modification.listeners", "onnx-slm");
        StreamTableEnvironment checked = StreamTableEnvironment.create(
                StreamExecutionEnvironment.getExecutionEnvironment(),
                EnvironmentSettings.newInstance()
                        .inStreamingMode()
                        .withConfiguration(conf)
                        .build());

        String twoInputs = "CREATE TEMPORARY MODEL m INPUT (text STRING, other STRING) OUTPUT (label STRING)"
                + " WITH ('provider' = 'onnx-slm', 'model' = 'default:int8')";
        assertThatThrownBy(() -> checked.executeSql(twoInputs))
                .hasStackTraceContaining("needs exactly one STRING input column")
                .hasStackTraceContaining("INPUT (text STRING)");
        assertThat(checked.listTemporaryModels())
                .as("a rejected temporary model is not registered")
                .isEmpty();

        assertThatThrownBy(() -> checked.executeSql("CREATE TEMPORARY MODEL m INPUT (text STRING)"
                        + " OUTPUT (label STRING) WITH ('provider' = 'onnx-slm', 'model' = 'default:int8',"
                        + " 'batch.maxsize' = '8')"))
                .hasStackTraceContaining("Unsupported options")
                .hasStackTraceContaining("batch.maxsize");

        assertThatThrownBy(() -> checked.executeSql("CREATE MODEL stored INPUT (text STRING)"
                        + " OUTPUT (confidence DOUBLE) WITH ('provider' = 'onnx-slm', 'model' = 'default:int8')"))
                .hasStackTraceContaining("unsupported output column 'confidence'")
                .hasStackTraceContaining("DROP MODEL `default_catalog`.`default_database`.`stored`");
        checked.executeSql("DROP MODEL stored");

        checked.executeSql("CREATE MODEL good INPUT (text STRING) OUTPUT (label STRING)"
                + " WITH ('provider' = 'onnx-slm', 'model' = 'default:int8')");
        assertThatThrownBy(() -> checked.executeSql("CREATE MODEL IF NOT EXISTS good INPUT (text STRING)"
                        + " OUTPUT (confidence DOUBLE) WITH ('provider' = 'onnx-slm', 'model' = 'default:int8')"))
                .hasStackTraceContaining("unsupported output column 'confidence'")
                .hasStackTraceContaining("CREATE MODEL IF NOT EXISTS left it unchanged");
        assertThatThrownBy(() -> checked.executeSql("ALTER MODEL good SET ('batch.max-size' = '0')"))
                .hasStackTraceContaining("'batch.max-size' must be between 1 and 65536, was 0")
                .hasStackTraceContaining("ALTER MODEL `default_catalog`.`default_database`.`good` SET");

        // another provider's model is not this listener's business
        checked.executeSql("CREATE TEMPORARY MODEL remote INPUT (a INT, b INT) OUTPUT (c INT)"
                + " WITH ('provider' = 'openai', 'endpoint' = 'http://localhost:1')");
        assertThat(checked.listTemporaryModels()).hasSize(1);
    }

    /**
     * Every {@code sql} block of the README and docs/sql.md plans: its CREATE MODEL passes the provider's checks
     * (with the validation listener on) and its ML_PREDICT query is explained against an {@code events} table.
     */
    @Test
    void theSqlOfTheDocsPlans() throws Exception {
        Path root = Path.of("..", "..").toAbsolutePath().normalize();
        List<String> blocks = new ArrayList<>();
        for (Path doc : List.of(root.resolve("README.md"), root.resolve("docs/sql.md"))) {
            Matcher m = Pattern.compile("(?s)```sql\\n(.*?)```").matcher(Files.readString(doc));
            while (m.find()) {
                blocks.add(m.group(1));
            }
        }
        assertThat(blocks).as("sql blocks in README.md and docs/sql.md").hasSizeGreaterThanOrEqualTo(2);
        for (String block : blocks) {
            Configuration conf = new Configuration();
            conf.setString("table.catalog-modification.listeners", "onnx-slm");
            StreamTableEnvironment docs = StreamTableEnvironment.create(
                    StreamExecutionEnvironment.getExecutionEnvironment(),
                    EnvironmentSettings.newInstance()
                            .inStreamingMode()
                            .withConfiguration(conf)
                            .build());
            docs.executeSql("CREATE TABLE events (eventId STRING, accountId STRING, text STRING)"
                    + " WITH ('connector' = 'datagen', 'number-of-rows' = '1')");
            int queries = 0;
            for (String statement : block.split(";")) {
                String sql = statement.strip();
                if (sql.startsWith("CREATE MODEL")) {
                    docs.executeSql(sql);
                } else if (sql.startsWith("SELECT")) {
                    assertThat(docs.explainSql(sql)).contains("MLPredict");
                    queries++;
                } else {
                    assertThat(sql)
                            .as("a statement of the docs this test does not know")
                            .isEmpty();
                }
            }
            assertThat(queries).as("queries in the block%n%s", block).isEqualTo(1);
        }
    }

    private static Histogram histogram(JobID job, String name) {
        List<Histogram> found = new ArrayList<>();
        for (Map.Entry<String, Metric> e : REPORTER.getMetricsByIdentifiers(job).entrySet()) {
            if (e.getKey().endsWith(".slm." + name) && e.getValue() instanceof Histogram h) {
                found.add(h);
            }
        }
        assertThat(found).as("slm.%s histograms of job %s", name, job).hasSize(1);
        return found.get(0);
    }
}
