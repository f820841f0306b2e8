package dev.flinkslm.models.compliance.internal;

/**
 * A batch of token ids padded to its longest member, flattened row-major ([batch, seq]).
 */
public record TokenizedBatch(int batch, int seq, long[] inputIds, long[] attentionMask, long[] tokenTypeIds) {}
