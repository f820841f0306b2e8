package dev.flinkslm.operators.internal;

import dev.flinkslm.models.ModelRef;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.TextExtractor;
import org.apache.flink.annotation.Internal;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.util.OutputTag;

/** Creates {@link ScoringOperator}s with the task's mailbox executor. */
@Internal
public final class ScoringOperatorFactory<IN> extends AbstractStreamOperatorFactory<Scored<IN>>
        implements OneInputStreamOperatorFactory<IN, Scored<IN>> {

    private static final long serialVersionUID = 1L;

    private final ScoringConfig config;
    private final TextExtractor<IN> textExtractor;
    private final ModelRef model;
    private final OutputTag<ScoringFailure<IN>> deadLetterTag;
    private final InferenceRuntime runtime;

    public ScoringOperatorFactory(
            ScoringConfig config,
            TextExtractor<IN> textExtractor,
            ModelRef model,
            OutputTag<ScoringFailure<IN>> deadLetterTag,
            InferenceRuntime runtime) {
        this.config = config;
        this.textExtractor = textExtractor;
        this.model = model;
        this.deadLetterTag = deadLetterTag;
        this.runtime = runtime;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<Scored<IN>>> T createStreamOperator(
            StreamOperatorParameters<Scored<IN>> parameters) {
        return (T) new ScoringOperator<>(parameters, config, textExtractor, model, deadLetterTag, runtime);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return ScoringOperator.class;
    }
}
