package dev.flinkslm.models;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A HuggingFace {@code tokenizer.json} loaded offline, configured the way batching needs it: special
 * tokens added, truncation at the model's maximum length, and NO padding (batches are padded to
 * their own longest text by {@link ScoringSession}).
 *
 * <p>Thread-safe for {@link #encode}; {@link #close()} must not race with encoding, which is why
 * sessions own their tokenizer and close it after their last run.
 */
public final class TextTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxLength) {
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
    }

    /** Loads {@code tokenizer.json}; failures are {@code TOKENIZER_FAILED}. */
    public static TextTokenizer load(Path file, int maxLength) throws BundleException {
        if (!Files.isRegularFile(file)) {
            throw new BundleException(BundleException.Reason.MISSING_FILE, "tokenizer file " + file + " does not exist");
        }
        try {
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(true)
                    .optPadding(false)
                    .optTruncation(true)
                    .optMaxLength(maxLength)
                    .build();
            return new TextTokenizer(tokenizer, maxLength);
        } catch (Exception | UnsatisfiedLinkError e) {
            throw new BundleException(
                    BundleException.Reason.TOKENIZER_FAILED,
                    "tokenizer " + file.getFileName() + " cannot be loaded: " + e.getMessage()
                            + " (it must be a HuggingFace tokenizer.json)",
                    e);
        }
    }

    public int maxLength() {
        return maxLength;
    }

    /**
     * Tokenizes one text.
     *
     * @throws IllegalArgumentException when the text cannot be tokenized (null, or rejected by the
     *     tokenizer); such a text can never be scored
     */
    public EncodedText encode(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text is null");
        }
        Encoding encoding;
        try {
            encoding = tokenizer.encode(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("text cannot be tokenized: " + e.getMessage(), e);
        }
        long[] ids = encoding.getIds();
        if (ids.length == 0) {
            throw new IllegalArgumentException("text produced no tokens");
        }
        long[] types = encoding.getTypeIds();
        if (types == null || types.length != ids.length) {
            types = new long[ids.length];
        }
        return new EncodedText(ids, types);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
