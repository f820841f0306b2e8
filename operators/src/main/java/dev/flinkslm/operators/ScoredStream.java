package dev.flinkslm.operators;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.OutputTag;

/**
 * The outputs of a scoring operator: scored elements, and elements that could not be scored.
 *
 * @param <IN> the scored element type
 */
@PublicEvolving
public final class ScoredStream<IN> {

    private final SingleOutputStreamOperator<Scored<IN>> results;
    private final OutputTag<ScoringFailure<IN>> deadLetterTag;
    private final OutputTag<dev.flinkslm.operators.versions.ModelAudit> auditTag;
    private final OutputTag<dev.flinkslm.operators.versions.ShadowResult<IN>> shadowTag;

    ScoredStream(
            SingleOutputStreamOperator<Scored<IN>> results,
            OutputTag<ScoringFailure<IN>> deadLetterTag,
            OutputTag<dev.flinkslm.operators.versions.ModelAudit> auditTag,
            OutputTag<dev.flinkslm.operators.versions.ShadowResult<IN>> shadowTag) {
        this.results = results;
        this.deadLetterTag = deadLetterTag;
        this.auditTag = auditTag;
        this.shadowTag = shadowTag;
    }

    /** The outcome of every model command (needs a control stream). */
    public DataStream<dev.flinkslm.operators.versions.ModelAudit> audit() {
        if (auditTag == null) {
            throw new IllegalStateException("no control stream: audit records exist only with model commands");
        }
        return results.getSideOutput(auditTag);
    }

    /** Shadow versions' answers next to the served ones (needs a control stream). */
    public DataStream<dev.flinkslm.operators.versions.ShadowResult<IN>> shadowResults() {
        if (shadowTag == null) {
            throw new IllegalStateException("no control stream: shadow results exist only with model commands");
        }
        return results.getSideOutput(shadowTag);
    }

    /** One result per input element that was scored, carrying model id, version and variant. */
    public SingleOutputStreamOperator<Scored<IN>> results() {
        return results;
    }

    /** Elements that could not be scored, with the reason. */
    public DataStream<ScoringFailure<IN>> deadLetters() {
        return results.getSideOutput(deadLetterTag);
    }

    public OutputTag<ScoringFailure<IN>> deadLetterTag() {
        return deadLetterTag;
    }
}
