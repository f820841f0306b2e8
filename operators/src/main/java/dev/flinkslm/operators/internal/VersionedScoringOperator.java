package dev.flinkslm.operators.internal;

import dev.flinkslm.models.ModelRef;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoringConfig;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.operators.TextExtractor;
import dev.flinkslm.operators.internal.versions.AdmittedCommand;
import dev.flinkslm.operators.internal.versions.VersionedRouter;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ShadowResult;
import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.OutputTag;

import java.util.HashMap;
import java.util.Map;

/**
 * The scoring operator with live model versions: keyed events on input 1, admitted model commands
 * (broadcast) on input 2. A thin shell over {@link ScoringCore} and {@link VersionedRouter}; event
 * time and watermark status come from the event input only (commands never hold back or idle the
 * output). Created by {@link VersionedScoringOperatorFactory}.
 */
@Internal
public final class VersionedScoringOperator<IN> extends AbstractStreamOperator<Scored<IN>>
        implements TwoInputStreamOperator<IN, AdmittedCommand, Scored<IN>>, BoundedMultiInput {

    private static final long serialVersionUID = 1L;

    private transient org.apache.flink.api.common.operators.MailboxExecutor mailbox;

    private final OutputTag<ModelAudit> auditTag;
    private final OutputTag<ShadowResult<IN>> shadowTag;
    private final ScoringCore<IN> core;
    private final VersionedRouter router;
    private transient Map<String, long[]> shadowAgreement;
    private transient boolean eventsEnded;
    private transient boolean commandsEnded;

    VersionedScoringOperator(
            StreamOperatorParameters<Scored<IN>> parameters,
            ScoringConfig config,
            TextExtractor<IN> textExtractor,
            ModelRef initialModel,
            OutputTag<ScoringFailure<IN>> deadLetterTag,
            OutputTag<ModelAudit> auditTag,
            OutputTag<ShadowResult<IN>> shadowTag,
            InferenceRuntime runtime) {
        super(parameters);
        this.mailbox = parameters.getMailboxExecutor();
        this.auditTag = auditTag;
        this.shadowTag = shadowTag;
        this.core = new ScoringCore<>(config, textExtractor, deadLetterTag, runtime);
        this.router = new VersionedRouter(config, initialModel, this::emitAudit, runtime);
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
        if (getKeyedStateBackend() == null) {
            throw new IllegalStateException("model versions are assigned per key: key the event stream"
                    + " (stream.keyBy(...)) before applying SlmScoring with a control stream");
        }
        TypeSerializer<IN> in =
                (TypeSerializer<IN>) getOperatorConfig().getTypeSerializerIn(0, getUserCodeClassloader());
        core.initializeState(context, getKeyedStateBackend(), in, this);
        router.initializeState(context, getKeyedStateBackend());
    }

    @Override
    public void open() throws Exception {
        super.open();
        shadowAgreement = new HashMap<>();
        var task = getRuntimeContext().getTaskInfo();
        router.open(
                mailbox,
                task.getIndexOfThisSubtask(),
                task.getTaskNameWithSubtasks(),
                getRuntimeContext().getJobInfo().getJobId().toString(),
                getMetricGroup());
        core.open(
                new ScoringCore.Context<>(
                        output,
                        mailbox,
                        getProcessingTimeService(),
                        getMetricGroup(),
                        task.getTaskNameWithSubtasks(),
                        this,
                        getExecutionConfig().isObjectReuseEnabled()),
                router,
                this::emitShadow);
    }

    @Override
    public void processElement1(StreamRecord<IN> record) throws Exception {
        core.processElement(record, getCurrentKey());
    }

    @Override
    public void processElement2(StreamRecord<AdmittedCommand> record) throws Exception {
        router.onCommand(record.getValue(), System.currentTimeMillis());
    }

    @Override
    public void processWatermark1(Watermark mark) throws Exception {
        core.processWatermark(mark);
    }

    @Override
    public void processWatermark2(Watermark mark) {
        // Commands do not hold back event time.
    }

    @Override
    protected void processWatermarkStatus(WatermarkStatus status, int index) throws Exception {
        if (index == 0) {
            core.processWatermarkStatus(status); // the event input's status, behind its queued elements
        }
    }

    /** Drain: the event input ended (Flink calls this per input; the one-input variant is not implemented). */
    @Override
    public void endInput(int inputId) throws Exception {
        if (inputId == 1) {
            eventsEnded = true;
            core.drain();
        } else {
            commandsEnded = true;
        }
        if (eventsEnded && commandsEnded) {
            // Both bounded inputs ended: let loads still running report, but retry nothing.
            router.finishing();
            while (router.hasPendingLoads()) {
                mailbox.yield();
            }
        }
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
            router.close();
        } finally {
            super.close();
        }
    }

    private void emitAudit(ModelAudit audit) {
        output.collect(auditTag, new StreamRecord<>(audit, audit.timestamp));
    }

    private void emitShadow(StreamRecord<IN> input, Scored<IN> served, ModelSlot shadow, Prediction prediction) {
        ShadowResult<IN> r = new ShadowResult<>();
        r.element = served.element;
        r.servedModel = served.modelId + ":" + served.modelVersion;
        r.servedLabel = served.label;
        r.servedScore = served.score;
        r.shadowModel = shadow.name();
        r.shadowLabel = prediction.label();
        r.shadowScore = prediction.score();
        r.agree = r.servedLabel.equals(r.shadowLabel);
        long[] counts = shadowAgreement.computeIfAbsent(r.shadowModel, k -> new long[2]);
        counts[0] += r.agree ? 1 : 0;
        counts[1]++;
        r.compared = counts[1];
        r.agreementRate = (double) counts[0] / counts[1];
        output.collect(
                shadowTag, input.hasTimestamp() ? new StreamRecord<>(r, input.getTimestamp()) : new StreamRecord<>(r));
    }

    @VisibleForTesting
    public VersionedRouter router() {
        return router;
    }

    @VisibleForTesting
    public ScoringCore<IN> core() {
        return core;
    }
}
