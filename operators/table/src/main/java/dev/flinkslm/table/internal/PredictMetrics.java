package dev.flinkslm.table.internal;

import dev.flinkslm.operators.ScoringMetricNames;
import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import java.util.concurrent.TimeUnit;

/**
 * Metrics of one predict function instance, under the {@code slm} group with the DataStream operator's names:
 * {@code coalescedBatchSize} is the row count of each joint session run a row took part in (above 1 when rows of
 * several ML_PREDICT calls were scored together), {@code deadLettered} counts rows that could not be scored (error
 * rows, or the row that failed the query), {@code truncatedRecords} rows scored on their first windows only.
 *
 * <p>Threading: Flink's simple counters and histograms are not thread-safe, and the async function updates them
 * from the task thread and dispatcher workers, so every update goes through a synchronized method.
 */
@Internal
final class PredictMetrics {

    private static final int WINDOW = 1024;

    private final Counter recordsIn;
    private final Counter recordsOut;
    private final Counter errorRows;
    private final Counter timeouts;
    private final Counter truncatedRecords;
    private final Histogram coalescedBatchSize;
    private final Histogram inferenceMs;
    private final Histogram dispatcherQueueMs;

    PredictMetrics(MetricGroup functionGroup) {
        MetricGroup g = functionGroup.addGroup(ScoringMetricNames.GROUP);
        recordsIn = g.counter(ScoringMetricNames.RECORDS_IN);
        recordsOut = g.counter(ScoringMetricNames.RECORDS_OUT);
        errorRows = g.counter(ScoringMetricNames.DEAD_LETTERED);
        timeouts = g.counter(ScoringMetricNames.TIMEOUTS);
        truncatedRecords = g.counter(ScoringMetricNames.TRUNCATED_RECORDS);
        coalescedBatchSize =
                g.histogram(ScoringMetricNames.COALESCED_BATCH_SIZE, new DescriptiveStatisticsHistogram(WINDOW));
        inferenceMs = g.histogram(ScoringMetricNames.INFERENCE_MS, new DescriptiveStatisticsHistogram(WINDOW));
        dispatcherQueueMs =
                g.histogram(ScoringMetricNames.DISPATCHER_QUEUE_MS, new DescriptiveStatisticsHistogram(WINDOW));
    }

    synchronized void in() {
        recordsIn.inc();
    }

    /** One output row, an error row when {@code error}. */
    synchronized void out(boolean error) {
        recordsOut.inc();
        if (error) {
            errorRows.inc();
        }
    }

    synchronized void timeout() {
        timeouts.inc();
    }

    /** A scored row; {@code truncated} when it was scored on its first windows only. */
    synchronized void truncated(boolean truncated) {
        if (truncated) {
            truncatedRecords.inc();
        }
    }

    synchronized void ran(int jointRows, long runNanos, long queuedNanos) {
        coalescedBatchSize.update(jointRows);
        inferenceMs.update(TimeUnit.NANOSECONDS.toMillis(runNanos));
        dispatcherQueueMs.update(TimeUnit.NANOSECONDS.toMillis(queuedNanos));
    }
}
