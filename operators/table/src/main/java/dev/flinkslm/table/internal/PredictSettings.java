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

    public BatchDispatcher.Settings dispatcherSettings() {
        return new BatchDispatcher.Settings(dispatcherThreads, maxRows, maxTokens);
    }
}
