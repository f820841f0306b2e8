package dev.flinkslm.operators.internal;

import dev.flinkslm.operators.ScoringMetricNames;
import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import java.util.function.IntSupplier;
import java.util.function.Supplier;

/** The operator's metrics, registered under the {@value ScoringMetricNames#GROUP} group of the operator. */
@Internal
public final class ScoringMetrics {

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
        MetricGroup g = operatorGroup.addGroup(ScoringMetricNames.GROUP);
        recordsIn = g.counter(ScoringMetricNames.RECORDS_IN);
        recordsOut = g.counter(ScoringMetricNames.RECORDS_OUT);
        deadLettered = g.counter(ScoringMetricNames.DEAD_LETTERED);
        retries = g.counter(ScoringMetricNames.RETRIES);
        timeouts = g.counter(ScoringMetricNames.TIMEOUTS);
        modelOutputInvalid = g.counter(ScoringMetricNames.MODEL_OUTPUT_INVALID);
        truncatedRecords = g.counter(ScoringMetricNames.TRUNCATED_RECORDS);
        batches = g.counter(ScoringMetricNames.BATCHES);
        latencyBudgetFlushes = g.counter(ScoringMetricNames.LATENCY_BUDGET_FLUSHES);
        batchSize = g.histogram(ScoringMetricNames.BATCH_SIZE, new DescriptiveStatisticsHistogram(WINDOW));
        batchTokens = g.histogram(ScoringMetricNames.BATCH_TOKENS, new DescriptiveStatisticsHistogram(WINDOW));
        queueWaitMs = g.histogram(ScoringMetricNames.QUEUE_WAIT_MS, new DescriptiveStatisticsHistogram(WINDOW));
        inferenceMs = g.histogram(ScoringMetricNames.INFERENCE_MS, new DescriptiveStatisticsHistogram(WINDOW));
        coalescedBatchSize =
                g.histogram(ScoringMetricNames.COALESCED_BATCH_SIZE, new DescriptiveStatisticsHistogram(WINDOW));
        dispatcherQueueMs =
                g.histogram(ScoringMetricNames.DISPATCHER_QUEUE_MS, new DescriptiveStatisticsHistogram(WINDOW));
        g.gauge(ScoringMetricNames.IN_FLIGHT_BATCHES, (Gauge<Integer>) inFlight::getAsInt);
        g.gauge(ScoringMetricNames.BUFFERED_RECORDS, (Gauge<Integer>) buffered::getAsInt);
        g.gauge(ScoringMetricNames.EXECUTION_PROVIDER, (Gauge<String>) provider::get);
        g.gauge(ScoringMetricNames.MODEL_VERSION, (Gauge<String>) modelVersion::get);
    }
}
