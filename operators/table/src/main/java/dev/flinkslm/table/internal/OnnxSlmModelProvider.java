package dev.flinkslm.table.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.PredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.PredictRuntimeProvider;

/**
 * The {@code onnx-slm} provider of one model: sync and async predict functions over the same settings. The planner
 * picks async unless ML_PREDICT says {@code 'async' = 'false'}.
 */
@Internal
public final class OnnxSlmModelProvider implements PredictRuntimeProvider, AsyncPredictRuntimeProvider {

    private final PredictSettings settings;

    public OnnxSlmModelProvider(PredictSettings settings) {
        this.settings = settings;
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
        return new OnnxSlmAsyncPredictFunction(settings);
    }

    @Override
    public OnnxSlmModelProvider copy() {
        return new OnnxSlmModelProvider(settings);
    }
}
