package dev.flinkslm.operators.internal;

import org.apache.flink.annotation.Internal;

/**
 * How one element is scored: the slot that serves it (and its variant, {@code active} or
 * {@code canary}), an optional shadow slot scoring it on the side, and the rule-log epoch the
 * decision was taken at (0 for a fixed model). Immutable.
 */
@Internal
public record Route(ModelSlot slot, String variant, ModelSlot shadow, long epoch) {}
