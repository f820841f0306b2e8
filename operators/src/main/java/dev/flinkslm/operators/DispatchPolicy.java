package dev.flinkslm.operators;

import org.apache.flink.annotation.PublicEvolving;

/** When a partly filled batch is handed to an inference thread ({@link ScoringOptions#DISPATCH}). */
@PublicEvolving
public enum DispatchPolicy {
    /**
     * A non-empty batch runs as soon as an inference thread is free; batches grow only while every
     * thread is busy. At low load each element runs almost alone and waits for nothing; under load
     * batches fill up to the size and token caps, so batch size follows load without a timer.
     * {@code slm.batch.max-wait} stays an upper bound and {@code slm.batch.latency-budget} can stop a
     * batch from growing past what its oldest element can afford.
     */
    ADAPTIVE,
    /**
     * A batch runs when it is full (size or token cap) or its oldest element has waited
     * {@code slm.batch.max-wait}. Fewer, fuller runs at moderate load (less CPU per element), paid for
     * with up to {@code max-wait} of latency.
     */
    FILL
}
