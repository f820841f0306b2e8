package dev.flinkslm.operators;

import org.apache.flink.annotation.PublicEvolving;

/** Order of results relative to the input. */
@PublicEvolving
public enum OutputMode {
    /** Results leave in input order; a slow batch holds back later results. */
    ORDERED,
    /**
     * Results leave as batches complete; watermarks still never overtake the records before them
     * (records between two watermarks may be reordered among themselves).
     */
    UNORDERED
}
