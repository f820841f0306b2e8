package dev.flinkslm.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.models.TinyBundles;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The onnx-slm provider fails closed, with generated models: a model output that is not a distribution, a text
 * that was not read to its end, a row not scored in time and a failed query never give a label or leak the text;
 * a cancelled job with rows in the dispatcher leaves no lease and no thread behind.
 */
class OnnxSlmFailClosedITCase {

    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();
    private static final RuntimeOptions RUNTIME = RuntimeOptions.defaults();
    private static final String SECRET = "my secret account 4711";

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                    .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2)
                    .build());

    @TempDir
    static Path tmp;

    /** NaN output for every run that holds the word "zebra". */
    private static ModelBundle nan;
    /** About 80 ms per run. */
    private static ModelBundle slow;

    @BeforeAll
    static void bundles() throws Exception {
        Path fine = TinyBundles.write(tmp.resolve("fine"), new TinyBundles.Spec().id("fine"));
        long zebra;
        try (SessionCache.Lease probe =
                SessionCache.shared().acquire(BundleLoader.verify(fine.toUri(), fine, null), RUNTIME)) {
            zebra = probe.session().encode("zebra").ids()[1];
        }
        nan = bundle(new TinyBundles.Spec()
                .id("nan")
                .badOutput(TinyBundles.BadOutput.NAN)
                .badOnTokenId(zebra));
        slow = bundle(new TinyBundles.Spec().id("slow").slow(300));
    }

    private static ModelBundle bundle(TinyBundles.Spec spec) throws Exception {
        Path dir = TinyBundles.write(tmp.resolve(spec.id), spec);
        return BundleLoader.verify(dir.toUri(), dir, null);
    }

    private static StreamTableEnvironment tEnv(int parallelism) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        return StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
    }

    private static void model(StreamTableEnvironment tEnv, ModelBundle bundle, String output, String options) {
        tEnv.executeSql("CREATE TEMPORARY MODEL m INPUT (text STRING) OUTPUT (" + output + ") WITH ('provider' ="
                + " 'onnx-slm', 'model' = '" + bundle.uri() + "', 'model-roots' = '" + tmp.toUri() + "'" + options
                + ")");
    }

    private static List<Row> collect(TableResult result) throws Exception {
        List<Row> rows = new ArrayList<>(SqlTests.collect(result));
        rows.sort(Comparator.comparingInt(r -> (Integer) r.getField("id")));
        return rows;
    }

    @Test
    void hostileTextsGetOneRowEachAndAnUnreadTailNeverAPlainLabel() throws Exception {
        List<String> texts = List.of(
                "the zebra crossed the road", // the trigger is scored: MODEL_OUTPUT_INVALID
                "hello ".repeat(5000) + "zebra", // the trigger lies beyond the windows scored
                "",
                "   ",
                "Überweisung 💸 an 账户 \u0000 \uD800 end",
                "x".repeat(2_000_000));
        for (boolean flagged : List.of(false, true)) {
            StreamTableEnvironment tEnv = tEnv(1);
            SqlTests.events(tEnv, texts);
            model(
                    tEnv,
                    nan,
                    "label STRING, score DOUBLE, error STRING, error_reason STRING"
                            + (flagged ? ", truncated BOOLEAN" : ""),
                    ", 'error-mode' = 'ERROR_COLUMNS', 'text.max-windows' = '4'");
            for (String async : List.of("true", "false")) {
                String what = "async=" + async + " truncated column=" + flagged;
                List<Row> rows = collect(tEnv.executeSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL m,"
                        + " DESCRIPTOR(text), MAP['async', '" + async + "'])"));
                assertThat(rows).as("one row per input, %s", what).hasSize(texts.size());
                assertThat(rows.get(0).getField("error_reason")).isEqualTo("MODEL_OUTPUT_INVALID");
                assertThat(rows.get(0).getField("label")).isNull();
                Row unread = rows.get(1);
                if (flagged) {
                    assertThat(unread.getField("label")).as(what).isNotNull();
                    assertThat(unread.getField("truncated")).as(what).isEqualTo(true);
                } else {
                    assertThat(unread.getField("label")).as(what).isNull();
                    assertThat(unread.getField("error_reason")).as(what).isEqualTo("TEXT_TRUNCATED");
                    assertThat((String) unread.getField("error")).contains("'truncated BOOLEAN'");
                }
                for (int i = 2; i < 5; i++) {
                    assertThat(rows.get(i).getField("error_reason"))
                            .as("row %d, %s", i, what)
                            .isNull();
                    assertThat(rows.get(i).getField("label")).isNotNull();
                    if (flagged) {
                        assertThat(rows.get(i).getField("truncated")).isEqualTo(false);
                    }
                }
            }
        }
    }

    /**
     * Error mode FAIL, from a source whose rows print their fields (a DataStream, as Kafka and JSON sources give):
     * the query fails with the reason, and neither the failure nor any log line at INFO or above holds the text.
     */
    @Test
    void aFailedQueryCarriesTheReasonButNeverTheText() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            rows.add(Row.of(i, i == 17 ? SECRET + " zebra" : "an ordinary message number " + i));
        }
        tEnv.createTemporaryView(
                "events",
                tEnv.fromDataStream(
                        env.fromData(rows, Types.ROW_NAMED(new String[] {"id", "text"}, Types.INT, Types.STRING))));
        model(tEnv, nan, "label STRING", "");
        try (LogCapture logs = LogCapture.atInfo()) {
            for (String async : List.of("true", "false")) {
                Throwable failure = null;
                try {
                    collect(tEnv.executeSql("SELECT id, label FROM ML_PREDICT(TABLE events, MODEL m,"
                            + " DESCRIPTOR(text), MAP['async', '" + async + "'])"));
                } catch (Exception e) {
                    failure = e;
                }
                assertThat(failure).as("async=%s: the query failed", async).isNotNull();
                assertThat(ExceptionUtils.stringifyException(failure))
                        .as("async=%s", async)
                        .contains("MODEL_OUTPUT_INVALID")
                        .contains("'error-mode' = 'ERROR_COLUMNS'")
                        .doesNotContain("secret");
            }
            assertThat(logs.lines())
                    .as("log lines of the failing queries")
                    .anyMatch(l -> l.contains("MODEL_OUTPUT_INVALID"))
                    .noneMatch(l -> l.contains("secret"));
        }
    }

    @Test
    void aFlinkTimeoutThatWouldFireFirstIsRefused() {
        StreamTableEnvironment tEnv = tEnv(1);
        SqlTests.events(tEnv, List.of("a text"));
        model(tEnv, nan, "label STRING", "");
        assertThatThrownBy(() -> tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL m, DESCRIPTOR(text),"
                        + " MAP['timeout', '10 s'])"))
                .hasStackTraceContaining("'inference.timeout' = PT30S, which must be above 0 and below"
                        + " ML_PREDICT's 'timeout' (PT10S)");
        tEnv.getConfig().set("table.exec.async-ml-predict.timeout", "20 s");
        assertThatThrownBy(() -> tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL m, DESCRIPTOR(text))"))
                .hasStackTraceContaining("below 'table.exec.async-ml-predict.timeout' (PT20S)");
        // the sync path has no timeout of its own
        assertThat(tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL m, DESCRIPTOR(text),"
                        + " MAP['async', 'false'])"))
                .contains("MLPredict");
    }

    @Test
    void aRowNotScoredInTimeIsATimeoutRowAndALateResultIsIgnored() throws Exception {
        List<String> texts = TinyBundles.sampleTexts(20);
        StreamTableEnvironment tEnv = tEnv(1);
        SqlTests.events(tEnv, texts);
        model(
                tEnv,
                slow,
                "label STRING, error STRING, error_reason STRING",
                ", 'error-mode' = 'ERROR_COLUMNS', 'inference.timeout' = '20 ms', 'batch.max-size' = '1',"
                        + " 'dispatcher.threads' = '1'");
        TableResult result = tEnv.executeSql("SELECT id, label, error, error_reason FROM ML_PREDICT(TABLE events,"
                + " MODEL m, DESCRIPTOR(text), MAP['max-concurrent-operations', '20'])");
        JobID job = result.getJobClient().orElseThrow().getJobID();
        List<Row> rows = collect(result);
        // the runs that had taken a row finish after the timeout; once the job has closed, none is left
        awaitNoLease(slow);

        assertThat(rows).hasSize(texts.size());
        assertThat(rows.stream().map(r -> r.getField("id")).distinct().count()).isEqualTo(texts.size());
        long timedOut = rows.stream()
                .filter(r -> "INFERENCE_TIMEOUT".equals(r.getField("error_reason")))
                .count();
        assertThat(timedOut).isPositive();
        rows.stream()
                .filter(r -> "INFERENCE_TIMEOUT".equals(r.getField("error_reason")))
                .forEach(r -> assertThat(r.getField("label")).isNull());
        assertThat(counter(job, "recordsOut")).isEqualTo(texts.size());
        assertThat(counter(job, "timeouts")).isEqualTo(timedOut);
        assertThat(counter(job, "deadLettered")).isEqualTo(timedOut);
    }

    @Test
    void cancellingWithRowsInTheDispatcherLeavesNoLeaseAndNoThread() throws Exception {
        StreamTableEnvironment tEnv = tEnv(2);
        tEnv.executeSql("CREATE TEMPORARY TABLE src (id BIGINT, text STRING) WITH ('connector' = 'datagen',"
                + " 'rows-per-second' = '500', 'fields.text.length' = '40')");
        tEnv.executeSql("CREATE TEMPORARY TABLE sink (id BIGINT, label STRING) WITH ('connector' = 'blackhole')");
        model(tEnv, slow, "label STRING", "");
        TableResult result = tEnv.executeSql("INSERT INTO sink SELECT id, label FROM ML_PREDICT(TABLE src, MODEL m,"
                + " DESCRIPTOR(text), MAP['output-mode', 'ALLOW_UNORDERED', 'max-concurrent-operations', '200'])");
        JobClient client = result.getJobClient().orElseThrow();
        JobID job = client.getJobID();
        // a slow model at 500 rows/s: rows pile up in the dispatcher
        await(() -> counter(job, "recordsIn") - counter(job, "recordsOut") > 50, "rows waiting in the dispatcher");
        assertThat(SessionCache.shared().references(slow, RUNTIME)).isEqualTo(2);

        client.cancel().get(30, TimeUnit.SECONDS);
        await(() -> status(client).isGloballyTerminalState(), "the job to end");
        assertThat(status(client)).isEqualTo(JobStatus.CANCELED);
        awaitNoLease(slow);
        await(
                () -> liveThreads("slm-dispatcher-").isEmpty()
                        && liveThreads("slm-sql-timeouts").isEmpty(),
                "no dispatcher or timeout thread left, found " + liveThreads("slm-"));
    }

    private static JobStatus status(JobClient client) {
        try {
            return client.getJobStatus().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The sum over the subtasks of an slm counter of the job. */
    private static long counter(JobID job, String name) {
        long sum = 0;
        for (Map.Entry<MetricGroup, Map<String, Metric>> e :
                REPORTER.getMetricsByGroup().entrySet()) {
            String[] scope = e.getKey().getScopeComponents();
            if (job.toString().equals(e.getKey().getAllVariables().get("<job_id>"))
                    && "slm".equals(scope[scope.length - 1])
                    && e.getValue().get(name) instanceof Counter c) {
                sum += c.getCount();
            }
        }
        return sum;
    }

    private static List<String> liveThreads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(prefix))
                .map(Thread::getName)
                .toList();
    }

    private static void awaitNoLease(ModelBundle b) throws InterruptedException {
        await(() -> SessionCache.shared().references(b, RUNTIME) == 0, "no lease of " + b.id() + " left");
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited 60 s for %s", what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
