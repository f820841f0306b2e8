package dev.flinkslm.operators.internal;

import dev.flinkslm.models.Prediction;
import dev.flinkslm.operators.Scored;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Receives a shadow version's answer for an element, just before the served result is emitted.
 * Called on the task thread.
 */
interface ShadowSink<IN> {

    void emit(StreamRecord<IN> input, Scored<IN> served, ModelSlot shadow, Prediction prediction);
}
