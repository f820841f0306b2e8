package dev.flinkslm.operators;

import org.apache.flink.annotation.PublicEvolving;

/**
 * Names of the metrics of the scoring operators and of the SQL model functions, in the {@value #GROUP} group:
 * dashboards and alerts can rely on them.
 */
@PublicEvolving
public final class ScoringMetricNames {

    private ScoringMetricNames() {}

    /** The metric group, under the operator's (or the ML_PREDICT function's) group. */
    public static final String GROUP = "slm";

    /** Counter: elements (rows) received. */
    public static final String RECORDS_IN = "recordsIn";

    /** Counter: results emitted (with SQL error rows included). */
    public static final String RECORDS_OUT = "recordsOut";

    /** Counter: elements that could not be scored (dead letters; error rows in SQL). */
    public static final String DEAD_LETTERED = "deadLettered";

    /** Counter: batch retries. */
    public static final String RETRIES = "retries";

    /** Counter: runs (SQL: rows) that timed out. */
    public static final String TIMEOUTS = "timeouts";

    /** Counter: batches whose model output was not a probability distribution. */
    public static final String MODEL_OUTPUT_INVALID = "modelOutputInvalid";

    /** Counter: texts scored on their first windows only. */
    public static final String TRUNCATED_RECORDS = "truncatedRecords";

    /** Counter: batches run. */
    public static final String BATCHES = "batches";

    /** Counter: batches sealed early to meet slm.batch.latency-budget. */
    public static final String LATENCY_BUDGET_FLUSHES = "latencyBudgetFlushes";

    /** Histogram: rows per batch. */
    public static final String BATCH_SIZE = "batchSize";

    /** Histogram: padded tokens per batch. */
    public static final String BATCH_TOKENS = "batchTokens";

    /** Histogram: time from arrival to the start of the element's run. */
    public static final String QUEUE_WAIT_MS = "queueWaitMs";

    /** Histogram: rows of each joint run of the batch dispatcher a batch (SQL: a row) took part in. */
    public static final String COALESCED_BATCH_SIZE = "coalescedBatchSize";

    /** Histogram: time a request waited for a dispatcher thread. */
    public static final String DISPATCHER_QUEUE_MS = "dispatcherQueueMs";

    /** Histogram: session run time. */
    public static final String INFERENCE_MS = "inferenceMs";

    /** Gauge: batches running. */
    public static final String IN_FLIGHT_BATCHES = "inFlightBatches";

    /** Gauge: elements held by the operator. */
    public static final String BUFFERED_RECORDS = "bufferedRecords";

    /** Gauge: the execution provider the session runs on (CPU or CUDA). */
    public static final String EXECUTION_PROVIDER = "executionProvider";

    /** Gauge: the model version served. */
    public static final String MODEL_VERSION = "modelVersion";
}
