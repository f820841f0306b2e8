package dev.flinkslm.table.internal;

import dev.flinkslm.models.EncodedInput;
import dev.flinkslm.models.ScoringException;
import dev.flinkslm.models.SessionCache;
import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.PredictFunction;

import java.util.Collection;
import java.util.List;

/**
 * Sync ML_PREDICT: scores each row alone on the task thread (one session run per row). Meant for debugging and
 * low rates; the async function batches. Fields are the settings only; the session is leased in {@link #open}.
 *
 * <p>Threading: task thread only.
 */
@Internal
public final class OnnxSlmPredictFunction extends PredictFunction {

    private static final long serialVersionUID = 1L;

    private final PredictSettings settings;

    private transient SessionCache.Lease lease;
    private transient RowScoring scoring;
    private transient PredictMetrics metrics;

    public OnnxSlmPredictFunction(PredictSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        lease = SessionCache.shared().acquire(settings.loadBundle(), settings.runtime());
        scoring = new RowScoring(lease.session(), settings);
        metrics = new PredictMetrics(context.getMetricGroup());
    }

    @Override
    public Collection<RowData> predict(RowData input) {
        metrics.in();
        RowData out;
        try {
            EncodedInput encoded = scoring.encode(input);
            long t0 = System.nanoTime();
            try {
                out = scoring.prediction(scoring.session().score(encoded.windows()), encoded.truncated());
            } catch (ScoringException | RuntimeException e) {
                throw RowScoring.runFailure(e);
            }
            metrics.ran(encoded.windowCount(), System.nanoTime() - t0, 0);
            metrics.truncated(encoded.truncated());
            metrics.out(false);
        } catch (RowScoring.RowFailure failure) {
            metrics.out(true);
            out = scoring.failure(failure); // error mode FAIL: throws, failing the query
        }
        return List.of(out);
    }

    @Override
    public void close() {
        if (lease != null) {
            lease.close();
            lease = null;
        }
    }
}
