package dev.flinkslm.tests;

import dev.flinkslm.connectors.FinancialEvent;
import dev.flinkslm.connectors.ScoredEvent;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * Deterministic fake scoring (the winning label depends on the event id's hash, probability 0.6,
 * the others 0.1) standing in for the SLM operator in connector tests.
 */
public final class StandInScoring implements MapFunction<FinancialEvent, ScoredEvent> {

    private static final long serialVersionUID = 1L;
    public static final String[] LABELS = {"clear", "sanctions", "structuring", "fraud", "market_abuse"};
    public static final String MODEL_ID = "stand-in";

    /** The label this function gives to an event id. */
    public static String labelOf(String eventId) {
        return LABELS[Math.floorMod(eventId.hashCode(), LABELS.length)];
    }

    @Override
    public ScoredEvent map(FinancialEvent e) {
        double[] p = new double[LABELS.length];
        String top = labelOf(e.eventId);
        for (int i = 0; i < p.length; i++) {
            p[i] = LABELS[i].equals(top) ? 0.6 : 0.1;
        }
        return ScoredEvent.of(e, LABELS, p, MODEL_ID, "1", ScoredEvent.VARIANT_ACTIVE, 0, 0, System.currentTimeMillis());
    }
}
