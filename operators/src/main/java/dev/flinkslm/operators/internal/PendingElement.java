package dev.flinkslm.operators.internal;

import dev.flinkslm.models.EncodedText;
import dev.flinkslm.operators.Scored;
import dev.flinkslm.operators.ScoringFailure;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/** One input element from arrival until its result (or failure) is emitted. Task thread only. */
final class PendingElement<IN> {

    final long sequence;
    final StreamRecord<IN> record;
    final Object key;
    final long arrivalNanos;
    EncodedText encoded;
    ModelSlot slot;
    String variant;

    /** Optional shadow version scoring the same element on the side. */
    ModelSlot shadowSlot;
    EncodedText shadowEncoded;
    dev.flinkslm.models.Prediction shadowPrediction;
    /** Parts (primary, shadow) still being scored. */
    int partsRemaining;

    Scored<IN> result;
    ScoringFailure<IN> failure;
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
