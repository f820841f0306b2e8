package dev.flinkslm.table;

import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.operators.ScoringOptions;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;
import java.util.List;

/**
 * Options of {@code CREATE MODEL ... WITH ('provider' = 'onnx-slm', ...)}. They mirror the DataStream options of
 * {@link ScoringOptions} without the {@code slm.} prefix, with the same defaults and bounds. One difference: the
 * batch caps ({@code batch.max-size}, {@code batch.max-tokens}) cap the joint runs of the TaskManager's batch
 * dispatcher, which in the DataStream API are capped by {@code slm.dispatcher.max-batch-*}, because SQL rows
 * reach the dispatcher one by one.
 */
@PublicEvolving
public final class OnnxSlmOptions {

    private OnnxSlmOptions() {}

    public static final ConfigOption<String> MODEL = ConfigOptions.key("model")
            .stringType()
            .noDefaultValue()
            .withDescription("Bundle URI of the model (required): a bundle directory or .zip (file:), or a URI of a"
                    + " registered fetcher, such as default:int8 / default:fp32 of the compliance model module"
                    + " (flink-slm-compliance-model, which must then be on the TaskManagers' classpath).");

    public static final ConfigOption<List<String>> MODEL_ROOTS = ConfigOptions.key("model-roots")
            .stringType()
            .asList()
            .noDefaultValue()
            .withDescription("Locations bundles may be loaded from (URIs or paths, separated by ';'). A model URI"
                    + " outside every root is rejected. The built-in default: bundles are always allowed.");

    public static final ConfigOption<ExecutionProvider> PROVIDER = ConfigOptions.key("runtime.provider")
            .enumType(ExecutionProvider.class)
            .defaultValue(ScoringOptions.PROVIDER.defaultValue())
            .withDescription("ONNX Runtime execution provider: CPU, CUDA or AUTO (CUDA when the build has it and it"
                    + " initialises, else CPU).");

    public static final ConfigOption<Integer> CUDA_DEVICE = ConfigOptions.key("runtime.cuda-device")
            .intType()
            .defaultValue(ScoringOptions.CUDA_DEVICE.defaultValue())
            .withDescription("CUDA device ordinal.");

    public static final ConfigOption<Boolean> STRICT_PROVIDER = ConfigOptions.key("runtime.strict")
            .booleanType()
            .defaultValue(ScoringOptions.STRICT_PROVIDER.defaultValue())
            .withDescription("Fail when CUDA is requested but cannot be used, instead of falling back to CPU.");

    public static final ConfigOption<Integer> INTRA_OP_THREADS = ConfigOptions.key("runtime.intra-op-threads")
            .intType()
            .defaultValue(ScoringOptions.INTRA_OP_THREADS.defaultValue())
            .withDescription("Threads ONNX Runtime uses inside one run. Parallelism across runs comes from"
                    + " 'dispatcher.threads' (async path).");

    public static final ConfigOption<Integer> MAX_BATCH_SIZE = ConfigOptions.key("batch.max-size")
            .intType()
            .defaultValue(ScoringOptions.MAX_BATCH_SIZE.defaultValue())
            .withDescription("Most rows (text windows) in one joint run of the TaskManager's batch dispatcher. The"
                    + " async path joins rows of all concurrent ML_PREDICT calls of this TaskManager, so at most"
                    + " 'max-concurrent-operations' (ML_PREDICT option) rows per subtask can join one run.");

    public static final ConfigOption<Integer> MAX_BATCH_TOKENS = ConfigOptions.key("batch.max-tokens")
            .intType()
            .defaultValue(ScoringOptions.MAX_BATCH_TOKENS.defaultValue())
            .withDescription("Most padded tokens (rows x longest row) in one joint run of the batch dispatcher.");

    public static final ConfigOption<Integer> DISPATCHER_THREADS = ConfigOptions.key("dispatcher.threads")
            .intType()
            .defaultValue(ScoringOptions.DISPATCHER_THREADS.defaultValue())
            .withDescription("Joint runs at once per TaskManager (per setting of the batch caps), async path only.");

    public static final ConfigOption<Integer> WINDOW_STRIDE = ConfigOptions.key("text.window-stride")
            .intType()
            .defaultValue(ScoringOptions.WINDOW_STRIDE.defaultValue())
            .withDescription("Tokens shared by consecutive windows of a text longer than the model's window.");

    public static final ConfigOption<Integer> MAX_WINDOWS = ConfigOptions.key("text.max-windows")
            .intType()
            .defaultValue(ScoringOptions.MAX_WINDOWS.defaultValue())
            .withDescription("Most windows scored per text (also capped so that one text fits one run). A text that"
                    + " needs more is scored on its first windows only if the model declares a 'truncated'"
                    + " output column, which is then true; otherwise it is a TEXT_TRUNCATED error row (or fails the"
                    + " query in error mode FAIL): never a label for a text that was not read to its end.");

    public static final ConfigOption<Duration> INFERENCE_TIMEOUT = ConfigOptions.key("inference.timeout")
            .durationType()
            .defaultValue(ScoringOptions.INFERENCE_TIMEOUT.defaultValue())
            .withDescription("Async path: a row not scored within this time after it was handed to the dispatcher"
                    + " gets INFERENCE_TIMEOUT (an error row, or the query fails in error mode FAIL). Must be below"
                    + " ML_PREDICT's own 'timeout' (default 'table.exec.async-ml-predict.timeout', 3 min): when"
                    + " Flink's fires first, Flink fails the query with a message that holds the input row. The"
                    + " sync path runs on the task thread and has no timeout.");

    public static final ConfigOption<ErrorMode> ERROR_MODE = ConfigOptions.key("error-mode")
            .enumType(ErrorMode.class)
            .defaultValue(ErrorMode.FAIL)
            .withDescription("FAIL: a row that cannot be scored fails the query. ERROR_COLUMNS: it is emitted with"
                    + " null label, score and probabilities and its error in the 'error' (message) and"
                    + " 'error_reason' (code) output columns, which the model must declare. Either way every input"
                    + " row gets exactly one output row.");
}
