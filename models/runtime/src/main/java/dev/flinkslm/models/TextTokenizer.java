package dev.flinkslm.models;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A HuggingFace {@code tokenizer.json} loaded offline from verified bytes, configured the way
 * batching needs it: special tokens added, truncation at the model's maximum length, and NO
 * padding (batches are padded to their own longest text by {@link ScoringSession}).
 *
 * <p>Long texts are split into windows by the tokenizer itself (HuggingFace truncation with
 * {@code stride} and overflowing encodings), so every window carries the special tokens the
 * tokenizer's post-processor adds ({@code [CLS] ... [SEP]} for BERT-style models) and consecutive
 * windows share {@code stride} content tokens. DJL fixes the stride when a tokenizer is built, so
 * one native tokenizer is kept per stride in use (normally one or two).
 *
 * <p>Thread-safe for {@link #encode}; {@link #close()} must not race with encoding, which is why
 * sessions own their tokenizer and close it after their last run.
 */
public final class TextTokenizer implements AutoCloseable {

    private final byte[] json;
    private final int maxLength;
    private final Map<Integer, HuggingFaceTokenizer> byStride = new ConcurrentHashMap<>();

    private TextTokenizer(byte[] json, int maxLength, HuggingFaceTokenizer first) {
        this.json = json;
        this.maxLength = maxLength;
        byStride.put(0, first);
    }

    /** Loads {@code tokenizer.json} from a file; failures are {@code TOKENIZER_FAILED}. */
    public static TextTokenizer load(Path file, int maxLength) throws BundleException {
        if (!Files.isRegularFile(file)) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE, "tokenizer file " + file + " does not exist");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new BundleException(BundleException.Reason.MISSING_FILE, "cannot read tokenizer " + file, e);
        }
        return load(bytes, file.getFileName().toString(), maxLength);
    }

    /**
     * Loads a tokenizer from the bytes of a {@code tokenizer.json} (the bytes whose checksum was
     * verified; no file is read). Failures are {@code TOKENIZER_FAILED}.
     *
     * @param name the file name, for messages
     */
    public static TextTokenizer load(byte[] json, String name, int maxLength) throws BundleException {
        try {
            return new TextTokenizer(json, maxLength, create(json, maxLength, 0));
        } catch (Exception | UnsatisfiedLinkError e) {
            throw new BundleException(
                    BundleException.Reason.TOKENIZER_FAILED,
                    "tokenizer " + name + " cannot be loaded: " + e.getMessage()
                            + " (it must be a HuggingFace tokenizer.json)",
                    e);
        }
    }

    private static HuggingFaceTokenizer create(byte[] json, int maxLength, int stride) throws IOException {
        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "true");
        options.put("padding", "false");
        options.put("truncation", "true");
        options.put("maxLength", Integer.toString(maxLength));
        options.put("stride", Integer.toString(stride));
        options.put("withOverflowingTokens", "false");
        return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
    }

    public int maxLength() {
        return maxLength;
    }

    /**
     * Tokenizes one text into its first window (at most {@link #maxLength()} tokens).
     *
     * @throws IllegalArgumentException when the text cannot be tokenized (null, or rejected by the
     *     tokenizer); such a text can never be scored
     */
    public EncodedText encode(String text) {
        return toEncodedText(encoding(text, 0, false));
    }

    /**
     * Tokenizes one text into overlapping windows.
     *
     * @throws IllegalArgumentException when the text cannot be tokenized or the options do not fit
     *     this tokenizer's maximum length
     */
    public EncodedInput encode(String text, WindowOptions options) {
        options.requireFits(maxLength);
        // Tokenizing builds every window before the cap keeps some: cut text that certainly has more
        // tokens than the kept windows can hold, so a huge text costs no more than the windows scored.
        long tokensScored =
                (long) options.maxWindows() * Math.max(1, maxLength - 2 - options.stride()) + options.stride() + 2;
        long maxChars = tokensScored * MAX_CHARS_PER_TOKEN;
        boolean cut = text != null && text.length() > maxChars;
        if (cut) {
            int end = (int) maxChars;
            if (Character.isHighSurrogate(text.charAt(end - 1))) {
                end--;
            }
            text = text.substring(0, end);
        }
        if (options.maxWindows() == 1) {
            Encoding first = encoding(text, 0, false);
            return new EncodedInput(List.of(toEncodedText(first)), cut || first.exceedMaxLength());
        }
        Encoding encoding = encoding(text, options.stride(), true);
        Encoding[] overflowing = encoding.getOverflowing();
        int total = 1 + (overflowing == null ? 0 : overflowing.length);
        int kept = Math.min(total, options.maxWindows());
        List<EncodedText> windows = new ArrayList<>(kept);
        windows.add(toEncodedText(encoding));
        for (int i = 1; i < kept; i++) {
            windows.add(toEncodedText(overflowing[i - 1]));
        }
        return new EncodedInput(windows, cut || total > kept);
    }

    /**
     * Characters one token covers at most: WordPiece maps a word longer than 100 characters to one
     * unknown token, and other tokenizers' tokens are shorter. Text beyond {@code tokens x this} can
     * never be within the windows that are scored.
     */
    static final int MAX_CHARS_PER_TOKEN = 101;

    private Encoding encoding(String text, int stride, boolean overflowing) {
        if (text == null) {
            throw new IllegalArgumentException("text is null");
        }
        HuggingFaceTokenizer tokenizer = tokenizer(stride);
        try {
            return tokenizer.encode(text, true, overflowing);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("text cannot be tokenized: " + e.getMessage(), e);
        }
    }

    private HuggingFaceTokenizer tokenizer(int stride) {
        return byStride.computeIfAbsent(stride, s -> {
            try {
                return create(json, maxLength, s);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException(
                        "tokenizer cannot use a window stride of " + s + ": " + e.getMessage(), e);
            }
        });
    }

    private static EncodedText toEncodedText(Encoding encoding) {
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
        for (HuggingFaceTokenizer t : byStride.values()) {
            t.close();
        }
        byStride.clear();
    }
}
