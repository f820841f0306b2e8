package dev.flinkslm.models.compliance;

import dev.flinkslm.models.compliance.internal.HeadTrainer;
import dev.flinkslm.models.compliance.internal.LabeledText;
import dev.flinkslm.models.compliance.internal.MlpTrainer;
import dev.flinkslm.models.compliance.internal.TrainingEncoder;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes the model card of a {@link ModelTrain} run: data, encoder, parameters and holdout figures. Stateless. */
final class ModelCard {

    private ModelCard() {}

    static String write(
            ModelTrain.Options o,
            ModelTrain.Data d,
            TrainingEncoder reference,
            List<TrainingEncoder> encoders,
            double l2,
            double temperature,
            Map<String, EvalReport> reports,
            EvalReport crossFitted,
            double agreement,
            List<LabeledText> golden) {
        StringBuilder s = new StringBuilder();
        s.append("# Model card: ")
                .append(o.id())
                .append(' ')
                .append(o.version())
                .append("\n\n");
        s.append("Trained by `flink-slm model train`. A screening aid that ranks texts for human review; it is only as")
                .append(" good as the labels it was trained on.\n\n");
        s.append("| bundle | version | encoder |\n|---|---|---|\n");
        for (TrainingEncoder e : encoders) {
            s.append("| `")
                    .append(ModelTrain.tagOf(e))
                    .append("/` | `")
                    .append(e.version(o.version()))
                    .append("` | ")
                    .append(e.name())
                    .append(e.tag() == null ? "" : " " + e.tag())
                    .append(" |\n");
        }
        s.append("\n## Data\n\n");
        s.append("* File `")
                .append(o.data().getFileName())
                .append("`, ")
                .append(d.texts.size())
                .append(" texts, sha256 `")
                .append(d.sha256)
                .append("`.\n");
        s.append("* Holdout: ")
                .append(Math.round(o.holdout() * 100))
                .append("% of each label's distinct texts, chosen by a hash of the text (repeated texts stay on one")
                .append(" side: ")
                .append(d.duplicates)
                .append(" repeats; ")
                .append(d.conflicting)
                .append(" texts with conflicting labels, trained on and never held out).\n");
        s.append("* Negative label (means nothing found): ")
                .append(o.negativeLabel() == null ? "none" : "`" + o.negativeLabel() + "`")
                .append(".\n\n");
        s.append("| label | texts | train | holdout | class weight |\n|---|---:|---:|---:|---:|\n");
        int[] trainY = d.gold(d.indices("train"));
        double[] w = HeadTrainer.balancedWeights(trainY, d.labels.size());
        for (int c = 0; c < d.labels.size(); c++) {
            double weight = 0;
            for (int i = 0; i < trainY.length; i++) {
                if (trainY[i] == c) {
                    weight = w[i];
                    break;
                }
            }
            s.append(String.format(
                    Locale.ROOT,
                    "| `%s` | %d | %d | %d | %.3f |%n",
                    d.labels.get(c),
                    d.count(c, "train") + d.count(c, "holdout"),
                    d.count(c, "train"),
                    d.count(c, "holdout"),
                    weight));
        }
        s.append("\n## Model and parameters\n\n");
        s.append("* Encoder: ")
                .append(reference.name())
                .append(", frozen; masked mean pooling and L2 normalisation; at most ")
                .append(reference.maxLength())
                .append(" tokens per window (longer texts are scored in windows by the runtime).\n");
        boolean mlp = o.head() == ModelTrain.Head.MLP;
        s.append(
                        mlp
                                ? "* Head: one hidden layer of " + MlpTrainer.Config.HIDDEN
                                        + " ReLU units and a softmax over "
                                : "* Head: linear softmax over ")
                .append(d.labels.size())
                .append(" labels, trained on the ")
                .append(reference.tag() == null ? "export's" : reference.tag())
                .append(" embeddings with class weights n / (k * n_label), ")
                .append(
                        mlp
                                ? MlpTrainer.Config.EPOCHS + " epochs of AdamW (batch " + MlpTrainer.Config.BATCH
                                        + ", learning rate " + MlpTrainer.Config.LEARNING_RATE
                                        + ", cosine schedule, seed "
                                        + MlpTrainer.Config.SEED + ")"
                                : HeadTrainer.DEFAULT_ITERATIONS + " iterations of accelerated gradient descent")
                .append(".\n");
        s.append(String.format(
                Locale.ROOT,
                "* %s %g, chosen by validation macro-F1 on %d%% of the training texts from %s; refit on"
                        + " all training texts.%n",
                mlp ? "Weight decay" : "L2 penalty",
                l2,
                Math.round(ModelTrain.VALIDATION_SHARE * 100),
                java.util.Arrays.toString(mlp ? ModelTrain.WEIGHT_DECAY_GRID : ModelTrain.L2_GRID)));
        s.append(String.format(
                Locale.ROOT,
                "* Temperature %.4f, fitted on the holdout (negative log-likelihood) and folded into the head.%n",
                temperature));
        s.append("\n## Holdout results\n\n");
        for (Map.Entry<String, EvalReport> r : reports.entrySet()) {
            EvalReport e = r.getValue();
            s.append("### `").append(r.getKey()).append("/`\n\n");
            s.append("| label | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|\n");
            int[][] conf = e.confusion();
            for (int c = 0; c < e.labels().size(); c++) {
                int support = 0;
                for (int v : conf[c]) {
                    support += v;
                }
                s.append(String.format(
                        Locale.ROOT,
                        "| `%s` | %.4f | %.4f | %.4f | %d |%n",
                        e.labels().get(c),
                        e.precision(c),
                        e.recall(c),
                        e.f1(c),
                        support));
            }
            s.append("\n`").append(e.summaryLine()).append("`\n\n");
        }
        s.append(String.format(
                Locale.ROOT,
                "Calibration error with the temperature fitted on the other half of the holdout (what a new text"
                        + " can expect): %.4f. The figures above use the temperature fitted on the whole holdout.%n%n",
                crossFitted.expectedCalibrationError()));
        if (encoders.size() > 1) {
            s.append(String.format(
                    Locale.ROOT, "All bundles give the same label on %.2f%% of the holdout.%n%n", agreement * 100));
        }
        s.append("### Precision of alerts by threshold\n\n");
        s.append("Alerts: holdout texts whose top label is not the negative label and whose score is at least the")
                .append(" threshold (cross-fitted temperature, fp32 or the export).\n\n");
        s.append("| threshold | alerts | precision |\n|---:|---:|---:|\n");
        for (double t : ModelTrain.THRESHOLDS) {
            double[] pa = crossFitted.alertPrecisionAt(t);
            s.append(String.format(
                    Locale.ROOT,
                    "| %.1f | %d | %s |%n",
                    t,
                    (int) pa[1],
                    pa[1] == 0 ? "-" : String.format(Locale.ROOT, "%.4f", pa[0])));
        }
        s.append("\n## Golden examples\n\n");
        s.append(golden.size())
                .append(" holdout texts (up to ")
                .append(ModelTrain.GOLDEN_PER_LABEL)
                .append(" per label that every bundle gets right with a probability above 0.6) are in each")
                .append(" manifest; a version that classifies any of them differently is not admitted.\n");
        return s.toString();
    }
}
