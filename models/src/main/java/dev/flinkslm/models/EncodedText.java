package dev.flinkslm.models;

/**
 * One tokenized text, unpadded and already truncated to the model's maximum length.
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
