package dev.flinkslm.operators.internal;

import dev.flinkslm.models.ModelRef;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.TextExtractor;
import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.OutputTag;

/**
 * The scoring operator with one fixed model version: a thin shell that forwards Flink's calls to
 * {@link ScoringCore} with a {@link FixedRouter}. Created by {@link ScoringOperatorFactory}.
 */
@Internal
public final class ScoringOperator<IN> extends AbstractStreamOperator<Scored<IN>>
        implements OneInputStreamOperator<IN, Scored<IN>>, BoundedOneInput {

    private static final long serialVersionUID = 1L;

    private transient org.apache.flink.api.common.operators.MailboxExecutor mailbox;

    private final ModelRef model;
    private final InferenceRuntime runtime;
    private final ScoringCore<IN> core;
    private transient FixedRouter router;

    ScoringOperator(
            StreamOperatorParameters<Scored<IN>> parameters,
            ScoringConfig config,
            TextExtractor<IN> textExtractor,
            ModelRef model,
            OutputTag<ScoringFailure<IN>> deadLetterTag,
            InferenceRuntime runtime) {
        super(parameters);
        this.mailbox = parameters.getMailboxExecutor();
        this.model = model;
        this.runtime = runtime;
        this.core = new ScoringCore<>(config, textExtractor, deadLetterTag, runtime);
    }

    @Override
    public void setMailboxExecutor(org.apache.flink.api.common.operators.MailboxExecutor mailboxExecutor) {
        super.setMailboxExecutor(mailboxExecutor);
        this.mailbox = mailboxExecutor;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        TypeSerializer<IN> in =
                (TypeSerializer<IN>) getOperatorConfig().getTypeSerializerIn(0, getUserCodeClassloader());
        core.initializeState(context, getKeyedStateBackend(), in, this);
    }

    @Override
    public void open() throws Exception {
        super.open();
        router = FixedRouter.open(
                core.config(),
                model,
                getRuntimeContext().getJobInfo().getJobId().toString(),
                runtime);
        core.open(
                new ScoringCore.Context<>(
                        output,
                        mailbox,
                        getProcessingTimeService(),
                        getMetricGroup(),
                        getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks(),
                        this,
                        getExecutionConfig().isObjectReuseEnabled()),
                router,
                null);
    }

    @Override
    public void processElement(StreamRecord<IN> record) throws Exception {
        core.processElement(record, core.isKeyed() ? getCurrentKey() : null);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        core.processWatermark(mark);
    }

    @Override
    public void processWatermarkStatus(WatermarkStatus status) throws Exception {
        core.processWatermarkStatus(status);
    }

    /** Drain (end of input, or stop-with-savepoint --drain): wait until every element is emitted. */
    @Override
    public void endInput() throws Exception {
        core.drain();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        core.snapshotState();
    }

    @Override
    public void close() throws Exception {
        try {
            core.close();
            if (router != null) {
                router.close();
            }
        } finally {
            super.close();
        }
    }

    /** The core's view of threads, buffered elements and counters. */
    @VisibleForTesting
    public ScoringCore<IN> core() {
        return core;
    }
}
