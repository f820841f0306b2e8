package dev.flinkslm.table.internal;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelRoots;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.WindowOptions;
import dev.flinkslm.operators.dispatch.BatchDispatcher;
import dev.flinkslm.table.ErrorMode;
import org.apache.flink.annotation.Internal;
import org.apache.flink.table.api.ValidationException;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * Everything a predict function carries in the plan: the bundle URI and roots, options, and the output columns in
 * declared order. Never a bundle or a session: those are loaded in {@code open()} on the TaskManager.
 */
@Internal
public record PredictSettings(
        String model,
        List<String> modelRoots,
        RuntimeOptions runtime,
        int maxRows,
        long maxTokens,
        int dispatcherThreads,
        WindowOptions windows,
        Duration inferenceTimeout,
        ErrorMode errorMode,
        List<OutputColumn> columns)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    public PredictSettings {
        modelRoots = List.copyOf(modelRoots);
        columns = List.copyOf(columns);
    }

    /** Loads (and verifies) the bundle; a {@code default:} URI needs the compliance model module on the classpath. */
    public ModelBundle loadBundle() throws BundleException {
        return BundleLoader.builder().roots(ModelRoots.of(modelRoots)).build().load(model);
    }

    /**
     * Fails unless {@code inference.timeout} is set and below Flink's timeout of the async ML_PREDICT operator.
     * When Flink's fires first, Flink fails the query with a message that prints the whole input row, the
     * customer's text; this provider's own timeout gives the row its error without it.
     */
    public void checkBelowFlinkTimeout(Duration flinkTimeout, String flinkOption) {
        if (inferenceTimeout.isZero() || inferenceTimeout.compareTo(flinkTimeout) >= 0) {
            throw new ValidationException("The onnx-slm model " + model + " has 'inference.timeout' = "
                    + inferenceTimeout + ", which must be above 0 and below " + flinkOption + " (" + flinkTimeout
                    + "): when Flink's timeout fires first, Flink fails the query with a message that holds the"
                    + " input row. Lower 'inference.timeout' or raise " + flinkOption + ".");
        }
    }

    public BatchDispatcher.Settings dispatcherSettings() {
        return new BatchDispatcher.Settings(dispatcherThreads, maxRows, maxTokens);
    }
}
