package dev.flinkslm.table;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.ModelRoots;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.WindowOptions;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.table.internal.OnnxSlmModelProvider;
import dev.flinkslm.table.internal.OutputColumn;
import dev.flinkslm.table.internal.PredictSettings;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.api.config.ExecutionConfigOptions;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code onnx-slm} model provider: scores a STRING column with a flink-slm bundle in ML_PREDICT.
 *
 * <pre>{@code
 * CREATE MODEL compliance
 *   INPUT (text STRING)
 *   OUTPUT (label STRING, score DOUBLE, model_version STRING, error STRING, error_reason STRING)
 *   WITH ('provider' = 'onnx-slm', 'model' = 'default:int8', 'error-mode' = 'ERROR_COLUMNS');
 * }</pre>
 *
 * <p>The model needs exactly one STRING input column; output columns are any of {@link OutputColumn} in any order.
 * Options: {@link OnnxSlmOptions}. Flink calls {@link #createModelProvider} when a query that uses the model is
 * planned, so schema and option errors surface there, or already at CREATE MODEL with the
 * {@link OnnxSlmModelValidation} listener enabled. Only URIs and options go into the plan; bundles are loaded on
 * the TaskManagers.
 *
 * <p>Threading: stateless; Flink may call it from any thread.
 */
@PublicEvolving
public final class OnnxSlmModelProviderFactory implements ModelProviderFactory {

    public static final String IDENTIFIER = "onnx-slm";

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(OnnxSlmOptions.MODEL);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(
                OnnxSlmOptions.MODEL_ROOTS,
                OnnxSlmOptions.PROVIDER,
                OnnxSlmOptions.CUDA_DEVICE,
                OnnxSlmOptions.STRICT_PROVIDER,
                OnnxSlmOptions.INTRA_OP_THREADS,
                OnnxSlmOptions.MAX_BATCH_SIZE,
                OnnxSlmOptions.MAX_BATCH_TOKENS,
                OnnxSlmOptions.DISPATCHER_THREADS,
                OnnxSlmOptions.WINDOW_STRIDE,
                OnnxSlmOptions.MAX_WINDOWS,
                OnnxSlmOptions.INFERENCE_TIMEOUT,
                OnnxSlmOptions.ERROR_MODE);
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        FactoryUtil.ModelProviderFactoryHelper helper = FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validate();
        ReadableConfig options = helper.getOptions();
        String model = context.getObjectIdentifier().asSummaryString();
        ResolvedCatalogModel catalogModel = context.getCatalogModel();
        checkInput(model, catalogModel.getResolvedInputSchema());
        ErrorMode errorMode = options.get(OnnxSlmOptions.ERROR_MODE);
        List<OutputColumn> columns = checkOutput(model, catalogModel.getResolvedOutputSchema(), errorMode);

        int maxRows = between(model, OnnxSlmOptions.MAX_BATCH_SIZE, options, 1, ScoringConfig.MAX_BATCH_ROWS);
        int maxTokens = between(
                model, OnnxSlmOptions.MAX_BATCH_TOKENS, options, ScoringConfig.MIN_BATCH_TOKENS, Integer.MAX_VALUE);
        int threads =
                between(model, OnnxSlmOptions.DISPATCHER_THREADS, options, 1, ScoringConfig.MAX_DISPATCHER_THREADS);
        int maxWindows = between(model, OnnxSlmOptions.MAX_WINDOWS, options, 1, ScoringConfig.MAX_WINDOWS_PER_TEXT);
        int stride = between(model, OnnxSlmOptions.WINDOW_STRIDE, options, 0, Integer.MAX_VALUE);
        if (options.get(OnnxSlmOptions.INFERENCE_TIMEOUT).toMillis() < 1) {
            throw new ValidationException("Model " + model + ": '" + OnnxSlmOptions.INFERENCE_TIMEOUT.key()
                    + "' must be at least 1 ms, was " + options.get(OnnxSlmOptions.INFERENCE_TIMEOUT));
        }
        String uri = options.get(OnnxSlmOptions.MODEL);
        if (uri.isBlank()) {
            throw new ValidationException("Model " + model + ": '" + OnnxSlmOptions.MODEL.key()
                    + "' is empty; give a bundle URI such as 'default:int8' or 'file:/opt/models/my-bundle'.");
        }
        List<String> roots = options.getOptional(OnnxSlmOptions.MODEL_ROOTS).orElse(List.of());
        checkAllowed(model, uri, roots);
        RuntimeOptions runtime;
        try {
            runtime = new RuntimeOptions(
                    options.get(OnnxSlmOptions.PROVIDER),
                    options.get(OnnxSlmOptions.CUDA_DEVICE),
                    options.get(OnnxSlmOptions.INTRA_OP_THREADS),
                    RuntimeOptions.Optimization.ALL,
                    options.get(OnnxSlmOptions.STRICT_PROVIDER));
        } catch (IllegalArgumentException e) {
            throw new ValidationException("Model " + model + ": " + e.getMessage() + " (options '"
                    + OnnxSlmOptions.CUDA_DEVICE.key() + "', '" + OnnxSlmOptions.INTRA_OP_THREADS.key() + "').");
        }
        PredictSettings settings = new PredictSettings(
                uri,
                roots,
                runtime,
                maxRows,
                maxTokens,
                threads,
                new WindowOptions(stride, maxWindows),
                options.get(OnnxSlmOptions.INFERENCE_TIMEOUT),
                errorMode,
                columns);
        return new OnnxSlmModelProvider(
                settings, context.getConfiguration().get(ExecutionConfigOptions.TABLE_EXEC_ASYNC_ML_PREDICT_TIMEOUT));
    }

    private static void checkInput(String model, ResolvedSchema input) {
        List<Column> columns = input.getColumns();
        if (columns.size() != 1
                || columns.get(0).getDataType().getLogicalType().getTypeRoot() != LogicalTypeRoot.VARCHAR) {
            throw new ValidationException("Model " + model + " (provider '" + IDENTIFIER
                    + "') needs exactly one STRING input column, the text to score, but its INPUT is ("
                    + describe(columns) + "). Declare INPUT (text STRING) and name the text column in"
                    + " ML_PREDICT's DESCRIPTOR(...).");
        }
    }

    private static List<OutputColumn> checkOutput(String model, ResolvedSchema output, ErrorMode errorMode) {
        List<OutputColumn> columns = new ArrayList<>();
        for (Column column : output.getColumns()) {
            OutputColumn known = OutputColumn.named(column.getName())
                    .orElseThrow(() -> new ValidationException("Model " + model + " (provider '" + IDENTIFIER
                            + "') has an unsupported output column '" + column.getName() + "'. Output columns"
                            + " must be taken from: " + OutputColumn.allowed() + "."));
            LogicalType type = column.getDataType().getLogicalType();
            if (!known.accepts(type)) {
                throw new ValidationException("Model " + model + ": output column '" + column.getName() + "' is "
                        + column.getDataType() + " but must be "
                        + known.type().getLogicalType().asSummaryString() + ".");
            }
            if (!type.isNullable() && !known.mayBeNotNull()) {
                throw new ValidationException("Model " + model + ": output column '" + column.getName()
                        + "' is declared NOT NULL, but it is null on rows that cannot be scored. Declare it"
                        + " without NOT NULL (only model_id and model_version may be NOT NULL).");
            }
            columns.add(known);
        }
        if (columns.stream().noneMatch(OutputColumn::isPrediction)) {
            throw new ValidationException("Model " + model + " (provider '" + IDENTIFIER + "') has no prediction"
                    + " in its OUTPUT: declare at least one of label STRING, score DOUBLE, probabilities"
                    + " MAP<STRING, DOUBLE>.");
        }
        if (errorMode == ErrorMode.ERROR_COLUMNS) {
            EnumSet<OutputColumn> missing = EnumSet.of(OutputColumn.ERROR, OutputColumn.ERROR_REASON);
            columns.forEach(missing::remove);
            if (!missing.isEmpty()) {
                throw new ValidationException("Model " + model + " has '" + OnnxSlmOptions.ERROR_MODE.key()
                        + "' = 'ERROR_COLUMNS' but its OUTPUT lacks "
                        + missing.stream().map(c -> c.column() + " STRING").toList()
                        + ". Add them to the OUTPUT, or use 'error-mode' = 'FAIL'.");
            }
        }
        return columns;
    }

    private static int between(String model, ConfigOption<Integer> option, ReadableConfig options, int min, int max) {
        int value = options.get(option);
        if (value < min || value > max) {
            throw new ValidationException("Model " + model + ": '" + option.key() + "' must be "
                    + (max == Integer.MAX_VALUE ? "at least " + min : "between " + min + " and " + max) + ", was "
                    + value + ".");
        }
        return value;
    }

    /**
     * The same location check the loader makes on the TaskManagers, so that a model outside the roots fails the
     * statement instead of every task that opens it.
     */
    private static void checkAllowed(String model, String uri, List<String> roots) {
        try {
            ModelRoots.of(roots).check(ModelRoots.parse(uri));
        } catch (IllegalArgumentException | BundleException e) {
            throw new ValidationException("Model " + model + ": " + e.getMessage() + ". Check '"
                    + OnnxSlmOptions.MODEL.key() + "' and '" + OnnxSlmOptions.MODEL_ROOTS.key() + "'.");
        }
    }

    private static String describe(List<Column> columns) {
        return String.join(
                ", ",
                columns.stream().map(c -> c.getName() + " " + c.getDataType()).toList());
    }
}
