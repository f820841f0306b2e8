package dev.flinkslm.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.jobs.FlinkSlmCli;
import dev.flinkslm.models.compliance.DefaultModel;
import dev.flinkslm.models.compliance.EvalReport;
import dev.flinkslm.models.compliance.ModelEval;
import dev.flinkslm.models.compliance.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The {@code model} commands as users run them, on the built-in bundle and on a broken copy. */
class ModelCommandITCase {

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
        try {
            CommandLine cli = FlinkSlmCli.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(err, true));
            int code = cli.execute(args);
            return new Run(code, out + stdout.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(original);
        }
    }

    @Test
    void theDefaultBundleValidatesAndInspects() {
        Run validate = run("model", "validate", "--bundle", "default");
        assertThat(validate.code()).as(validate.err()).isZero();
        int golden = dev.flinkslm.models.compliance.internal.SoftmaxHead.fromJson(new String(
                        dev.flinkslm.models.compliance.internal.Resources.read(DefaultModel.HEAD_RESOURCE),
                        StandardCharsets.UTF_8))
                .golden()
                .size();
        assertThat(golden).isGreaterThanOrEqualTo(5);
        assertThat(validate.out())
                .contains("golden examples ok: " + golden + "/" + golden)
                .endsWith("valid" + System.lineSeparator());

        Run inspect = run("model", "inspect", "--bundle", "default");
        assertThat(inspect.code()).as(inspect.err()).isZero();
        assertThat(inspect.out())
                .contains(
                        "compliance-minilm",
                        DefaultModel.version(Precision.INT8),
                        "clear, sanctions, structuring, fraud, market_abuse",
                        "provider:          CPU");
    }

    @Test
    void aBrokenBundleFailsValidationWithTheReason() throws Exception {
        Path source = DefaultModel.bundleDirectory(Precision.INT8);
        Path broken = Files.createDirectories(tmp.resolve("broken"));
        for (String f : List.of("manifest.json", "model.onnx", "tokenizer.json")) {
            Files.copy(source.resolve(f), broken.resolve(f));
        }
        Files.writeString(broken.resolve("tokenizer.json"), "{}");
        Run validate = run("model", "validate", "--bundle", broken.toString());
        assertThat(validate.code()).isEqualTo(1);
        assertThat(validate.err()).contains("invalid: CHECKSUM_MISMATCH", "tokenizer.json");
    }

    @Test
    void evalPrintsTheConfusionMatrixAndMacroF1Last() throws Exception {
        Path data = tmp.resolve("fixture.jsonl");
        Files.writeString(
                data,
                String.join(
                        "\n",
                        "{\"text\":\"Wire 9,800 in cash today and another 9,700 tomorrow so the bank does not report it\",\"label\":\"structuring\"}",
                        "{\"text\":\"Lunch with the team on Friday, my treat\",\"label\":\"clear\"}",
                        "{\"text\":\"Buy before the merger news is public, my cousin on the deal team told me\",\"label\":\"market_abuse\"}",
                        "{\"text\":\"Your account is locked, send the code we texted you to unlock it\",\"label\":\"fraud\"}",
                        "{\"text\":\"Route the cargo through a third country so the sanctioned buyer is not on the papers\",\"label\":\"sanctions\"}"));
        Run eval = run("model", "eval", "--bundle", "default", "--data", data.toString());
        assertThat(eval.code()).as(eval.err()).isZero();
        String[] lines = eval.out().trim().split("\\R");
        EvalReport expected = ModelEval.run(
                DefaultModel.bundleDirectory(Precision.INT8),
                data,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertThat(lines[lines.length - 1])
                .isEqualTo(expected.summaryLine())
                .startsWith(String.format(java.util.Locale.ROOT, "macro_f1=%.4f clear_fpr=", expected.macroF1()))
                .contains(" ece=");
        assertThat(eval.out()).contains("precision", "recall", "f1", "structuring");
    }

    @Test
    void missingDataFileIsAClearError() {
        Run eval = run(
                "model",
                "eval",
                "--bundle",
                "default",
                "--data",
                tmp.resolve("nope.jsonl").toString());
        assertThat(eval.code()).isNotZero();
        assertThat(eval.err()).contains("--data").contains("does not exist");
    }

    @Test
    void importTurnsAHuggingFaceExportIntoABundleAndPrintsItsCanaryCommand() throws Exception {
        Path source = dev.flinkslm.models.TinyBundles.write(
                tmp.resolve("source"), new dev.flinkslm.models.TinyBundles.Spec().logits(true));
        Path export = Files.createDirectories(tmp.resolve("export"));
        Files.copy(source.resolve("model.onnx"), export.resolve("model.onnx"));
        Files.copy(source.resolve("tokenizer.json"), export.resolve("tokenizer.json"));
        Files.writeString(
                export.resolve("config.json"),
                "{\"model_type\":\"bert\",\"max_position_embeddings\":128,\"id2label\":{\"0\":\"clear\","
                        + "\"1\":\"sanctions\",\"2\":\"structuring\",\"3\":\"fraud\",\"4\":\"market_abuse\"}}");
        Path bundle = tmp.resolve("bundles/tiny-bert/1.0.0");

        Run imported = run(
                "model",
                "import",
                "--from",
                export.toString(),
                "--out",
                bundle.toString(),
                "--id",
                "tiny-bert",
                "--model-version",
                "1.0.0",
                "--negative-label",
                "clear");
        assertThat(imported.code()).as(imported.err()).isZero();
        assertThat(imported.out()).contains("imported " + bundle.toAbsolutePath());
        String deploy = imported.out()
                .lines()
                .filter(l -> l.startsWith("{"))
                .findFirst()
                .orElseThrow();
        dev.flinkslm.operators.versions.ModelCommand command =
                dev.flinkslm.operators.versions.ModelCommand.parse(deploy);
        assertThat(command.parseError).isNull();
        assertThat(command.actionValue()).isEqualTo(dev.flinkslm.operators.versions.ModelCommand.Action.DEPLOY);
        assertThat(command.roleValue()).isEqualTo(dev.flinkslm.operators.versions.ModelCommand.Role.CANARY);
        assertThat(command.percent).isEqualTo(10.0);
        assertThat(command.uri).isEqualTo(bundle.toAbsolutePath().toUri().toString());

        Run validate = run("model", "validate", "--bundle", bundle.toString());
        assertThat(validate.code()).as(validate.err()).isZero();
        Run inspect = run("model", "inspect", "--bundle", bundle.toString());
        assertThat(inspect.out()).contains("logits=logits (softmax applied)");

        Run again = run(
                "model",
                "import",
                "--from",
                export.toString(),
                "--out",
                bundle.toString(),
                "--id",
                "tiny-bert",
                "--model-version",
                "1.0.0");
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("import failed").contains("is not empty");
    }
}
