package dev.flinkslm.tests.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkslm.jobs.FlinkSlmCli;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.compliance.DefaultModel;
import dev.flinkslm.operators.versions.ModelCommand;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code model train --publish}: a classifier trained on the user's own labels (two labels relabelled from the
 * committed corpus) is written, validated and its canary DEPLOY sent to a real broker's command topic, where it
 * reads back as the command the job would act on.
 */
class ModelTrainPublishITCase {

    @RegisterExtension
    static final KafkaBroker KAFKA = KafkaBroker.perTestClass();

    @TempDir
    Path tmp;

    /** 40 fraud texts as "escalate" and 40 clear ones as "dismiss", the first of each in the corpus. */
    private Path dispositions() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> taken = new HashMap<>();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                DefaultModel.class.getClassLoader().getResourceAsStream(DefaultModel.CORPUS_RESOURCE),
                StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                JsonNode n = json.readTree(line);
                String label = n.get("label").asText();
                String disposition = "fraud".equals(label) ? "escalate" : "clear".equals(label) ? "dismiss" : null;
                if (disposition != null && taken.merge(disposition, 1, Integer::sum) <= 40) {
                    lines.add(json.createObjectNode()
                            .put("eventId", "case-" + lines.size())
                            .put("text", n.get("text").asText())
                            .put("label", disposition)
                            .toString());
                }
            }
        }
        return Files.write(tmp.resolve("dispositions.jsonl"), lines);
    }

    @Test
    void trainsValidatesAndPublishesTheCanaryCommand() throws Exception {
        String topic = "commands-" + System.nanoTime();
        KAFKA.createTopic(topic, 1);
        Path out = tmp.resolve("triage");
        StringWriter err = new StringWriter();
        StringWriter stdout = new StringWriter();
        CommandLine cli = FlinkSlmCli.commandLine();
        cli.setOut(new PrintWriter(stdout, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(
                "model", "train",
                "--data", dispositions().toString(),
                "--out", out.toString(),
                "--id", "triage",
                "--model-version", "3.1.0",
                "--negative-label", "dismiss",
                "--publish", KAFKA.bootstrapServers(),
                "--commands-topic", topic,
                "--canary-percent", "25");
        assertThat(code).as(err.toString()).isZero();
        assertThat(stdout.toString()).contains("deploy it as a 25% canary").contains("published to " + topic + "-0@0");

        ModelBundle bundle = BundleLoader.verify(out.resolve("int8").toUri(), out.resolve("int8"), null);
        assertThat(bundle.manifest().labels()).containsExactly("dismiss", "escalate");
        assertThat(bundle.manifest().version()).isEqualTo("3.1.0-int8");

        List<ConsumerRecord<byte[], byte[]>> records = KAFKA.readCommitted(topic, Duration.ofSeconds(30));
        assertThat(records).hasSize(1);
        assertThat(new String(records.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("triage");
        ModelCommand command = ModelCommand.parse(new String(records.get(0).value(), StandardCharsets.UTF_8));
        assertThat(command.parseError).isNull();
        assertThat(command.actionValue()).isEqualTo(ModelCommand.Action.DEPLOY);
        assertThat(command.roleValue()).isEqualTo(ModelCommand.Role.CANARY);
        assertThat(command.percent).isEqualTo(25.0);
        assertThat(command.uri)
                .isEqualTo(out.resolve("int8").toAbsolutePath().toUri().toString());
        assertThat(command.commandId).isEqualTo("deploy-triage-3.1.0-int8");
    }
}
