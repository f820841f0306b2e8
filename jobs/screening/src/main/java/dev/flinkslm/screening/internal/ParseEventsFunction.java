package dev.flinkslm.screening.internal;

import dev.flinkslm.connectors.DeadLetter;
import dev.flinkslm.connectors.RawEvent;
import dev.flinkslm.screening.EventParser;
import dev.flinkslm.screening.FinancialEvent;
import dev.flinkslm.screening.ParseResult;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parses raw records; valid events go to the main output, the rest to {@link #DEAD_LETTERS}
 * (published as {@code EventParsing.DEAD_LETTERS}). Stateless.
 *
 * <p>Threading: Flink calls it on the task thread only.
 */
@Internal
public final class ParseEventsFunction extends ProcessFunction<RawEvent, FinancialEvent> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ParseEventsFunction.class);

    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));
    public static final String METRIC_EVENTS_PARSED = "eventsParsed";
    public static final String METRIC_DEAD_LETTERS = "deadLetters";

    private final EventParser parser;
    private transient Counter parsed;
    private transient Counter deadLettered;

    public ParseEventsFunction(EventParser parser) {
        this.parser = parser;
    }

    @Override
    public void open(OpenContext openContext) {
        parsed = getRuntimeContext().getMetricGroup().counter(METRIC_EVENTS_PARSED);
        deadLettered = getRuntimeContext().getMetricGroup().counter(METRIC_DEAD_LETTERS);
    }

    @Override
    public void processElement(RawEvent raw, Context ctx, Collector<FinancialEvent> out) {
        ParseResult result = parser.parse(raw);
        if (result.isOk()) {
            parsed.inc();
            out.collect(result.event());
        } else {
            deadLettered.inc();
            DeadLetter d = result.deadLetter();
            // Reason and position only: the message may quote parts of the record.
            LOG.debug("Dead-lettered record at {}: {}", d.source, d.reason);
            ctx.output(DEAD_LETTERS, d);
        }
    }
}
