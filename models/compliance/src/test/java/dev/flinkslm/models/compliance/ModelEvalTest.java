package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.flinkslm.models.compliance.internal.BundleWriter;
import dev.flinkslm.models.compliance.internal.ComplianceTraining;
import dev.flinkslm.models.compliance.internal.LabeledText;
import dev.flinkslm.models.compliance.internal.OnnxHeadFusion;
import dev.flinkslm.models.compliance.internal.OrtTextModel;
import dev.flinkslm.models.compliance.internal.Resources;
import dev.flinkslm.models.compliance.internal.SoftmaxHead;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * ModelEval on a fixture whose predictions are known by construction: the head's weight row of label k is
 * 50 x the embedding of prototype text k, so each prototype text is predicted as its own label (cosine 1
 * against itself, clearly below 1 against the others).
 */
class ModelEvalTest {

    private static final List<String> PROTOTYPES = List.of(
            "Rent for the flat, March", // -> clear
            "ship it via the free zone so the bank never sees the end buyer", // -> sanctions
            "deposit 9,500 today and 9,500 tomorrow at another branch", // -> structuring
            "Your account is locked, confirm your PIN at this link", // -> fraud
            "buy the shares before the merger is announced"); // -> market_abuse

    @TempDir
    static Path dir;

    static Path bundle;

    @BeforeAll
    static void buildFixtureBundle() throws Exception {
        float[][] e;
        try (OrtTextModel enc = ComplianceTraining.openEncoder(Precision.INT8)) {
            e = enc.embedUnfused(PROTOTYPES);
        }
        float[][] w = new float[5][384];
        for (int k = 0; k < 5; k++) {
            for (int d = 0; d < 384; d++) {
                w[k][d] = 50f * e[k][d];
            }
        }
        SoftmaxHead head = new SoftmaxHead(ComplianceLabels.ALL, w, new float[5], Map.of(), List.of());
        bundle = dir.resolve("bundle");
        BundleWriter.write(
                bundle,
                Precision.INT8,
                OnnxHeadFusion.fuse(Resources.read(Precision.INT8.encoderResource()), head),
                Resources.read(Precision.INT8.tokenizerResource()),
                head,
                Map.of());
    }

    @Test
    void printsHandComputedFigures() throws Exception {
        // gold labels vs (known) predictions:
        //   P0 gold clear -> clear      P1 gold sanctions -> sanctions   P2 gold structuring -> structuring
        //   P3 gold fraud -> fraud      P4 gold market_abuse -> market_abuse
        //   P0 gold fraud -> clear (miss)   P1 gold clear -> sanctions (miss)   P4 gold market_abuse -> market_abuse
        // clear: P=1/2 R=1/2 F1=0.5; sanctions: P=1/2 R=1 F1=2/3; structuring: 1/1/1; fraud: P=1 R=1/2 F1=2/3;
        // market_abuse: 1/1/1; macro-F1 = (0.5 + 2/3 + 1 + 2/3 + 1) / 5 = 0.76667
        Path data = dir.resolve("fixture.jsonl");
        List<LabeledText> rows = List.of(
                new LabeledText(PROTOTYPES.get(0), "clear", null),
                new LabeledText(PROTOTYPES.get(1), "sanctions", null),
                new LabeledText(PROTOTYPES.get(2), "structuring", null),
                new LabeledText(PROTOTYPES.get(3), "fraud", null),
                new LabeledText(PROTOTYPES.get(4), "market_abuse", null),
                new LabeledText(PROTOTYPES.get(0), "fraud", null),
                new LabeledText(PROTOTYPES.get(1), "clear", null),
                new LabeledText(PROTOTYPES.get(4), "market_abuse", null));
        Files.write(data, rows.stream().map(LabeledText::toJsonLine).toList());

        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        EvalReport r = ModelEval.run(bundle, data, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String[] lines = buf.toString(StandardCharsets.UTF_8).strip().split("\n");

        assertThat(lines[lines.length - 1])
                .isEqualTo(r.summaryLine())
                .matches("macro_f1=0\\.7667 clear_fpr=0\\.5000 ece=0\\.\\d{4}");
        assertThat(r.confusion()).isDeepEqualTo(new int[][] {
            {1, 1, 0, 0, 0},
            {0, 1, 0, 0, 0},
            {0, 0, 1, 0, 0},
            {1, 0, 0, 1, 0},
            {0, 0, 0, 0, 2}
        });
        assertThat(r.precision(0)).isCloseTo(0.5, within(1e-12));
        assertThat(r.recall(1)).isCloseTo(1.0, within(1e-12));
        assertThat(r.f1(3)).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(r.macroF1()).isCloseTo((0.5 + 2.0 / 3 + 1 + 2.0 / 3 + 1) / 5, within(1e-12));
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("sanctions").contains("0.5000", "1.0000", "0.6667"));
    }

    @Test
    void countsFlaggedHardNegativesOnTheLineBeforeTheSummary() throws Exception {
        // two clear hard negatives: P0 stays clear, P1 is scored sanctions (flagged); a "hard_negative" kind on a
        // non-clear text is a labelling slip and not counted
        Path data = dir.resolve("kinds.jsonl");
        Files.write(
                data,
                List.of(
                        "{\"text\":\"" + PROTOTYPES.get(0) + "\",\"label\":\"clear\",\"kind\":\"hard_negative\"}",
                        "",
                        "{\"text\":\"" + PROTOTYPES.get(1) + "\",\"label\":\"clear\",\"kind\":\"hard_negative\"}",
                        "{\"text\":\"" + PROTOTYPES.get(2) + "\",\"label\":\"structuring\",\"kind\":\"hard_negative\"}",
                        "{\"text\":\"" + PROTOTYPES.get(3) + "\",\"label\":\"fraud\",\"kind\":\"positive\"}"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        EvalReport r = ModelEval.run(bundle, data, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String[] lines = buf.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertThat(lines[lines.length - 1]).isEqualTo(r.summaryLine());
        assertThat(lines).contains("hard_negatives=2 flagged=1 hard_negative_fpr=0.5000");
    }

    @Test
    void rejectsUnknownLabelsWithTheValidSet() throws Exception {
        Path data = dir.resolve("bad.jsonl");
        Files.writeString(data, "{\"text\":\"hello\",\"label\":\"spam\"}\n");
        assertThatThrownBy(() -> ModelEval.run(bundle, data, new PrintStream(new ByteArrayOutputStream())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'spam'")
                .hasMessageContaining("market_abuse");
    }
}
