package dev.flinkslm.operators.internal;

import dev.flinkslm.models.Prediction;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoringFailure;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/** One input element from arrival until its result (or failure) is emitted. Task thread only. */
final class PendingElement<IN> {

    final long sequence;
    final StreamRecord<IN> record;
    final Object key;
    final long arrivalNanos;
    Route route;
    /** What scores it (its windows on the serving slot) and, optionally, on the shadow slot. */
    Part<IN> primary;

    Part<IN> shadow;
    /** Parts whose result has not come back yet. */
    int partsRemaining;

    Scored<IN> result;
    ScoringFailure<IN> failure;
    Prediction shadowPrediction;
    boolean done;
    /** The unordered queue's segment holding this element. */
    Object segment;

    PendingElement(long sequence, StreamRecord<IN> record, Object key, long arrivalNanos) {
        this.sequence = sequence;
        this.record = record;
        this.key = key;
        this.arrivalNanos = arrivalNanos;
    }
}
