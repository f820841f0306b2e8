package dev.flinkslm.screening;

import dev.flinkslm.connectors.DeadLetter;
import dev.flinkslm.connectors.RawEvent;
import dev.flinkslm.screening.internal.ParseEventsFunction;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.OutputTag;

/**
 * Turns a stream of {@link RawEvent}s into {@link FinancialEvent}s, routing every record that
 * does not parse to the {@link #DEAD_LETTERS} side output. Bad input never fails the job.
 *
 * <pre>{@code
 * DataStream<RawEvent> raw = env.fromSource(KafkaEventSource.builder().configure(conf).build(),
 *         WatermarkStrategy.noWatermarks(), "events");
 * SingleOutputStreamOperator<FinancialEvent> events = EventParsing.parse(raw, EventParser.withDefaults());
 * events.uid("parse-events");
 * DataStream<DeadLetter> deadLetters = events.getSideOutput(EventParsing.DEAD_LETTERS);
 * }</pre>
 *
 * <p>Threading: the operator is stateless and runs on the task thread.
 */
@PublicEvolving
public final class EventParsing {

    /** Side output of records that could not be parsed. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS = ParseEventsFunction.DEAD_LETTERS;

    /** Counter of successfully parsed events. */
    public static final String METRIC_EVENTS_PARSED = ParseEventsFunction.METRIC_EVENTS_PARSED;
    /** Counter of dead-lettered records. */
    public static final String METRIC_DEAD_LETTERS = ParseEventsFunction.METRIC_DEAD_LETTERS;

    private EventParsing() {}

    /**
     * Adds the parse operator (named "parse-events"; set a uid on the result if you want one).
     */
    public static SingleOutputStreamOperator<FinancialEvent> parse(DataStream<RawEvent> raw, EventParser parser) {
        return raw.process(new ParseEventsFunction(parser), TypeInformation.of(FinancialEvent.class))
                .name("parse-events");
    }
}
