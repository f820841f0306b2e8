package dev.flinkslm.operators;

import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.models.ModelRef;
import dev.flinkslm.models.ModelRoots;
import dev.flinkslm.operators.internal.InferenceRuntime;
import dev.flinkslm.operators.internal.ScoringOperatorFactory;
import dev.flinkslm.operators.internal.VersionedScoringOperatorFactory;
import dev.flinkslm.operators.internal.versions.AdmittedCommand;
import dev.flinkslm.operators.internal.versions.CommandAdmission;
import dev.flinkslm.operators.versions.MissingArtifactPolicy;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ShadowResult;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.BasicArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.OutputTag;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Scores a stream with a small language model, micro-batching elements into a shared ONNX Runtime
 * session.
 *
 * <pre>{@code
 * DataStream<Payment> payments = ...;
 * ScoredStream<Payment> scored = SlmScoring.<Payment>builder()
 *         .text(p -> p.narrative)
 *         .model("file:///opt/models/compliance-minilm/1.0.0")
 *         .modelRoots("/opt/models")
 *         .maxBatchSize(32)
 *         .maxWait(Duration.ofMillis(20))
 *         .build()
 *         .apply(payments.keyBy(p -> p.accountId));
 * scored.results().filter(r -> !r.label.equals("clear")).sinkTo(alerts);
 * scored.deadLetters().sinkTo(deadLetterSink);
 * }</pre>
 *
 * <p>Every option is also a {@link ScoringOptions} key, so a job can read them from its Flink
 * configuration with {@link Builder#configure}. The input may be keyed or not; keyed inputs keep
 * buffered elements in keyed state (rescaling-safe). Results carry the model id and version.
 */
@PublicEvolving
public final class SlmScoring<IN> {

    private final ScoringConfig config;
    private final TextExtractor<IN> text;
    private final ModelRef model;
    private final String name;
    private final DataStream<ModelCommand> commands;

    private SlmScoring(
            ScoringConfig config,
            TextExtractor<IN> text,
            ModelRef model,
            String name,
            DataStream<ModelCommand> commands) {
        this.config = config;
        this.text = text;
        this.model = model;
        this.name = name;
        this.commands = commands;
    }

    /** Type information of {@link ModelCommand} (no Kryo). */
    public static final TypeInformation<ModelCommand> COMMAND_TYPE = commandType();

    private static TypeInformation<ModelCommand> commandType() {
        Map<String, TypeInformation<?>> fields = new HashMap<>();
        for (String f : List.of(
                "commandId",
                "action",
                "role",
                "uri",
                "sha256",
                "modelId",
                "version",
                "issuedBy",
                "source",
                "parseError")) {
            fields.put(f, Types.STRING);
        }
        fields.put("keys", Types.LIST(Types.STRING));
        fields.put("percent", Types.DOUBLE);
        fields.put("replay", Types.BOOLEAN);
        return Types.POJO(ModelCommand.class, fields);
    }

    /** Type information of {@link ModelAudit}. */
    public static final TypeInformation<ModelAudit> AUDIT_TYPE = Types.POJO(ModelAudit.class);

    /** Type information of the admission stage's output (no Kryo). */
    static final TypeInformation<AdmittedCommand> ADMITTED_TYPE = admittedType();

    private static TypeInformation<AdmittedCommand> admittedType() {
        Map<String, TypeInformation<?>> fields = new HashMap<>();
        fields.put("command", COMMAND_TYPE);
        for (String f : List.of("modelId", "version", "uri", "sha256", "rejectionCode", "rejection")) {
            fields.put(f, Types.STRING);
        }
        fields.put("receivedAt", Types.LONG);
        return Types.POJO(AdmittedCommand.class, fields);
    }

    public static <IN> Builder<IN> builder() {
        return new Builder<>();
    }

    public ScoringConfig config() {
        return config;
    }

    /** The initial (or only) model version's reference, as configured. */
    public ModelRef model() {
        return model;
    }

    /**
     * Adds the scoring operator after {@code input}. Without a control stream the input may be keyed
     * or not; with one it must be keyed (model versions are assigned per key).
     */
    public ScoredStream<IN> apply(DataStream<IN> input) {
        OutputTag<ScoringFailure<IN>> deadLetters =
                new OutputTag<>(name + "-dead-letters", failureType(input.getType()));
        if (commands == null) {
            SingleOutputStreamOperator<Scored<IN>> results = input.transform(
                    name,
                    scoredType(input.getType()),
                    new ScoringOperatorFactory<>(config, text, model, deadLetters, InferenceRuntime.DEFAULT));
            results.uid(name);
            return new ScoredStream<>(results, deadLetters, null, null);
        }
        if (!(input instanceof KeyedStream<IN, ?> keyed)) {
            throw new IllegalArgumentException("model versions are assigned per key: apply SlmScoring with a control"
                    + " stream to a keyed stream (input.keyBy(...))");
        }
        OutputTag<ModelAudit> audit = new OutputTag<>(name + "-audit", AUDIT_TYPE);
        OutputTag<ShadowResult<IN>> shadows = new OutputTag<>(name + "-shadow", shadowType(input.getType()));
        // One admission stage: every DEPLOY's bundle is admitted once, and every subtask then sees the
        // same admitted commands in the same order, so all subtasks hold the same rule log.
        SingleOutputStreamOperator<AdmittedCommand> admitted = AsyncDataStream.orderedWait(
                        commands,
                        new CommandAdmission(config, InferenceRuntime.DEFAULT),
                        config.versions().admissionTimeout().toMillis(),
                        TimeUnit.MILLISECONDS,
                        16)
                .returns(ADMITTED_TYPE)
                .setParallelism(1)
                .setMaxParallelism(1)
                .name(name + "-admission")
                .uid(name + "-admission");
        SingleOutputStreamOperator<Scored<IN>> results = keyed.connect(admitted.broadcast())
                .transform(
                        name,
                        scoredType(input.getType()),
                        new VersionedScoringOperatorFactory<>(
                                config, text, model, deadLetters, audit, shadows, InferenceRuntime.DEFAULT));
        results.uid(name);
        return new ScoredStream<>(results, deadLetters, audit, shadows);
    }

    /** Type information of {@link ShadowResult} for an element type (no Kryo). */
    public static <IN> TypeInformation<ShadowResult<IN>> shadowType(TypeInformation<IN> elementType) {
        Map<String, TypeInformation<?>> fields = new HashMap<>();
        fields.put("element", elementType);
        for (String f : List.of("servedModel", "servedLabel", "shadowModel", "shadowLabel")) {
            fields.put(f, Types.STRING);
        }
        fields.put("servedScore", Types.FLOAT);
        fields.put("shadowScore", Types.FLOAT);
        fields.put("agree", Types.BOOLEAN);
        fields.put("agreementRate", Types.DOUBLE);
        fields.put("compared", Types.LONG);
        @SuppressWarnings({"unchecked", "rawtypes"})
        TypeInformation<ShadowResult<IN>> type = (TypeInformation) Types.POJO(ShadowResult.class, fields);
        return type;
    }

    /** Type information of {@link Scored} for an element type (no Kryo). */
    public static <IN> TypeInformation<Scored<IN>> scoredType(TypeInformation<IN> elementType) {
        Map<String, TypeInformation<?>> fields = new HashMap<>();
        fields.put("element", elementType);
        fields.put("label", Types.STRING);
        fields.put("labelIndex", Types.INT);
        fields.put("score", Types.FLOAT);
        fields.put("probabilities", PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);
        fields.put("labels", BasicArrayTypeInfo.STRING_ARRAY_TYPE_INFO);
        fields.put("negativeLabel", Types.STRING);
        fields.put("thresholds", PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);
        fields.put("modelId", Types.STRING);
        fields.put("modelVersion", Types.STRING);
        fields.put("variant", Types.STRING);
        fields.put("ruleEpoch", Types.LONG);
        fields.put("windows", Types.INT);
        fields.put("truncated", Types.BOOLEAN);
        fields.put("queueWaitMicros", Types.LONG);
        fields.put("inferenceMicros", Types.LONG);
        fields.put("batchSize", Types.INT);
        @SuppressWarnings({"unchecked", "rawtypes"})
        TypeInformation<Scored<IN>> type = (TypeInformation) Types.POJO(Scored.class, fields);
        return type;
    }

    /** Type information of {@link ScoringFailure} for an element type (no Kryo). */
    public static <IN> TypeInformation<ScoringFailure<IN>> failureType(TypeInformation<IN> elementType) {
        Map<String, TypeInformation<?>> fields = new HashMap<>();
        fields.put("element", elementType);
        fields.put("reason", Types.STRING);
        fields.put("message", Types.STRING);
        fields.put("model", Types.STRING);
        fields.put("attempts", Types.INT);
        @SuppressWarnings({"unchecked", "rawtypes"})
        TypeInformation<ScoringFailure<IN>> type = (TypeInformation) Types.POJO(ScoringFailure.class, fields);
        return type;
    }

    /**
     * Builder of {@link SlmScoring}. Setters write {@link ScoringOptions} keys; {@link #build()}
     * validates everything and says which option to fix.
     */
    public static final class Builder<IN> {
        private final Configuration options = new Configuration();
        private TextExtractor<IN> text;
        private String name = "slm-scoring";
        private DataStream<ModelCommand> commands;

        /** Reads every {@link ScoringOptions} key that {@code configuration} sets. */
        public Builder<IN> configure(ReadableConfig configuration) {
            for (org.apache.flink.configuration.ConfigOption<?> option : ScoringOptions.ALL) {
                copy(configuration, option);
            }
            return this;
        }

        private <T> void copy(ReadableConfig from, org.apache.flink.configuration.ConfigOption<T> option) {
            from.getOptional(option).ifPresent(value -> options.set(option, value));
        }

        /** How to get the text from an element (required). */
        public Builder<IN> text(TextExtractor<IN> extractor) {
            this.text = Objects.requireNonNull(extractor, "text extractor");
            return this;
        }

        /** Bundle URI or path of the model ({@link ScoringOptions#MODEL}). */
        public Builder<IN> model(String uri) {
            options.set(ScoringOptions.MODEL, uri);
            return this;
        }

        /** Locations bundles may be loaded from ({@link ScoringOptions#MODEL_ROOTS}). */
        public Builder<IN> modelRoots(String... roots) {
            options.set(ScoringOptions.MODEL_ROOTS, List.of(roots));
            return this;
        }

        /** Most rows per batch, one per element or per window ({@link ScoringOptions#MAX_BATCH_SIZE}). */
        public Builder<IN> maxBatchSize(int value) {
            options.set(ScoringOptions.MAX_BATCH_SIZE, value);
            return this;
        }

        public Builder<IN> maxBatchTokens(int value) {
            options.set(ScoringOptions.MAX_BATCH_TOKENS, value);
            return this;
        }

        public Builder<IN> maxWait(Duration value) {
            options.set(ScoringOptions.MAX_WAIT, value);
            return this;
        }

        /** When a partly filled batch runs ({@link ScoringOptions#DISPATCH}, default ADAPTIVE). */
        public Builder<IN> dispatch(DispatchPolicy value) {
            options.set(ScoringOptions.DISPATCH, value);
            return this;
        }

        /** Time from arrival to result that batching aims to keep ({@link ScoringOptions#LATENCY_BUDGET}). */
        public Builder<IN> latencyBudget(Duration value) {
            if (value == null) {
                options.removeConfig(ScoringOptions.LATENCY_BUDGET);
            } else {
                options.set(ScoringOptions.LATENCY_BUDGET, value);
            }
            return this;
        }

        /**
         * Coalesce micro-batches of this TaskManager's operators into joint runs
         * ({@link ScoringOptions#COALESCE}; by default only on CUDA).
         */
        public Builder<IN> coalesce(boolean value) {
            options.set(ScoringOptions.COALESCE, value);
            return this;
        }

        public Builder<IN> maxInFlight(int value) {
            options.set(ScoringOptions.MAX_IN_FLIGHT, value);
            return this;
        }

        public Builder<IN> groupByLength(boolean value) {
            options.set(ScoringOptions.GROUP_BY_LENGTH, value);
            return this;
        }

        public Builder<IN> outputMode(OutputMode value) {
            options.set(ScoringOptions.OUTPUT_MODE, value);
            return this;
        }

        public Builder<IN> executionProvider(ExecutionProvider value) {
            options.set(ScoringOptions.PROVIDER, value);
            return this;
        }

        public Builder<IN> cudaDevice(int value) {
            options.set(ScoringOptions.CUDA_DEVICE, value);
            return this;
        }

        public Builder<IN> strictProvider(boolean value) {
            options.set(ScoringOptions.STRICT_PROVIDER, value);
            return this;
        }

        public Builder<IN> intraOpThreads(int value) {
            options.set(ScoringOptions.INTRA_OP_THREADS, value);
            return this;
        }

        public Builder<IN> inferenceTimeout(Duration value) {
            options.set(ScoringOptions.INFERENCE_TIMEOUT, value);
            return this;
        }

        public Builder<IN> maxRetries(int value) {
            options.set(ScoringOptions.MAX_RETRIES, value);
            return this;
        }

        public Builder<IN> retryBackoff(Duration value) {
            options.set(ScoringOptions.RETRY_BACKOFF, value);
            return this;
        }

        public Builder<IN> failurePolicy(FailurePolicy value) {
            options.set(ScoringOptions.FAILURE_POLICY, value);
            return this;
        }

        /** Tokens shared by consecutive windows of a long text ({@link ScoringOptions#WINDOW_STRIDE}). */
        public Builder<IN> windowStride(int tokens) {
            options.set(ScoringOptions.WINDOW_STRIDE, tokens);
            return this;
        }

        /** Most windows scored per text; beyond, the result is marked truncated ({@link ScoringOptions#MAX_WINDOWS}). */
        public Builder<IN> maxWindows(int value) {
            options.set(ScoringOptions.MAX_WINDOWS, value);
            return this;
        }

        /** Consecutive batch timeouts that fail the job ({@link ScoringOptions#MAX_CONSECUTIVE_TIMEOUTS}). */
        public Builder<IN> maxConsecutiveTimeouts(int value) {
            options.set(ScoringOptions.MAX_CONSECUTIVE_TIMEOUTS, value);
            return this;
        }

        /** Sets any {@link ScoringOptions} option (for example the {@code slm.versions.*} limits). */
        public <T> Builder<IN> option(org.apache.flink.configuration.ConfigOption<T> option, T value) {
            if (!ScoringOptions.ALL.contains(option)) {
                throw new IllegalArgumentException(option.key() + " is not a scoring option; see ScoringOptions");
            }
            options.set(option, value);
            return this;
        }

        /**
         * Model commands (deploy, canary, shadow, promote, rollback, retire) applied live. The model set
         * with {@link #model} is the initial active version for all keys.
         */
        public Builder<IN> controlStream(DataStream<ModelCommand> value) {
            this.commands = Objects.requireNonNull(value, "control stream");
            return this;
        }

        /** What to do when a version referenced by restored state cannot be loaded (default FAIL). */
        public Builder<IN> missingArtifactPolicy(MissingArtifactPolicy value) {
            options.set(ScoringOptions.MISSING_ARTIFACT, value);
            return this;
        }

        /** Operator name and uid (default {@code slm-scoring}). */
        public Builder<IN> name(String value) {
            this.name = Objects.requireNonNull(value, "name");
            return this;
        }

        /** Validates the options; throws {@link IllegalArgumentException} naming the option to fix. */
        public SlmScoring<IN> build() {
            if (text == null) {
                throw new IllegalArgumentException("a text extractor is required: call text(element -> element.text)");
            }
            ScoringConfig config;
            try {
                config = ScoringConfig.from(options).validate();
                config.roots();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid SLM scoring options: " + e.getMessage(), e);
            }
            String model = options.get(ScoringOptions.MODEL);
            if (model == null || model.isBlank()) {
                throw new IllegalArgumentException(ScoringOptions.MODEL.key() + " is not set: name the model's bundle"
                        + " (.model(uri) or the option), a bundle directory, a .zip or a URI of a registered fetcher");
            }
            ModelRef ref = ModelRef.of(ModelRoots.toUri(model.trim()).toString());
            return new SlmScoring<>(config, text, ref, name, commands);
        }
    }
}
