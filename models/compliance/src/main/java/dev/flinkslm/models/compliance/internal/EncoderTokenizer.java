package dev.flinkslm.models.compliance.internal;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Tokenizes texts for a BERT-style encoder (the built-in MiniLM or an export's tokenizer.json) and pads each
 * batch to its longest text.
 *
 * <p>The shipped tokenizer.json pads every text to 128 tokens; that wastes most of the encoder's work on
 * short financial texts, so padding is switched off here and done per batch instead. Thread-safe after
 * construction (the native tokenizer is stateless per call); close once.
 */
public final class EncoderTokenizer implements AutoCloseable {

    /** Maximum sequence length including [CLS] and [SEP]. */
    public static final int MAX_LENGTH = 128;

    private static final Map<String, String> OPTIONS =
            Map.of("padding", "false", "truncation", "true", "maxLength", Integer.toString(MAX_LENGTH));

    private final HuggingFaceTokenizer tokenizer;

    private EncoderTokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Loads a tokenizer.json from a file. */
    public static EncoderTokenizer fromFile(Path tokenizerJson) {
        try (InputStream in = Files.newInputStream(tokenizerJson)) {
            return new EncoderTokenizer(HuggingFaceTokenizer.newInstance(in, OPTIONS));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read tokenizer " + tokenizerJson, e);
        }
    }

    /** Reads a tokenizer.json held in memory; texts are truncated to {@code maxLength} tokens. */
    public static EncoderTokenizer fromBytes(byte[] tokenizerJson, int maxLength) {
        try (InputStream in = new java.io.ByteArrayInputStream(tokenizerJson)) {
            return new EncoderTokenizer(HuggingFaceTokenizer.newInstance(
                    in, Map.of("padding", "false", "truncation", "true", "maxLength", Integer.toString(maxLength))));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read tokenizer.json", e);
        }
    }

    /** Loads a tokenizer.json from the class path. */
    public static EncoderTokenizer fromResource(String resource) {
        try (InputStream in = Resources.open(resource)) {
            return new EncoderTokenizer(HuggingFaceTokenizer.newInstance(in, OPTIONS));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read tokenizer resource " + resource, e);
        }
    }

    /** Number of tokens (with special tokens, after truncation) of one text. */
    public int length(String text) {
        return tokenizer.encode(text).getIds().length;
    }

    /** Tokenizes texts and pads them (id 0, mask 0) to the longest one. */
    public TokenizedBatch encode(List<String> texts) {
        Encoding[] enc = new Encoding[texts.size()];
        int seq = 1;
        for (int i = 0; i < enc.length; i++) {
            enc[i] = tokenizer.encode(texts.get(i));
            seq = Math.max(seq, enc[i].getIds().length);
        }
        int n = enc.length;
        long[] ids = new long[n * seq];
        long[] mask = new long[n * seq];
        long[] types = new long[n * seq];
        for (int i = 0; i < n; i++) {
            long[] e = enc[i].getIds();
            long[] m = enc[i].getAttentionMask();
            long[] t = enc[i].getTypeIds();
            System.arraycopy(e, 0, ids, i * seq, e.length);
            System.arraycopy(m, 0, mask, i * seq, m.length);
            System.arraycopy(t, 0, types, i * seq, t.length);
        }
        return new TokenizedBatch(n, seq, ids, mask, types);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
