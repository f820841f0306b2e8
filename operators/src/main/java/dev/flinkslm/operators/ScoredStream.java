package dev.flinkslm.operators;

import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.OutputTag;

/**
 * The outputs of a scoring operator: scored elements, and elements that could not be scored.
 *
 * @param <IN> the scored element type
 */
public final class ScoredStream<IN> {

    private final SingleOutputStreamOperator<Scored<IN>> results;
    private final OutputTag<ScoringFailure<IN>> deadLetterTag;

    ScoredStream(SingleOutputStreamOperator<Scored<IN>> results, OutputTag<ScoringFailure<IN>> deadLetterTag) {
        this.results = results;
        this.deadLetterTag = deadLetterTag;
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
