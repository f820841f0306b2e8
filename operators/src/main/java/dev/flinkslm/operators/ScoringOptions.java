package dev.flinkslm.operators;

import dev.flinkslm.models.BundleLimits;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.models.RuntimeOptions;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;

import java.time.Duration;
import java.util.List;

/**
 * Every option of the SLM scoring operator, with its default and description. Read them from a
 * Flink {@code Configuration} with {@link SlmScoring.Builder#configure}, or set them on the builder.
 */
@PublicEvolving
public final class ScoringOptions {

    private ScoringOptions() {}

    public static final ConfigOption<String> MODEL = ConfigOptions.key("slm.model")
            .stringType()
            .noDefaultValue()
            .withDescription("Bundle URI of the model to score with (required): a bundle directory or .zip (file:),"
                    + " or a URI of a registered fetcher, such as default:int8 / default:fp32 of the compliance"
                    + " model module (flink-slm-compliance-model).");

    public static final ConfigOption<List<String>> MODEL_ROOTS = ConfigOptions.key("slm.model-roots")
            .stringType()
            .asList()
            .noDefaultValue()
            .withDescription("Locations bundles may be loaded from (URIs or paths, separated by ';'). A model URI"
                    + " outside every root is rejected. The built-in default: bundles are always allowed.");

    public static final ConfigOption<Integer> MAX_BATCH_SIZE = ConfigOptions.key("slm.batch.max-size")
            .intType()
            .defaultValue(32)
            .withDescription("Most rows in one inference batch: one per element, or one per window of a text"
                    + " longer than the model's window. 16-64 suits CPUs; 256-2048 feeds a GPU.");

    public static final ConfigOption<Integer> MAX_BATCH_TOKENS = ConfigOptions.key("slm.batch.max-tokens")
            .intType()
            .defaultValue(8192)
            .withDescription("Most padded tokens (batch size x longest text) in one batch: caps the cost of a batch"
                    + " when long texts arrive. Must be at least the model's maximum sequence length.");

    public static final ConfigOption<Duration> MAX_WAIT = ConfigOptions.key("slm.batch.max-wait")
            .durationType()
            .defaultValue(Duration.ofMillis(20))
            .withDescription("Longest an element waits (processing time) for its batch to fill before the partial"
                    + " batch is flushed. With the ADAPTIVE dispatch policy an upper bound only: a batch runs"
                    + " earlier whenever an inference thread is free.");

    public static final ConfigOption<DispatchPolicy> DISPATCH = ConfigOptions.key("slm.batch.dispatch")
            .enumType(DispatchPolicy.class)
            .defaultValue(DispatchPolicy.ADAPTIVE)
            .withDescription("ADAPTIVE: a non-empty batch runs as soon as an inference thread is free, and batches"
                    + " grow only while all threads are busy (latency at low load, full batches under load)."
                    + " FILL: a batch runs when full or after max-wait (fewer runs at moderate load, more latency).");

    public static final ConfigOption<Duration> LATENCY_BUDGET = ConfigOptions.key("slm.batch.latency-budget")
            .durationType()
            .noDefaultValue()
            .withDescription("Optional time from an element's arrival to its result that batching aims to keep."
                    + " By the measured cost per padded token and the estimated time until a thread is free, a"
                    + " batch is sealed when one more element would make its oldest element miss the budget, and"
                    + " at the latest when it must start to meet it (a timer, earlier than max-wait). When the"
                    + " budget cannot be met anyway (overload), batches grow to the caps to recover throughput."
                    + " With the batch dispatcher the estimate counts this operator's own work only. Unset:"
                    + " batches grow to the caps and max-wait.");

    public static final ConfigOption<Boolean> COALESCE = ConfigOptions.key("slm.dispatcher.enabled")
            .booleanType()
            .noDefaultValue()
            .withDescription("Coalesce the micro-batches that operators of one TaskManager submit for the same model"
                    + " version into joint session runs (one dispatcher per TaskManager). Unset: on for sessions"
                    + " that run on CUDA, where one large batch uses the device far better than several small"
                    + " ones; off on CPU, where each operator's own threads are as fast.");

    public static final ConfigOption<Integer> DISPATCHER_THREADS = ConfigOptions.key("slm.dispatcher.threads")
            .intType()
            .defaultValue(2)
            .withDescription("Joint runs at once per TaskManager (per setting of the dispatcher caps): 2 lets one"
                    + " run prepare its inputs while the other computes.");

    public static final ConfigOption<Integer> DISPATCHER_MAX_BATCH_SIZE = ConfigOptions.key(
                    "slm.dispatcher.max-batch-size")
            .intType()
            .defaultValue(1024)
            .withDescription("Most rows in one joint run of the dispatcher.");

    public static final ConfigOption<Integer> DISPATCHER_MAX_BATCH_TOKENS = ConfigOptions.key(
                    "slm.dispatcher.max-batch-tokens")
            .intType()
            .defaultValue(131_072)
            .withDescription("Most padded tokens (rows x longest row) in one joint run of the dispatcher: caps its"
                    + " device memory.");

    public static final ConfigOption<Integer> MAX_IN_FLIGHT = ConfigOptions.key("slm.batch.max-in-flight")
            .intType()
            .defaultValue(2)
            .withDescription("Batches being scored at once per operator instance; also the number of inference"
                    + " threads. When all are busy the operator backpressures its input.");

    public static final ConfigOption<Boolean> GROUP_BY_LENGTH = ConfigOptions.key("slm.batch.group-by-length")
            .booleanType()
            .defaultValue(false)
            .withDescription(
                    "Form separate batches for short and long texts (buckets 8 tokens wide up to 64 tokens, then powers of two)"
                            + " so that short texts are not padded to long ones.");

    public static final ConfigOption<OutputMode> OUTPUT_MODE = ConfigOptions.key("slm.output-mode")
            .enumType(OutputMode.class)
            .defaultValue(OutputMode.ORDERED)
            .withDescription("ORDERED keeps input order; UNORDERED emits as batches complete (watermarks still never"
                    + " overtake earlier records).");

    public static final ConfigOption<ExecutionProvider> PROVIDER = ConfigOptions.key("slm.runtime.provider")
            .enumType(ExecutionProvider.class)
            .defaultValue(ExecutionProvider.AUTO)
            .withDescription("ONNX Runtime execution provider: CPU, CUDA or AUTO (CUDA when the build has it and it"
                    + " initialises, else CPU).");

    public static final ConfigOption<Integer> CUDA_DEVICE = ConfigOptions.key("slm.runtime.cuda-device")
            .intType()
            .defaultValue(0)
            .withDescription("CUDA device ordinal.");

    public static final ConfigOption<Boolean> STRICT_PROVIDER = ConfigOptions.key("slm.runtime.strict")
            .booleanType()
            .defaultValue(false)
            .withDescription("Fail when CUDA is requested but cannot be used, instead of falling back to CPU.");

    public static final ConfigOption<Integer> INTRA_OP_THREADS = ConfigOptions.key("slm.runtime.intra-op-threads")
            .intType()
            .defaultValue(1)
            .withDescription("Threads ONNX Runtime uses inside one batch. Parallelism across batches comes from"
                    + " slm.batch.max-in-flight.");

    public static final ConfigOption<RuntimeOptions.Optimization> OPTIMIZATION = ConfigOptions.key(
                    "slm.runtime.optimization")
            .enumType(RuntimeOptions.Optimization.class)
            .defaultValue(RuntimeOptions.Optimization.ALL)
            .withDescription("ONNX Runtime graph optimisation level.");

    public static final ConfigOption<Duration> INFERENCE_TIMEOUT = ConfigOptions.key("slm.inference.timeout")
            .durationType()
            .defaultValue(Duration.ofSeconds(30))
            .withDescription("A batch not scored within this time counts as failed (and is retried per policy).");

    public static final ConfigOption<Integer> MAX_RETRIES = ConfigOptions.key("slm.inference.max-retries")
            .intType()
            .defaultValue(2)
            .withDescription("Retries of a failed batch before its records are isolated and dead-lettered or the"
                    + " job fails.");

    public static final ConfigOption<Duration> RETRY_BACKOFF = ConfigOptions.key("slm.inference.retry-backoff")
            .durationType()
            .defaultValue(Duration.ofMillis(100))
            .withDescription("Pause before retrying a failed batch.");

    public static final ConfigOption<FailurePolicy> FAILURE_POLICY = ConfigOptions.key("slm.inference.failure-policy")
            .enumType(FailurePolicy.class)
            .defaultValue(FailurePolicy.DEAD_LETTER)
            .withDescription("DEAD_LETTER sends records that cannot be scored to the dead-letter output; FAIL fails"
                    + " the job.");

    public static final ConfigOption<Integer> WINDOW_STRIDE = ConfigOptions.key("slm.text.window-stride")
            .intType()
            .defaultValue(32)
            .withDescription("Tokens two consecutive windows of a long text share. A text longer than the model's"
                    + " maximum sequence length is scored in overlapping windows and gets, per label, the maximum"
                    + " over its windows (the manifest's negative label, e.g. clear, gets the minimum).");

    public static final ConfigOption<Integer> MAX_WINDOWS = ConfigOptions.key("slm.text.max-windows")
            .intType()
            .defaultValue(16)
            .withDescription("Most windows scored per text. A longer text is scored on its first windows and its"
                    + " result is marked truncated (counted in the truncatedRecords metric), never cut silently.");

    public static final ConfigOption<Integer> MAX_CONSECUTIVE_TIMEOUTS = ConfigOptions.key(
                    "slm.inference.max-consecutive-timeouts")
            .intType()
            .defaultValue(3)
            .withDescription("Consecutive batch runs that exceed slm.inference.timeout before the operator"
                    + " fails the job (a hung model or device) instead of dead-lettering every event. Each"
                    + " further timeout period in which every inference thread is held by a run that timed out"
                    + " counts as one more.");

    public static final ConfigOption<Integer> MAX_RULES = ConfigOptions.key("slm.versions.max-rules")
            .intType()
            .defaultValue(100)
            .withDescription("Most deployments the rule log of live model versions holds; a DEPLOY beyond it is"
                    + " rejected (RULE_LIMIT). Superseded deployments are compacted automatically.");

    public static final ConfigOption<Integer> MAX_KEYS_PER_COMMAND = ConfigOptions.key(
                    "slm.versions.max-keys-per-command")
            .intType()
            .defaultValue(10_000)
            .withDescription("Most keys one DEPLOY may list; a longer list is rejected (INVALID_COMMAND).");

    public static final ConfigOption<Integer> MAX_RULE_KEYS = ConfigOptions.key("slm.versions.max-rule-keys")
            .intType()
            .defaultValue(100_000)
            .withDescription("Most keys all deployments of the rule log may list together (broadcast state is"
                    + " held and checkpointed by every subtask); a DEPLOY beyond it is rejected (RULE_LIMIT).");

    public static final ConfigOption<MemorySize> MAX_RULE_SIZE = ConfigOptions.key("slm.versions.max-rule-size")
            .memoryType()
            .defaultValue(MemorySize.parse("4 mb"))
            .withDescription("Largest serialized size of the rule log: every subtask holds it in broadcast state and"
                    + " writes it at every checkpoint. The rules may take 3/4 of it (a DEPLOY or PROMOTE beyond that is"
                    + " rejected, RULE_LIMIT); remembered command ids the rest, the oldest forgotten first.");

    public static final ConfigOption<Integer> MAX_COMMAND_BYTES = ConfigOptions.key("slm.versions.max-command-bytes")
            .intType()
            .defaultValue(1 << 20)
            .withDescription("Largest model command (JSON bytes) the connectors parse; a larger one is rejected"
                    + " with an audit record.");

    public static final ConfigOption<Integer> HISTORY = ConfigOptions.key("slm.versions.history")
            .intType()
            .defaultValue(8)
            .withDescription("Versions that served all keys the rule log keeps for ROLLBACK; older deployments no"
                    + " key can reach are dropped.");

    public static final ConfigOption<Integer> COMMAND_ID_RETENTION = ConfigOptions.key(
                    "slm.versions.command-id-retention")
            .intType()
            .defaultValue(10_000)
            .withDescription(
                    "Accepted command ids remembered to reject duplicates (the oldest are" + " forgotten first).");

    public static final ConfigOption<Duration> COMMAND_ID_MAX_AGE = ConfigOptions.key("slm.versions.command-id-max-age")
            .durationType()
            .defaultValue(Duration.ofDays(7))
            .withDescription("How long an accepted command id is remembered to reject duplicates.");

    public static final ConfigOption<Duration> ASSIGNMENT_TTL = ConfigOptions.key("slm.versions.assignment-ttl")
            .durationType()
            .defaultValue(Duration.ofDays(1))
            .withDescription("Time to live of a key's cached model assignment in keyed state (0 keeps it"
                    + " forever). An expired entry is recomputed from the rules on the key's next event, so its"
                    + " routing does not change; state no longer grows with every key ever seen.");

    public static final ConfigOption<Integer> LOAD_THREADS = ConfigOptions.key("slm.versions.load-threads")
            .intType()
            .defaultValue(2)
            .withDescription("Threads per subtask that load and admit model versions.");

    public static final ConfigOption<Duration> LOAD_TIMEOUT = ConfigOptions.key("slm.versions.load-timeout")
            .durationType()
            .defaultValue(Duration.ofMinutes(2))
            .withDescription("Longest a subtask's load of a version may take, waiting for a loader thread included;"
                    + " it then counts as failed (LOAD_FAILED, LOAD_TIMEOUT) and is retried. Also bounds the loads in"
                    + " open() (start and restore).");

    public static final ConfigOption<Duration> ADMISSION_TIMEOUT = ConfigOptions.key("slm.versions.admission-timeout")
            .durationType()
            .defaultValue(Duration.ofSeconds(30))
            .withDescription("Longest the admission stage may take to load and admit a DEPLOY's bundle, waiting"
                    + " included; the DEPLOY is then rejected (ADMISSION_TIMEOUT). Commands are applied in order, so"
                    + " this also bounds how long a later command (a ROLLBACK) can wait behind a DEPLOY.");

    public static final ConfigOption<Duration> LOAD_RETRY_BACKOFF = ConfigOptions.key("slm.versions.load-retry-backoff")
            .durationType()
            .defaultValue(Duration.ofSeconds(1))
            .withDescription("First pause before a subtask retries a failed load; it doubles per failure.");

    public static final ConfigOption<Duration> LOAD_RETRY_MAX_BACKOFF = ConfigOptions.key(
                    "slm.versions.load-retry-max-backoff")
            .durationType()
            .defaultValue(Duration.ofMinutes(1))
            .withDescription("Longest pause between retries of a failed load.");

    public static final ConfigOption<MemorySize> BUNDLE_MAX_MANIFEST_SIZE = ConfigOptions.key(
                    "slm.bundle.max-manifest-size")
            .memoryType()
            .defaultValue(MemorySize.parse("1 mb"))
            .withDescription("Largest manifest.json a bundle may have (it is read whole).");

    public static final ConfigOption<Integer> BUNDLE_MAX_GOLDEN_EXAMPLES = ConfigOptions.key(
                    "slm.bundle.max-golden-examples")
            .intType()
            .defaultValue(BundleLimits.DEFAULT_MAX_GOLDEN_EXAMPLES)
            .withDescription("Most golden examples a manifest may list; they run at every admission and load.");

    public static final ConfigOption<MemorySize> BUNDLE_MAX_SIZE = ConfigOptions.key("slm.bundle.max-size")
            .memoryType()
            .defaultValue(MemorySize.parse("1 gb"))
            .withDescription("Largest bundle (manifest plus listed files), read into memory, hashed and loaded from"
                    + " those bytes; also the heap one load needs.");

    public static final ConfigOption<Integer> BUNDLE_MAX_ARCHIVE_ENTRIES = ConfigOptions.key(
                    "slm.bundle.max-archive-entries")
            .intType()
            .defaultValue(BundleLimits.DEFAULT_MAX_ARCHIVE_ENTRIES)
            .withDescription("Most entries a .zip bundle may hold.");

    public static final ConfigOption<MemorySize> BUNDLE_MAX_ARCHIVE_ENTRY_SIZE = ConfigOptions.key(
                    "slm.bundle.max-archive-entry-size")
            .memoryType()
            .defaultValue(MemorySize.parse("1 gb"))
            .withDescription("Largest unpacked entry of a .zip bundle (counted on the bytes written).");

    public static final ConfigOption<MemorySize> BUNDLE_MAX_ARCHIVE_SIZE = ConfigOptions.key(
                    "slm.bundle.max-archive-size")
            .memoryType()
            .defaultValue(MemorySize.parse("1 gb"))
            .withDescription("Largest total unpacked size of a .zip bundle (counted on the bytes written).");

    public static final ConfigOption<dev.flinkslm.operators.versions.MissingArtifactPolicy> MISSING_ARTIFACT =
            ConfigOptions.key("slm.versions.missing-artifact")
                    .enumType(dev.flinkslm.operators.versions.MissingArtifactPolicy.class)
                    .defaultValue(dev.flinkslm.operators.versions.MissingArtifactPolicy.FAIL)
                    .withDescription("When a model version referenced by restored state is gone or changed: FAIL the"
                            + " job naming it, or FALLBACK to serving its keys with the initial model.");

    /** Every option above, for copying from a configuration. */
    public static final List<ConfigOption<?>> ALL = List.of(
            MODEL,
            MODEL_ROOTS,
            MAX_BATCH_SIZE,
            MAX_BATCH_TOKENS,
            MAX_WAIT,
            DISPATCH,
            LATENCY_BUDGET,
            MAX_IN_FLIGHT,
            COALESCE,
            DISPATCHER_THREADS,
            DISPATCHER_MAX_BATCH_SIZE,
            DISPATCHER_MAX_BATCH_TOKENS,
            GROUP_BY_LENGTH,
            OUTPUT_MODE,
            PROVIDER,
            CUDA_DEVICE,
            STRICT_PROVIDER,
            INTRA_OP_THREADS,
            OPTIMIZATION,
            INFERENCE_TIMEOUT,
            MAX_RETRIES,
            RETRY_BACKOFF,
            FAILURE_POLICY,
            WINDOW_STRIDE,
            MAX_WINDOWS,
            MAX_CONSECUTIVE_TIMEOUTS,
            MAX_RULES,
            MAX_KEYS_PER_COMMAND,
            MAX_RULE_KEYS,
            MAX_RULE_SIZE,
            MAX_COMMAND_BYTES,
            HISTORY,
            COMMAND_ID_RETENTION,
            COMMAND_ID_MAX_AGE,
            ASSIGNMENT_TTL,
            LOAD_THREADS,
            LOAD_TIMEOUT,
            ADMISSION_TIMEOUT,
            LOAD_RETRY_BACKOFF,
            LOAD_RETRY_MAX_BACKOFF,
            BUNDLE_MAX_MANIFEST_SIZE,
            BUNDLE_MAX_GOLDEN_EXAMPLES,
            BUNDLE_MAX_SIZE,
            BUNDLE_MAX_ARCHIVE_ENTRIES,
            BUNDLE_MAX_ARCHIVE_ENTRY_SIZE,
            BUNDLE_MAX_ARCHIVE_SIZE,
            MISSING_ARTIFACT);
}
