package dev.flinkslm.tests.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.connectors.DeadLetterReason;
import dev.flinkslm.connectors.FileResultSink;
import dev.flinkslm.connectors.JsonSchemas;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.ModelImport;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.screening.AlertPolicy;
import dev.flinkslm.screening.FinancialEvent;
import dev.flinkslm.screening.ScreeningConfig;
import dev.flinkslm.screening.ScreeningJob;
import dev.flinkslm.screening.ScreeningOptions;
import dev.flinkslm.screening.ScreeningSchemas;
import dev.flinkslm.screening.ScreeningSinks;
import dev.flinkslm.screening.SyntheticEventGenerator;
import dev.flinkslm.tests.FailOnceAfterCheckpoint;
import dev.flinkslm.tests.ScreeningTests;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
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
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The screening job ({@link ScreeningJob}, tiny generated models) in file mode: JSON-lines file in,
 * file sinks out. Every good line scored once, alerts as the policy says, every bad line
 * dead-lettered with its line number and reason, all files finalised at the end of the bounded
 * run; once with a live model swap from a commands file (audit files), once across an injected
 * failure and restore; a shadow version compared on live events; an imported multi-label model whose own
 * per-label thresholds decide its labels and alerts.
 */
class FileModeITCase {

    private static final int GOOD = 300;
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @TempDir
    Path tmp;

    @Test
    void boundedRunWithALiveModelSwapFinalisesAllOutputs() throws Exception {
        runAndCheck(false, true);
    }

    @Test
    void failureAndRestoreKeepOutputsExactAndLineNumbersRight() throws Exception {
        runAndCheck(true, false);
    }

    /**
     * Events the model cannot score (every batch exceeds the inference timeout) are dead-lettered
     * as PROCESSING_FAILED with the operator's reason, replayable as input JSON and pointing at
     * their input line, next to the parse dead letters; inputs = scored + dead letters still holds.
     */
    @Test
    void scoringFailuresAreDeadLetteredAndCounted() throws Exception {
        Path input = tmp.resolve("events.jsonl");
        Path out = tmp.resolve("out");
        SyntheticEventGenerator generator =
                SyntheticEventGenerator.builder().seed(5).build();
        List<String> lines = new ArrayList<>();
        List<String> goodIds = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            FinancialEvent e = generator.generate(i);
            goodIds.add(e.eventId);
            lines.add(JsonSchemas.toJson(ScreeningSchemas.financialEvents(), e));
        }
        lines.add("{\"eventId\":\"x\",\"accountId\":\"A\",\"kind\":\"PAYMENT\",\"text\":\"t\",\"amount\":\"12\"}");
        Files.writeString(input, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);

        Path models = tmp.resolve("models");
        Path slow = TinyBundles.write(
                models.resolve("slow"),
                new TinyBundles.Spec().id("tiny").version("slow").slow(100));
        Configuration options = ScreeningTests.scoring(slow, models);
        options.set(ScoringOptions.INFERENCE_TIMEOUT, Duration.ofMillis(1));
        options.set(ScoringOptions.MAX_RETRIES, 0);
        // every run times out here on purpose: keep the circuit breaker from failing the job first
        options.set(ScoringOptions.MAX_CONSECUTIVE_TIMEOUTS, 1_000);
        options.set(ScoringOptions.MAX_BATCH_SIZE, 3);
        ScreeningConfig config = ScreeningConfig.builder()
                .options(options)
                .eventsFile(input.toString())
                .outputDir(out.toString())
                .parallelism(1)
                .build();
        StreamExecutionEnvironment env = ScreeningJob.environment(config);
        ScreeningJob.build(env, config);
        env.execute("file-mode-scoring-failures-it");

        assertThat(readLines(out.resolve(ScreeningSinks.SCORED_DIR))).isEmpty();
        assertThat(readLines(out.resolve(ScreeningSinks.ALERTS_DIR))).isEmpty();
        List<JsonNode> dead = readLines(out.resolve(FileResultSink.DEAD_LETTER_DIR));
        assertThat(dead).hasSize(lines.size());
        assertThat(dead)
                .filteredOn(n -> n.get("reason").asText().equals("WRONG_TYPE"))
                .hasSize(1);
        List<JsonNode> scoring = dead.stream()
                .filter(n -> n.get("reason").asText().equals("PROCESSING_FAILED"))
                .collect(Collectors.toList());
        assertThat(scoring).allSatisfy(n -> {
            assertThat(n.get("message").asText())
                    .startsWith("INFERENCE_TIMEOUT")
                    .contains("tiny:slow");
            assertThat(n.get("payloadTruncated").asBoolean()).isFalse();
        });
        // The payload is the event as input JSON: it parses back to the same event.
        List<String> replayedIds = new ArrayList<>();
        for (JsonNode n : scoring) {
            byte[] payload =
                    java.util.Base64.getDecoder().decode(n.get("payloadBase64").asText());
            replayedIds.add(JSON.readTree(payload).get("eventId").asText());
        }
        assertThat(replayedIds).containsExactlyInAnyOrderElementsOf(goodIds);
        // Each points at the input line its event was read from, like a parse dead letter.
        for (JsonNode n : scoring) {
            String eventId = JSON.readTree(java.util.Base64.getDecoder()
                            .decode(n.get("payloadBase64").asText()))
                    .get("eventId")
                    .asText();
            assertThat(n.get("source").get("system").asText()).isEqualTo("file");
            assertThat(n.get("source").get("name").asText()).endsWith("events.jsonl");
            assertThat(n.get("source").get("line").asLong())
                    .as("line of %s", eventId)
                    .isEqualTo(goodIds.indexOf(eventId) + 1L);
        }
    }

    @Test
    void aShadowVersionIsComparedOnLiveEventsAndTheComparisonsAreWrittenWithoutText() throws Exception {
        Path out = tmp.resolve("shadow-out");
        Path models = tmp.resolve("models");
        Path v1 = ScreeningTests.tinyBundle(models, "1", 7);
        Path v2 = ScreeningTests.tinyBundle(models, "2", 99);
        Path commands = tmp.resolve("shadow-commands.jsonl");
        Files.writeString(
                commands,
                ModelCommand.deploy("shadow-2", v2.toUri().toString(), ModelCommand.Role.SHADOW)
                                .toJson() + "\n",
                StandardCharsets.UTF_8);
        int events = 1200;
        long seed = 23;
        ScreeningConfig config = ScreeningConfig.builder()
                .options(ScreeningTests.scoring(v1, models))
                .maxEvents(events)
                .eventsPerSecond(400) // three seconds of events: the shadow is loaded well before the end
                .seed(seed)
                .commandsFile(commands.toString())
                .outputDir(out.toString())
                .parallelism(2)
                .checkpointInterval(Duration.ofMillis(200))
                .build();
        StreamExecutionEnvironment env = ScreeningJob.environment(config);
        ScreeningJob.screen(ScreeningJob.read(env, config), config, false);
        env.execute("shadow-it");

        Map<String, String> served = new LinkedHashMap<>();
        for (JsonNode n : readLines(out.resolve(ScreeningSinks.SCORED_DIR))) {
            served.put(n.get("eventId").asText(), n.get("label").asText());
            assertThat(n.get("modelVersion").asText())
                    .as("a shadow never serves")
                    .isEqualTo("1");
        }
        assertThat(served).hasSize(events);
        List<JsonNode> shadow = readLines(out.resolve(ScreeningSinks.SHADOW_DIR));
        assertThat(shadow).as("comparisons once the shadow is loaded").hasSizeGreaterThan(events / 4);
        assertThat(shadow).extracting(n -> n.get("eventId").asText()).doesNotHaveDuplicates();
        Map<String, String> texts = syntheticTexts(seed, events);
        ModelBundle bundle2 = dev.flinkslm.models.BundleLoader.verify(v2.toUri(), v2, null);
        try (ScoringSession session = ScoringSession.open(bundle2, RuntimeOptions.cpu())) {
            for (JsonNode n : shadow) {
                String id = n.get("eventId").asText();
                assertThat(n.has("text")).as("no event text in a comparison").isFalse();
                assertThat(n.get("servedModel").asText()).isEqualTo("tiny:1");
                assertThat(n.get("shadowModel").asText()).isEqualTo("tiny:2");
                assertThat(n.get("servedLabel").asText()).as(id).isEqualTo(served.get(id));
                Prediction p = session.scoreTexts(List.of(texts.get(id))).get(0);
                assertThat(n.get("shadowLabel").asText()).as(id).isEqualTo(p.label());
                assertThat(n.get("shadowScore").floatValue())
                        .isCloseTo(p.score(), org.assertj.core.api.Assertions.within(1e-5f));
                assertThat(n.get("agree").asBoolean())
                        .isEqualTo(n.get("servedLabel")
                                .asText()
                                .equals(n.get("shadowLabel").asText()));
                assertThat(n.get("compared").asLong()).isPositive();
                assertThat(n.get("agreementRate").asDouble()).isBetween(0.0, 1.0);
            }
        }
        assertThat(shadow)
                .as("two different tiny models disagree somewhere")
                .anySatisfy(n -> assertThat(n.get("agree").asBoolean()).isFalse());
    }

    @Test
    void aMultiLabelModelsOwnThresholdsDecideItsAlertsEndToEnd() throws Exception {
        // an imported multi-label export: four sigmoid columns, "clear" derived, a threshold per label
        List<String> findings = List.of("sanctions", "structuring", "fraud", "market_abuse");
        Path source = TinyBundles.write(
                tmp.resolve("ml-source"),
                new TinyBundles.Spec().seed(5).logits(true).labels(findings));
        Path export = Files.createDirectories(tmp.resolve("ml-export"));
        Files.copy(source.resolve("model.onnx"), export.resolve("model.onnx"));
        Files.copy(source.resolve("tokenizer.json"), export.resolve("tokenizer.json"));
        Files.writeString(
                export.resolve("config.json"),
                "{\"model_type\":\"bert\",\"problem_type\":\"multi_label_classification\",\"id2label\":{"
                        + "\"0\":\"sanctions\",\"1\":\"structuring\",\"2\":\"fraud\",\"3\":\"market_abuse\"}}");
        Map<String, Double> modelThresholds = Map.of("sanctions", 0.995, "structuring", 0.4, "fraud", 0.3);
        Path models = tmp.resolve("ml-models");
        Path bundle = ModelImport.fromHuggingFace(
                export, models.resolve("ml"), new ModelImport.Options("ml", "1.0.0", "clear", modelThresholds));
        ModelManifest manifest = dev.flinkslm.models.BundleLoader.verify(bundle.toUri(), bundle, null)
                .manifest();
        Map<String, Double> thresholds = manifest.outputs().thresholds();
        assertThat(thresholds)
                .as("the import's thresholds, market_abuse at the import default")
                .containsOnly(
                        Map.entry("sanctions", 0.995),
                        Map.entry("structuring", 0.4),
                        Map.entry("fraud", 0.3),
                        Map.entry("market_abuse", 0.5));

        Path out = tmp.resolve("ml-out");
        int events = 400;
        long seed = 31;
        Configuration options = ScreeningTests.scoring(bundle, models);
        options.set(ScreeningOptions.ALERT_THRESHOLD, 0.8); // the job's default: the model's own thresholds win
        ScreeningConfig config = ScreeningConfig.builder()
                .options(options)
                .maxEvents(events)
                .seed(seed)
                .outputDir(out.toString())
                .parallelism(2)
                .checkpointInterval(Duration.ofMillis(200))
                .build();
        StreamExecutionEnvironment env = ScreeningJob.environment(config);
        ScreeningJob.build(env, config);
        env.execute("multi-label-alerts-it");

        Map<String, String> texts = syntheticTexts(seed, events);
        // expected, from the bundle's probabilities and the manifest's thresholds, computed here by hand
        Map<String, String> expectedAlerts = new LinkedHashMap<>();
        Map<String, String> expectedLabels = new LinkedHashMap<>();
        Map<String, String> aboveDefaultBelowModel = new LinkedHashMap<>();
        ModelBundle b = dev.flinkslm.models.BundleLoader.verify(bundle.toUri(), bundle, null);
        try (ScoringSession session = ScoringSession.open(b, RuntimeOptions.cpu())) {
            for (Map.Entry<String, String> t : texts.entrySet()) {
                float[] p = session.scoreTexts(List.of(t.getValue())).get(0).probabilities();
                String best = null;
                float bestP = -1;
                for (int i = 0; i < manifest.labels().size(); i++) {
                    String label = manifest.labels().get(i);
                    if (!label.equals("clear") && p[i] >= thresholds.get(label).floatValue() && p[i] > bestP) {
                        best = label;
                        bestP = p[i];
                    }
                    if (!label.equals("clear")
                            && p[i] >= 0.8f
                            && p[i] < thresholds.get(label).floatValue()) {
                        aboveDefaultBelowModel.put(t.getKey(), label);
                    }
                }
                expectedLabels.put(t.getKey(), best == null ? "clear" : best);
                if (best != null) {
                    expectedAlerts.put(t.getKey(), best);
                }
            }
        }
        List<JsonNode> scored = readLines(out.resolve(ScreeningSinks.SCORED_DIR));
        assertThat(scored).hasSize(events);
        for (JsonNode n : scored) {
            String id = n.get("eventId").asText();
            assertThat(n.get("modelId").asText()).isEqualTo("ml");
            assertThat(n.get("label").asText()).as(id).isEqualTo(expectedLabels.get(id));
        }
        List<JsonNode> alerts = readLines(out.resolve(ScreeningSinks.ALERTS_DIR));
        Map<String, String> got = new LinkedHashMap<>();
        for (JsonNode a : alerts) {
            String id = a.get("eventId").asText();
            String label = a.get("label").asText();
            got.put(id, label);
            // scores and thresholds are scored at float precision: 0.9 is written as 0.8999999761581421
            float threshold = thresholds.get(label).floatValue();
            assertThat((float) a.get("threshold").asDouble()).as(id).isEqualTo(threshold);
            assertThat((float) a.get("score").asDouble()).as(id).isGreaterThanOrEqualTo(threshold);
        }
        assertThat(got).isEqualTo(expectedAlerts);
        assertThat(alerts)
                .as("an alert below the job's default 0.8: the model's threshold applied, not the default")
                .anySatisfy(a -> assertThat(a.get("score").asDouble()).isLessThan(0.8));
        assertThat(aboveDefaultBelowModel)
                .as("events above the job's default 0.8 on a label, below that label's model threshold")
                .isNotEmpty();
        aboveDefaultBelowModel.forEach(
                (id, label) -> assertThat(got.get(id)).as(id).isNotEqualTo(label));
    }

    /** eventId to text of the first {@code events} events of the generator with {@code seed}. */
    private static Map<String, String> syntheticTexts(long seed, int events) {
        SyntheticEventGenerator generator =
                SyntheticEventGenerator.builder().seed(seed).build();
        Map<String, String> texts = new LinkedHashMap<>();
        for (int i = 0; i < events; i++) {
            FinancialEvent e = generator.generate(i);
            texts.put(e.eventId, e.text);
        }
        return texts;
    }

    private void runAndCheck(boolean withFailure, boolean withCommands) throws Exception {
        Path input = tmp.resolve("events.jsonl");
        Path out = tmp.resolve("out");
        SyntheticEventGenerator generator =
                SyntheticEventGenerator.builder().seed(11).suspiciousShare(0.2).build();

        // Good events with bad lines, blank lines and CRLF line ends mixed in; remember bad line numbers.
        List<String> lines = new ArrayList<>();
        Map<Long, DeadLetterReason> badLines = new LinkedHashMap<>();
        List<String> goodIds = new ArrayList<>();
        for (int i = 0; i < GOOD; i++) {
            FinancialEvent e = generator.generate(i);
            goodIds.add(e.eventId);
            String json = JsonSchemas.toJson(ScreeningSchemas.financialEvents(), e);
            lines.add(i % 7 == 0 ? json + "\r" : json);
            if (i % 50 == 10) {
                lines.add("");
            }
            if (i % 60 == 20) {
                lines.add("{\"eventId\":\"bad-" + i + "\",\"accountId\":\"A\",\"kind\":\"PAYMENT\"");
                badLines.put((long) lines.size(), DeadLetterReason.TRUNCATED_JSON);
                lines.add("{\"eventId\":\"bad2-" + i + "\",\"kind\":\"TRADE\",\"text\":\"no account\"}");
                badLines.put((long) lines.size(), DeadLetterReason.MISSING_FIELD);
            }
        }
        lines.add("{\"eventId\":\"big\",\"accountId\":\"A\",\"kind\":\"MESSAGE\",\"text\":\"" + "z".repeat(10_000)
                + "\"}");
        badLines.put((long) lines.size(), DeadLetterReason.OVERSIZE_RECORD);
        lines.add("{\"eventId\":\"cur\",\"accountId\":\"A\",\"kind\":\"PAYMENT\",\"text\":\"t\",\"currency\":\"ABC\"}");
        badLines.put((long) lines.size(), DeadLetterReason.INVALID_CURRENCY);
        Files.writeString(input, String.join("\n", lines), StandardCharsets.UTF_8); // no final newline on purpose

        Path v1 = ScreeningTests.tinyBundle(tmp.resolve("models"), "1", 7);
        Configuration options = ScreeningTests.scoring(v1, tmp.resolve("models"));
        options.set(ConnectorOptions.MAX_EVENT_SIZE, MemorySize.parse("4kb"));
        options.set(ScreeningOptions.ALERT_LABEL_THRESHOLDS, Map.of("fraud", "0.9"));
        ScreeningConfig.Builder builder = ScreeningConfig.builder()
                .options(options)
                .eventsFile(input.toString())
                .outputDir(out.toString())
                .parallelism(2)
                .restartAttempts(3)
                .restartDelay(Duration.ofMillis(200))
                .checkpointInterval(Duration.ofMillis(100));
        String commandId = null;
        if (withCommands) {
            // A live swap to version 2 from a commands file, applied while the events stream through.
            Path v2 = ScreeningTests.tinyBundle(tmp.resolve("models"), "2", 99);
            commandId = "file-deploy-2";
            Path commands = tmp.resolve("commands.jsonl");
            Files.writeString(
                    commands,
                    ModelCommand.deploy(commandId, v2.toUri().toString(), ModelCommand.Role.ACTIVE)
                                    .toJson() + "\n",
                    StandardCharsets.UTF_8);
            builder.commandsFile(commands.toString());
        }
        ScreeningConfig config = builder.build();
        assertThat(config.source()).isEqualTo(ScreeningConfig.Source.FILE);
        assertThat(config.sinks()).isEqualTo(ScreeningConfig.Sinks.FILES);

        FailOnceAfterCheckpoint.reset();
        StreamExecutionEnvironment env = ScreeningJob.environment(config);
        ScreeningJob.Inputs inputs = ScreeningJob.read(env, config);
        DataStream<FinancialEvent> events = inputs.events();
        ScreeningJob.screen(
                inputs.withEvents(
                        withFailure
                                ? events.map(
                                                new FailOnceAfterCheckpoint<FinancialEvent>(),
                                                TypeInformation.of(FinancialEvent.class))
                                        .name("fail-once")
                                : events),
                config,
                false);
        env.execute("file-mode-it");

        if (withFailure) {
            assertThat(FailOnceAfterCheckpoint.failed())
                    .as("the failure was injected")
                    .isTrue();
        }
        // Flink's file sink leaves the in-progress part files an attempt opened after its last checkpoint
        // when that attempt fails (they are hidden and never committed); nothing else may be left.
        assertThat(hiddenFiles(out))
                .as("in-progress or pending files left behind")
                .allSatisfy(p -> assertThat(
                                withFailure && p.getFileName().toString().contains(".inprogress."))
                        .as("%s", p)
                        .isTrue());

        List<JsonNode> scoredOut = readLines(out.resolve(ScreeningSinks.SCORED_DIR));
        assertThat(scoredOut)
                .extracting(n -> n.get("eventId").asText())
                .doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(goodIds);
        assertThat(scoredOut).allSatisfy(n -> {
            assertThat(n.get("modelId").asText()).isEqualTo("tiny");
            assertThat(n.get("modelVersion").asText()).isIn(withCommands ? List.of("1", "2") : List.of("1"));
        });

        AlertPolicy policy = config.alertPolicy();
        List<String> expectedAlerts = scoredOut.stream()
                .filter(n -> ScreeningTests.alerts(policy, n))
                .map(n -> n.get("eventId").asText())
                .collect(Collectors.toList());
        assertThat(expectedAlerts).as("the tiny model raises some alerts").isNotEmpty();
        List<JsonNode> alertsOut = readLines(out.resolve(ScreeningSinks.ALERTS_DIR));
        assertThat(alertsOut)
                .extracting(n -> n.get("eventId").asText())
                .doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(expectedAlerts);
        assertThat(alertsOut).allSatisfy(n -> {
            assertThat(n.get("alertId").asText())
                    .isEqualTo(n.get("eventId").asText() + ":" + n.get("label").asText());
            assertThat(n.get("threshold").asDouble())
                    .isEqualTo(policy.thresholdFor(n.get("label").asText()));
        });

        if (withCommands) {
            String id = commandId;
            List<String> outcomes = readLines(out.resolve(FileResultSink.AUDIT_DIR)).stream()
                    .filter(n -> id.equals(n.path("commandId").asText()))
                    .map(n -> n.get("outcome").asText())
                    .collect(Collectors.toList());
            assertThat(outcomes).filteredOn(ModelAudit.ACCEPTED::equals).hasSize(1);
            assertThat(outcomes).contains(ModelAudit.READY).doesNotContain(ModelAudit.REJECTED);
        }

        List<JsonNode> deadOut = readLines(out.resolve(FileResultSink.DEAD_LETTER_DIR));
        Map<Long, DeadLetterReason> deadByLine = new LinkedHashMap<>();
        for (JsonNode n : deadOut) {
            assertThat(n.get("source").get("system").asText()).isEqualTo("file");
            assertThat(n.get("source").get("name").asText()).endsWith("events.jsonl");
            DeadLetterReason previous = deadByLine.put(
                    n.get("source").get("line").asLong(),
                    DeadLetterReason.valueOf(n.get("reason").asText()));
            assertThat(previous).as("line dead-lettered twice").isNull();
        }
        assertThat(deadByLine).isEqualTo(badLines);
        JsonNode oversize = deadOut.stream()
                .filter(n -> n.get("reason").asText().equals("OVERSIZE_RECORD"))
                .findFirst()
                .orElseThrow();
        assertThat(oversize.get("payloadSize").asLong()).isGreaterThan(10_000);
        assertThat(scoredOut.size() + deadOut.size())
                .as("non-blank lines = outputs + dead letters")
                .isEqualTo(lines.stream().filter(l -> !l.isBlank()).count());
    }

    private static List<Path> hiddenFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().startsWith("."))
                    .collect(Collectors.toList());
        }
    }

    private static List<JsonNode> readLines(Path dir) throws IOException {
        List<JsonNode> nodes = new ArrayList<>();
        if (!Files.exists(dir)) {
            return nodes; // a sink that never received a record creates no directory
        }
        try (Stream<Path> s = Files.walk(dir)) {
            // committed part files only; the hidden ones a failed attempt leaves are checked by hiddenFiles
            for (Path p : s.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .collect(Collectors.toList())) {
                assertThat(p.getFileName().toString()).endsWith(FileResultSink.SUFFIX);
                for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                    nodes.add(JSON.readTree(line));
                }
            }
        }
        return nodes;
    }
}
