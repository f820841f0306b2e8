package dev.flinkslm.tests.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkslm.connectors.FileResultSink;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.models.FailClosedBundlesTest;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.screening.ScreeningConfig;
import dev.flinkslm.screening.ScreeningJob;
import dev.flinkslm.screening.ScreeningSinks;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The screening pipeline in file mode never turns an unscreened or broken result into a silent clear. */
class FailClosedPipelineITCase {

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(1)
            .build());

    @TempDir
    Path tmp;

    private Map<String, List<JsonNode>> run(Configuration options, List<String> lines) throws Exception {
        Path events = tmp.resolve("events.jsonl");
        Files.write(events, lines, StandardCharsets.UTF_8);
        Path out = tmp.resolve("out");
        options.set(ScoringOptions.PROVIDER, ExecutionProvider.CPU);
        options.set(ScoringOptions.MAX_BATCH_SIZE, 16);
        options.set(ScoringOptions.MAX_WAIT, Duration.ofMillis(20));
        ScreeningConfig config = ScreeningConfig.builder()
                .options(options)
                .eventsFile(events.toString())
                .outputDir(out.toString())
                .parallelism(1)
                .restartAttempts(0)
                .checkpointInterval(Duration.ofMillis(500))
                .build();
        StreamExecutionEnvironment env = ScreeningJob.environment(config);
        ScreeningJob.build(env, config);
        env.execute("flink-slm-tests");
        Map<String, List<JsonNode>> result = new LinkedHashMap<>();
        result.put("scored", read(out.resolve(ScreeningSinks.SCORED_DIR)));
        result.put("alerts", read(out.resolve(ScreeningSinks.ALERTS_DIR)));
        result.put("dead", read(out.resolve(FileResultSink.DEAD_LETTER_DIR)));
        return result;
    }

    private static List<JsonNode> read(Path dir) throws IOException {
        List<JsonNode> nodes = new ArrayList<>();
        if (!Files.exists(dir)) {
            return nodes;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                    nodes.add(JSON.readTree(line));
                }
            }
        }
        return nodes;
    }

    private static String event(String id, String text) throws IOException {
        return JSON.writeValueAsString(Map.of("eventId", id, "accountId", "A-" + id, "text", text));
    }

    /**
     * .. beyond [the window cap] the event is
     * marked truncated in its result ... never silently cut"). With the built-in model a structuring
     * text alone alerts; the same text after ~10 KB of small talk (more than 16 windows, far below the
     * 1 MiB event limit) is written as label "clear" with no alert, no dead letter and no truncated or
     * windows field in the result. */
    @Test
    void aFindingAfterSixteenWindowsOfSmallTalkIsNotSilentlyClear() throws Exception {
        String benign = "Thanks for the notes from this morning, the team lunch moves to Thursday at noon. ";
        String finding = "The customer deposited 9,850, 9,600 and 9,900 in cash on three consecutive days;"
                + " she asked what the reporting limit was. ";
        Map<String, List<JsonNode>> out = run(
                new Configuration(),
                List.of(event("alone", finding.repeat(4)), event("padded", benign.repeat(120) + finding.repeat(4))));
        assertThat(out.get("scored")).hasSize(2);
        JsonNode alone = out.get("scored").stream()
                .filter(n -> n.get("eventId").asText().equals("alone"))
                .findFirst()
                .orElseThrow();
        JsonNode padded = out.get("scored").stream()
                .filter(n -> n.get("eventId").asText().equals("padded"))
                .findFirst()
                .orElseThrow();
        assertThat(alone.get("label").asText()).isEqualTo("structuring");
        boolean flagged = padded.path("truncated").asBoolean(false);
        boolean alerted = out.get("alerts").stream()
                .anyMatch(a -> a.get("eventId").asText().equals("padded"));
        assertThat(flagged || alerted)
                .as(
                        "padded event: label=%s score=%s fields=%s, no alert",
                        padded.get("label"),
                        padded.get("score"),
                        padded.fieldNames().hasNext() ? JSON.writeValueAsString(padded.fieldNames()) : "")
                .isTrue();
    }

    /**
     * A model answering an exact tie clear=0.5,
     * sanctions=0.5 (negativeLabel clear): the operator gives the tie to sanctions, the job's
     * ScoredEvent.of recomputes the arg-max with index 0 winning and writes "clear": no alert,
     * although 0.5 reaches the default threshold.
     */
    @Test
    void anExactTieIsWrittenAsAFindingAndAlerts() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().id("tie").negativeLabel("clear");
        Path root = Files.createDirectories(tmp.resolve("models"));
        Path dir = TinyBundles.write(root.resolve("tie"), spec);
        Files.write(dir.resolve("model.onnx"), FailClosedBundlesTest.constantRowGraph(spec, 0.5f, 0.5f, 0f, 0f, 0f));
        TinyBundles.writeManifest(dir, spec);
        Configuration c = new Configuration();
        c.set(ScoringOptions.MODEL, dir.toString());
        c.set(ScoringOptions.MODEL_ROOTS, List.of(root.toString()));
        Map<String, List<JsonNode>> out = run(c, List.of(event("t1", "anything")));
        assertThat(out.get("scored"))
                .singleElement()
                .satisfies(n -> assertThat(n.get("label").asText()).as("label").isEqualTo("sanctions"));
        assertThat(out.get("alerts")).hasSize(1);
    }

    /**
     * A model whose rows
     * are within OutputCheck's tolerance but outside [0,1] (1.00005 / -0.00005) passes the operator and
     * then fails the job in ToScoredEvent (ScoredEvent.of: IllegalArgumentException), so one event
     * stops the whole screen (and on restart fails again). Expected: dead letter or clamped score.
     */
    @Test
    void aRowWithinTheToleranceButOutsideZeroOneDoesNotStopTheJob() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().id("tol").negativeLabel("clear");
        Path root = Files.createDirectories(tmp.resolve("models"));
        Path dir = TinyBundles.write(root.resolve("tol"), spec);
        Files.write(
                dir.resolve("model.onnx"),
                FailClosedBundlesTest.constantRowGraph(spec, 0f, 1.00005f, 0f, 0f, -0.00005f));
        TinyBundles.writeManifest(dir, spec);
        Configuration c = new Configuration();
        c.set(ScoringOptions.MODEL, dir.toString());
        c.set(ScoringOptions.MODEL_ROOTS, List.of(root.toString()));
        Map<String, List<JsonNode>> out;
        try {
            out = run(c, List.of(event("t1", "anything"), event("t2", "more")));
        } catch (Exception e) {
            Throwable t = e;
            while (t.getCause() != null) {
                t = t.getCause();
            }
            throw new AssertionError("the job failed instead of dead-lettering or scoring: " + t, e);
        }
        assertThat(out.get("scored").size() + out.get("dead").size()).isEqualTo(2);
    }

    /**
     * : a model that is NaN only for some inputs dead-letters exactly those
     * events as MODEL_OUTPUT_INVALID in the job's dead-letter output; the rest of their batch is scored.
     * (No existing test checks MODEL_OUTPUT_INVALID at job level: see the mutation check on ToDeadLetter.)
     */
    @Test
    void aRowThatIsNaNForSomeInputsIsDeadLetteredAsModelOutputInvalid() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("models"));
        Path plain = TinyBundles.write(root.resolve("plain"), new TinyBundles.Spec());
        long trigger;
        try (var s = dev.flinkslm.models.ScoringSession.open(
                dev.flinkslm.models.BundleLoader.verify(plain.toUri(), plain, null),
                dev.flinkslm.models.RuntimeOptions.cpu())) {
            trigger = s.encode("zebra").ids()[1];
        }
        Path nan = TinyBundles.write(
                root.resolve("nan"),
                new TinyBundles.Spec()
                        .id("nan")
                        .negativeLabel("clear")
                        .badOutput(TinyBundles.BadOutput.NAN)
                        .badOnTokenId(trigger));
        Configuration c = new Configuration();
        c.set(ScoringOptions.MODEL, nan.toString());
        c.set(ScoringOptions.MODEL_ROOTS, List.of(root.toString()));
        Map<String, List<JsonNode>> out = run(
                c,
                List.of(
                        event("a", "wire 9000 cash"),
                        event("z", "a zebra crossing"),
                        event("b", "invoice 42 paid"),
                        event("c", "salary")));
        assertThat(out.get("scored"))
                .extracting(n -> n.get("eventId").asText())
                .containsExactlyInAnyOrder("a", "b", "c");
        assertThat(out.get("dead")).singleElement().satisfies(d -> {
            assertThat(d.get("reason").asText()).isEqualTo("MODEL_OUTPUT_INVALID");
            assertThat(d.get("message").asText()).doesNotContain("zebra");
        });
    }
}
