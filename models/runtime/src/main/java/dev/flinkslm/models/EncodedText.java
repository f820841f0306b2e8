package dev.flinkslm.models;

/**
 * One tokenized sequence, unpadded, at most the model's maximum length: a whole short text, or one
 * window of a longer one (see {@link EncodedInput}).
 *
 * @param ids token ids, special tokens included
 * @param typeIds token type ids (same length as ids)
 */
public record EncodedText(long[] ids, long[] typeIds) {

    /** Number of tokens. */
    public int length() {
        return ids.length;
    }
}
