package dev.flinkslm.operators.internal;

import dev.flinkslm.models.EncodedInput;

/**
 * The windows of one element on one slot: the unit a batch holds. All windows of an element go
 * into the same batch, so an element's result is never assembled from two runs. Task thread only.
 */
final class Part<IN> {

    final PendingElement<IN> element;
    final ModelSlot slot;
    final EncodedInput input;
    final boolean shadow;

    Part(PendingElement<IN> element, ModelSlot slot, EncodedInput input, boolean shadow) {
        this.element = element;
        this.slot = slot;
        this.input = input;
        this.shadow = shadow;
    }

    int rows() {
        return input.windowCount();
    }

    int maxLength() {
        return input.maxWindowLength();
    }
}
