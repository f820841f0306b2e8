package dev.flinkslm.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flinkslm.jobs.FlinkSlmCli;
import dev.flinkslm.screening.FinancialEvent;
import dev.flinkslm.screening.ScreeningSchemas;
import dev.flinkslm.screening.SyntheticEventGenerator;
import dev.flinkslm.tests.ScreeningTests;
import dev.flinkslm.tests.kafka.KafkaBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * {@code screen} in Kafka mode from the command line (flags only, local environment): a bounded
 * backfill of a topic with good and bad events ends by itself, writes every result once with the
 * EXACTLY_ONCE sinks, passes Kafka client properties through, and its summary adds up.
 */
class ScreenCommandKafkaITCase {

    private static final int GOOD = 120;

    @RegisterExtension
    static final KafkaBroker KAFKA = KafkaBroker.perTestClass();

    @TempDir
    Path models;

    @Test
    @Timeout(120)
    void boundedKafkaRunFromFlagsScoresEveryEventOnce() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        KAFKA.createTopics(2, "events-" + run, "scored-" + run, "alerts-" + run);
        KAFKA.createTopics(1, "dead-" + run);
        Path bundle = ScreeningTests.tinyBundle(models, "1", 7);

        SyntheticEventGenerator generator =
                SyntheticEventGenerator.builder().seed(21).build();
        List<String> ids = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        for (long i = 0; i < GOOD; i++) {
            FinancialEvent e = generator.generate(i);
            ids.add(e.eventId);
            values.add(ScreeningSchemas.financialEvents().serialize(e));
        }
        values.add("{\"eventId\":\"bad\"".getBytes(StandardCharsets.UTF_8));
        values.add("{\"eventId\":\"nan\",\"accountId\":\"A\",\"kind\":\"PAYMENT\",\"text\":\"t\",\"amount\":NaN}"
                .getBytes(StandardCharsets.UTF_8));
        KAFKA.produce("events-" + run, values);

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = FlinkSlmCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(
                "screen",
                "--bootstrap-servers",
                KAFKA.bootstrapServers(),
                "--events-topic",
                "events-" + run,
                "--scored-topic",
                "scored-" + run,
                "--alerts-topic",
                "alerts-" + run,
                "--dead-letter-topic",
                "dead-" + run,
                "--group-id",
                "cli-" + run,
                "--transactional-id-prefix",
                "cli-" + run,
                "--transaction-timeout",
                "5min",
                "--starting-offsets",
                "EARLIEST",
                "--bounded",
                "--no-model-commands",
                "--kafka-property",
                "client.dns.lookup=use_all_dns_ips",
                "--model",
                bundle.toString(),
                "--model-root",
                models.toString(),
                "--provider",
                "CPU",
                "--parallelism",
                "2",
                "--checkpoint-interval",
                "500ms",
                "--status-interval",
                "500ms");

        assertThat(code).as("exit code; stderr:%n%s%nstdout:%n%s", err, out).isZero();
        assertThat(out.toString())
                .contains(
                        "source KAFKA, sinks KAFKA, model commands NONE",
                        "stops by itself",
                        "inputs:         " + (GOOD + 2) + " (scored " + GOOD + " + dead letters 2");
        List<JsonNode> scored = ScreeningTests.committed(KAFKA, "scored-" + run);
        assertThat(scored)
                .extracting(n -> n.get("eventId").asText())
                .doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(ids);
        assertThat(scored)
                .allSatisfy(n -> assertThat(n.get("modelId").asText() + ":"
                                + n.get("modelVersion").asText())
                        .isEqualTo("tiny:1"));
        List<String> reasons = ScreeningTests.committed(KAFKA, "dead-" + run).stream()
                .map(n -> n.get("reason").asText())
                .sorted()
                .collect(Collectors.toList());
        assertThat(reasons).containsExactly("NON_FINITE_NUMBER", "TRUNCATED_JSON");
    }
}
