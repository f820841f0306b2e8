package dev.flinkslm.table.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.api.config.ExecutionConfigOptions;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.PredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.PredictRuntimeProvider;

import java.time.Duration;
import java.util.Optional;

/**
 * The {@code onnx-slm} provider of one model: sync and async predict functions over the same settings. The planner
 * picks async unless ML_PREDICT says {@code 'async' = 'false'}.
 */
@Internal
public final class OnnxSlmModelProvider implements PredictRuntimeProvider, AsyncPredictRuntimeProvider {

    private final PredictSettings settings;
    /** The session's default of ML_PREDICT's async timeout, for queries that do not set their own. */
    private final Duration sessionTimeout;

    public OnnxSlmModelProvider(PredictSettings settings, Duration sessionTimeout) {
        this.settings = settings;
        this.sessionTimeout = sessionTimeout;
    }

    public PredictSettings settings() {
        return settings;
    }

    @Override
    public PredictFunction createPredictFunction(Context context) {
        return new OnnxSlmPredictFunction(settings);
    }

    @Override
    public AsyncPredictFunction createAsyncPredictFunction(Context context) {
        Optional<Duration> queryTimeout = context.runtimeConfig().getOptional(ML_PREDICT_TIMEOUT);
        settings.checkBelowFlinkTimeout(
                queryTimeout.orElse(sessionTimeout),
                queryTimeout.isPresent()
                        ? "ML_PREDICT's 'timeout'"
                        : "'" + ExecutionConfigOptions.TABLE_EXEC_ASYNC_ML_PREDICT_TIMEOUT.key() + "'");
        return new OnnxSlmAsyncPredictFunction(settings);
    }

    /** ML_PREDICT's own {@code 'timeout'} (its 4th argument), when the query sets it. */
    private static final ConfigOption<Duration> ML_PREDICT_TIMEOUT =
            ConfigOptions.key("timeout").durationType().noDefaultValue();

    @Override
    public OnnxSlmModelProvider copy() {
        return new OnnxSlmModelProvider(settings, sessionTimeout);
    }
}
