package dev.flinkslm.operators.internal;

import dev.flinkslm.models.ModelRef;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.TextExtractor;
import dev.flinkslm.operators.internal.versions.AdmittedCommand;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ShadowResult;
import org.apache.flink.annotation.Internal;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperatorFactory;
import org.apache.flink.util.OutputTag;

/** Creates {@link VersionedScoringOperator}s with the task's mailbox executor. */
@Internal
public final class VersionedScoringOperatorFactory<IN> extends AbstractStreamOperatorFactory<Scored<IN>>
        implements TwoInputStreamOperatorFactory<IN, AdmittedCommand, Scored<IN>> {

    private static final long serialVersionUID = 1L;

    private final ScoringConfig config;
    private final TextExtractor<IN> textExtractor;
    private final ModelRef initialModel;
    private final OutputTag<ScoringFailure<IN>> deadLetterTag;
    private final OutputTag<ModelAudit> auditTag;
    private final OutputTag<ShadowResult<IN>> shadowTag;
    private final InferenceRuntime runtime;

    public VersionedScoringOperatorFactory(
            ScoringConfig config,
            TextExtractor<IN> textExtractor,
            ModelRef initialModel,
            OutputTag<ScoringFailure<IN>> deadLetterTag,
            OutputTag<ModelAudit> auditTag,
            OutputTag<ShadowResult<IN>> shadowTag,
            InferenceRuntime runtime) {
        this.config = config;
        this.textExtractor = textExtractor;
        this.initialModel = initialModel;
        this.deadLetterTag = deadLetterTag;
        this.auditTag = auditTag;
        this.shadowTag = shadowTag;
        this.runtime = runtime;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<Scored<IN>>> T createStreamOperator(
            StreamOperatorParameters<Scored<IN>> parameters) {
        return (T) new VersionedScoringOperator<>(
                parameters, config, textExtractor, initialModel, deadLetterTag, auditTag, shadowTag, runtime);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return VersionedScoringOperator.class;
    }
}
