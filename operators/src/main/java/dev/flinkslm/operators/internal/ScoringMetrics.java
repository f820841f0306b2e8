package dev.flinkslm.operators.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import java.util.function.IntSupplier;
import java.util.function.Supplier;

/** The operator's metrics, registered under the {@value #GROUP} group of the operator. */
@Internal
public final class ScoringMetrics {

    public static final String GROUP = "slm";
    public static final String RECORDS_IN = "recordsIn";
    public static final String RECORDS_OUT = "recordsOut";
    public static final String DEAD_LETTERED = "deadLettered";
    public static final String RETRIES = "retries";
    public static final String TIMEOUTS = "timeouts";
    public static final String MODEL_OUTPUT_INVALID = "modelOutputInvalid";
    public static final String TRUNCATED_RECORDS = "truncatedRecords";
    public static final String BATCHES = "batches";
    public static final String LATENCY_BUDGET_FLUSHES = "latencyBudgetFlushes";
    public static final String BATCH_SIZE = "batchSize";
    public static final String BATCH_TOKENS = "batchTokens";
    public static final String QUEUE_WAIT_MS = "queueWaitMs";
    public static final String COALESCED_BATCH_SIZE = "coalescedBatchSize";
    public static final String DISPATCHER_QUEUE_MS = "dispatcherQueueMs";
    public static final String INFERENCE_MS = "inferenceMs";
    public static final String IN_FLIGHT_BATCHES = "inFlightBatches";
    public static final String BUFFERED_RECORDS = "bufferedRecords";
    public static final String EXECUTION_PROVIDER = "executionProvider";
    public static final String MODEL_VERSION = "modelVersion";

    private static final int WINDOW = 1024;

    final Counter recordsIn;
    final Counter recordsOut;
    final Counter deadLettered;
    final Counter retries;
    final Counter timeouts;
    final Counter modelOutputInvalid;
    final Counter truncatedRecords;
    final Counter batches;
    final Counter latencyBudgetFlushes;
    final Histogram batchSize;
    final Histogram batchTokens;
    final Histogram queueWaitMs;
    final Histogram inferenceMs;
    final Histogram coalescedBatchSize;
    final Histogram dispatcherQueueMs;

    ScoringMetrics(
            MetricGroup operatorGroup,
            IntSupplier inFlight,
            IntSupplier buffered,
            Supplier<String> provider,
            Supplier<String> modelVersion) {
        MetricGroup g = operatorGroup.addGroup(GROUP);
        recordsIn = g.counter(RECORDS_IN);
        recordsOut = g.counter(RECORDS_OUT);
        deadLettered = g.counter(DEAD_LETTERED);
        retries = g.counter(RETRIES);
        timeouts = g.counter(TIMEOUTS);
        modelOutputInvalid = g.counter(MODEL_OUTPUT_INVALID);
        truncatedRecords = g.counter(TRUNCATED_RECORDS);
        batches = g.counter(BATCHES);
        latencyBudgetFlushes = g.counter(LATENCY_BUDGET_FLUSHES);
        batchSize = g.histogram(BATCH_SIZE, new DescriptiveStatisticsHistogram(WINDOW));
        batchTokens = g.histogram(BATCH_TOKENS, new DescriptiveStatisticsHistogram(WINDOW));
        queueWaitMs = g.histogram(QUEUE_WAIT_MS, new DescriptiveStatisticsHistogram(WINDOW));
        inferenceMs = g.histogram(INFERENCE_MS, new DescriptiveStatisticsHistogram(WINDOW));
        coalescedBatchSize = g.histogram(COALESCED_BATCH_SIZE, new DescriptiveStatisticsHistogram(WINDOW));
        dispatcherQueueMs = g.histogram(DISPATCHER_QUEUE_MS, new DescriptiveStatisticsHistogram(WINDOW));
        g.gauge(IN_FLIGHT_BATCHES, (Gauge<Integer>) inFlight::getAsInt);
        g.gauge(BUFFERED_RECORDS, (Gauge<Integer>) buffered::getAsInt);
        g.gauge(EXECUTION_PROVIDER, (Gauge<String>) provider::get);
        g.gauge(MODEL_VERSION, (Gauge<String>) modelVersion::get);
    }
}
