package dev.flinkslm.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Long texts are split into overlapping windows and their predictions combined. */
class WindowingTest {

    private static final int MAX = 16;
    private static final long CLS = 101;
    private static final long SEP = 102;

    @TempDir
    static Path tmp;

    private static ScoringSession session;
    private static ScoringSession withNegative;
    private static HuggingFaceTokenizer plain;

    @BeforeAll
    static void open() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("m"), new TinyBundles.Spec().maxSequenceLength(MAX));
        session = ScoringSession.open(BundleLoader.verify(dir.toUri(), dir, null), RuntimeOptions.cpu());
        Path neg = TinyBundles.write(
                tmp.resolve("neg"),
                new TinyBundles.Spec().maxSequenceLength(MAX).negativeLabel("clear"));
        withNegative = ScoringSession.open(BundleLoader.verify(neg.toUri(), neg, null), RuntimeOptions.cpu());
        try (InputStream in = TinyBundles.class.getClassLoader().getResourceAsStream(TinyBundles.TOKENIZER_RESOURCE)) {
            plain = HuggingFaceTokenizer.newInstance(
                    in, Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        }
    }

    @AfterAll
    static void close() {
        session.close();
        withNegative.close();
        plain.close();
    }

    private static String text(int words) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            sb.append(TinyBundles.sampleTexts(1).get(0).split(" ")[i % 5])
                    .append(' ')
                    .append("w")
                    .append(i)
                    .append(' ');
        }
        return sb.toString();
    }

    private static long[] content(String text) {
        return plain.encode(text).getIds();
    }

    private static long[] contentOf(EncodedText window) {
        assertThat(window.ids()[0]).isEqualTo(CLS);
        assertThat(window.ids()[window.length() - 1]).isEqualTo(SEP);
        return Arrays.copyOfRange(window.ids(), 1, window.length() - 1);
    }

    @Test
    void aLongTextBecomesOverlappingWindowsCoveringEveryToken() {
        int stride = 4;
        String text = text(30);
        long[] all = content(text);
        int perWindow = MAX - 2;
        int expectedWindows = 1 + (int) Math.ceil((double) (all.length - perWindow) / (perWindow - stride));
        assertThat(all.length).isGreaterThan(3 * MAX);

        EncodedInput input = session.encode(text, new WindowOptions(stride, 100));
        assertThat(input.truncated()).isFalse();
        assertThat(input.windowCount()).isEqualTo(expectedWindows);
        assertThat(input.maxWindowLength()).isEqualTo(MAX);
        assertThat(input.paddedTokens()).isEqualTo(expectedWindows * MAX);
        List<Long> rebuilt = new ArrayList<>();
        for (int w = 0; w < input.windowCount(); w++) {
            EncodedText window = input.window(w);
            assertThat(window.length()).isLessThanOrEqualTo(MAX);
            assertThat(window.typeIds()).hasSize(window.length());
            long[] c = contentOf(window);
            if (w > 0) {
                long[] previous = contentOf(input.window(w - 1));
                assertThat(Arrays.copyOfRange(c, 0, stride))
                        .as("window %d starts with the last %d tokens of window %d", w, stride, w - 1)
                        .containsExactly(Arrays.copyOfRange(previous, previous.length - stride, previous.length));
                c = Arrays.copyOfRange(c, stride, c.length);
            }
            for (long id : c) {
                rebuilt.add(id);
            }
        }
        assertThat(rebuilt).containsExactly(Arrays.stream(all).boxed().toArray(Long[]::new));
        // the first window is what encode(text) returns
        assertThat(input.window(0).ids()).containsExactly(session.encode(text).ids());
    }

    @Test
    void maxWindowsCapsTheWindowsAndMarksTheInputTruncated() {
        String text = text(30);
        EncodedInput all = session.encode(text, new WindowOptions(4, 100));
        EncodedInput capped = session.encode(text, new WindowOptions(4, 3));
        assertThat(capped.windowCount()).isEqualTo(3);
        assertThat(capped.truncated()).isTrue();
        for (int w = 0; w < 3; w++) {
            assertThat(capped.window(w).ids()).containsExactly(all.window(w).ids());
        }
        EncodedInput exact = session.encode(text, new WindowOptions(4, all.windowCount()));
        assertThat(exact.truncated()).isFalse();
    }

    @Test
    void singleKeepsTheFirstWindowAndSaysWhenTheTextWasCut() {
        EncodedInput cut = session.encode(text(30), WindowOptions.single());
        assertThat(cut.windowCount()).isEqualTo(1);
        assertThat(cut.window(0).length()).isEqualTo(MAX);
        assertThat(cut.truncated()).isTrue();
        EncodedInput whole = session.encode("short text", WindowOptions.single());
        assertThat(whole.truncated()).isFalse();
        EncodedInput shortWindows = session.encode("short text", WindowOptions.defaultsFor(MAX));
        assertThat(shortWindows.windowCount()).isEqualTo(1);
        assertThat(shortWindows.truncated()).isFalse();
        assertThat(shortWindows.window(0).ids())
                .containsExactly(session.encode("short text").ids());
    }

    @Test
    void windowOptionsAreValidated() {
        assertThatThrownBy(() -> new WindowOptions(-1, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new WindowOptions(4, 0)).isInstanceOf(IllegalArgumentException.class);
        // the default stride of 32 does not fit a 16-token model; the message says what to do
        assertThatThrownBy(() -> session.encode("text", WindowOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("smaller stride");
        assertThatThrownBy(() -> session.encode("text", new WindowOptions(MAX - 2, 4)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(WindowOptions.defaults()).isEqualTo(new WindowOptions(32, 16));
        assertThat(WindowOptions.single()).isEqualTo(new WindowOptions(0, 1));
        assertThat(WindowOptions.defaultsFor(128)).isEqualTo(WindowOptions.defaults());
        assertThat(WindowOptions.defaultsFor(16)).isEqualTo(new WindowOptions(7, 16));
        assertThat(WindowOptions.defaultsFor(2)).isEqualTo(WindowOptions.single());
    }

    @Test
    void combineTakesTheMaximumPerLabelButTheMinimumForTheNegativeLabel() {
        // labels: clear, sanctions, structuring, fraud, market_abuse
        Prediction quiet = new Prediction(0, "clear", 0.90f, new float[] {0.90f, 0.02f, 0.03f, 0.04f, 0.01f});
        Prediction finding = new Prediction(3, "fraud", 0.60f, new float[] {0.30f, 0.05f, 0.03f, 0.60f, 0.02f});
        Prediction combined = withNegative.combine(List.of(quiet, finding, quiet));
        assertThat(combined.probabilities())
                .containsExactly(new float[] {0.30f, 0.05f, 0.03f, 0.60f, 0.02f}, within(0f));
        assertThat(combined.label()).isEqualTo("fraud");
        assertThat(combined.labelIndex()).isEqualTo(3);
        assertThat(combined.score()).isEqualTo(0.60f);

        // without a negative label every label takes its maximum, so "clear" keeps 0.9 and wins
        Prediction plainMax = session.combine(List.of(quiet, finding));
        assertThat(plainMax.probabilities()[0]).isEqualTo(0.90f);
        assertThat(plainMax.label()).isEqualTo("clear");

        // a finding that ties with the least clear window wins the tie
        Prediction tie = new Prediction(0, "clear", 0.5f, new float[] {0.5f, 0.5f, 0f, 0f, 0f});
        assertThat(withNegative.combine(List.of(tie, tie)).label()).isEqualTo("sanctions");

        assertThat(withNegative.combine(List.of(finding))).isSameAs(finding);
        assertThatThrownBy(() -> withNegative.combine(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> withNegative.combine(List.of(quiet, new Prediction(0, "clear", 1f, new float[] {1f}))))
                .isInstanceOf(IllegalArgumentException.class);
        float[] nan = {Float.NaN, 0f, 0f, 0f, 0f};
        assertThatThrownBy(() -> withNegative.combine(List.of(finding, new Prediction(0, "clear", Float.NaN, nan))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NaN");
    }

    @Test
    void scoreTextsScoresEveryWindowAndCombines() throws Exception {
        String text = text(30);
        EncodedInput input = withNegative.encode(text, withNegative.defaultWindowOptions());
        assertThat(input.windowCount()).isGreaterThan(1);
        Prediction expected = withNegative.combine(withNegative.score(input.windows()));
        Prediction got = withNegative.scoreTexts(List.of("short", text)).get(1);
        assertThat(got.probabilities()).containsExactly(expected.probabilities(), within(1e-6f));
        assertThat(got.label()).isEqualTo(expected.label());
    }
}
