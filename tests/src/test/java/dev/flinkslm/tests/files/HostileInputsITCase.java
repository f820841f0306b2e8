package dev.flinkslm.tests.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.connectors.DeadLetterReason;
import dev.flinkslm.connectors.FileResultSink;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.screening.EventKind;
import dev.flinkslm.screening.ScreeningConfig;
import dev.flinkslm.screening.ScreeningJob;
import dev.flinkslm.screening.ScreeningSinks;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Hostile input, line by line, through the real screening pipeline in file mode with the built-in
 * model: {@code hostile/hostile-events.jsonl} holds one raw record per line (invalid UTF-8, BOMs,
 * CR LF and a NUL byte included, byte for byte), {@code hostile/hostile-events.expected} the
 * outcome of every line ({@code LINE SCORED eventId}, {@code LINE DEAD_LETTER REASON} or
 * {@code LINE SKIPPED -}, then {@code | what the line is}). Each scored line must come out once
 * under its eventId, each dead-lettered line once with its line number and reason, and
 * inputs = scored + dead letters. Labels are not asserted: the model is not the point here.
 *
 * <p>To add a case, append a line to both files (keep the line numbers of the expectations in
 * step). Every {@code text} in the input contains the marker {@value #TEXT_MARKER}, which no dead
 * letter message may quote.
 */
class HostileInputsITCase {

    private static final String INPUT = "/hostile/hostile-events.jsonl";
    private static final String EXPECTED = "/hostile/hostile-events.expected";
    private static final String TEXT_MARKER = "TEXTMARK";
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(1)
            .build());

    @TempDir
    Path tmp;

    @Test
    void everyLineIsScoredOrDeadLetteredAsExpected() throws Exception {
        byte[] input = resource(INPUT);
        List<Expectation> expected = expectations(new String(resource(EXPECTED), StandardCharsets.UTF_8));
        int lineCount = lineCount(input);
        assertThat(lineCount).as("input lines").isGreaterThanOrEqualTo(60);
        assertThat(expected).as("one expectation per input line").hasSize(lineCount);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(expected.get(i).line)
                    .as("expectation %d is numbered in order", i + 1)
                    .isEqualTo(i + 1);
        }

        Path events = tmp.resolve("hostile-events.jsonl");
        Files.write(events, input);
        Path out = tmp.resolve("out");
        Configuration options = new Configuration();
        options.set(ConnectorOptions.MAX_EVENT_SIZE, MemorySize.parse("8kb"));
        options.set(ScoringOptions.PROVIDER, ExecutionProvider.CPU);
        options.set(ScoringOptions.MAX_BATCH_SIZE, 16);
        options.set(ScoringOptions.MAX_WAIT, Duration.ofMillis(20));
        options.set(ScoringOptions.MAX_WINDOWS, 4); // an 8 KB text then has more windows than are scored
        ScreeningConfig config = ScreeningConfig.builder()
                .options(options) // the model is the built-in default
                .eventsFile(events.toString())
                .outputDir(out.toString())
                .parallelism(1)
                .checkpointInterval(Duration.ofMillis(500))
                .build();
        StreamExecutionEnvironment env = ScreeningJob.environment(config);
        ScreeningJob.build(env, config);
        env.execute("hostile-inputs-it");

        Map<String, JsonNode> scored = new LinkedHashMap<>();
        for (JsonNode n : readLines(out.resolve(ScreeningSinks.SCORED_DIR))) {
            JsonNode previous = scored.put(n.get("eventId").asText(), n);
            assertThat(previous).as("scored twice: %s", n.get("eventId")).isNull();
        }
        Map<Long, JsonNode> deadByLine = new TreeMap<>();
        List<JsonNode> deadLetters = readLines(out.resolve(FileResultSink.DEAD_LETTER_DIR));
        for (JsonNode n : deadLetters) {
            assertThat(n.get("reason").asText()).as("a scoring failure: %s", n).isNotEqualTo("PROCESSING_FAILED");
            assertThat(n.path("source").path("system").asText())
                    .as("source of %s", n)
                    .isEqualTo("file");
            JsonNode previous = deadByLine.put(n.get("source").get("line").asLong(), n);
            assertThat(previous)
                    .as("line %s dead-lettered twice", n.get("source").get("line"))
                    .isNull();
        }

        List<String> mismatches = new ArrayList<>();
        List<String> expectedScored = new ArrayList<>();
        long records = 0;
        for (Expectation e : expected) {
            JsonNode dead = deadByLine.get((long) e.line);
            switch (e.outcome) {
                case "SCORED" -> {
                    records++;
                    expectedScored.add(e.detail);
                    if (!scored.containsKey(e.detail)) {
                        mismatches.add(e + " -> " + (dead == null ? "no output" : describe(dead)));
                    }
                }
                case "DEAD_LETTER" -> {
                    records++;
                    DeadLetterReason.valueOf(e.detail); // the expectation names a real reason
                    if (dead == null || !dead.get("reason").asText().equals(e.detail)) {
                        mismatches.add(e + " -> " + (dead == null ? "not dead-lettered" : describe(dead)));
                    }
                }
                case "SKIPPED" -> {
                    if (dead != null) {
                        mismatches.add(e + " -> " + describe(dead));
                    }
                }
                default -> throw new AssertionError("unknown outcome in " + e);
            }
        }
        assertThat(mismatches)
                .as("lines whose outcome differs from %s", EXPECTED)
                .isEmpty();
        assertThat(scored.keySet()).as("scored events").containsExactlyInAnyOrderElementsOf(expectedScored);
        assertThat(scored.size() + deadLetters.size())
                .as("inputs = scored + dead letters")
                .isEqualTo(records);

        // Scores are JSON numbers, and an event without a kind is screened as UNKNOWN.
        for (JsonNode n : scored.values()) {
            assertThat(n.get("score").isNumber())
                    .as("score of %s", n.get("eventId"))
                    .isTrue();
            assertThat(n.get("score").asDouble()).isBetween(0.0, 1.0);
            n.get("labelScores")
                    .elements()
                    .forEachRemaining(p -> assertThat(p.isNumber()).isTrue());
            assertThat(n.get("modelId").asText()).isNotEmpty();
            assertThat(n.get("kind").asText()).as("kind name").matches("[A-Z][A-Z0-9_]{0,31}");
        }
        assertThat(scored.get("h-no-kind").get("kind").asText()).isEqualTo(EventKind.UNKNOWN.name());
        assertThat(scored.get("h-kind-null").get("kind").asText()).isEqualTo(EventKind.UNKNOWN.name());
        assertThat(scored.get("h-other-kind").get("kind").asText()).isEqualTo("CARD_AUTH");

        // Dead letters say what is wrong without quoting the narrative, and keep the original bytes.
        for (JsonNode n : deadLetters) {
            assertThat(n.get("message").asText())
                    .as("message of line %s", n.get("source").get("line"))
                    .isNotBlank()
                    .doesNotContain(TEXT_MARKER);
            assertThat(n.get("payloadSize").asLong()).isPositive();
        }
        assertThat(deadByLine.values())
                .filteredOn(n -> n.get("reason").asText().equals("OVERSIZE_RECORD"))
                .allSatisfy(n -> assertThat(n.get("payloadSize").asLong()).isGreaterThan(8 * 1024));

        // Alerts only ever come from scored events; a text not screened whole is never a silent clear.
        Map<String, JsonNode> alerts = new LinkedHashMap<>();
        for (JsonNode a : readLines(out.resolve(ScreeningSinks.ALERTS_DIR))) {
            assertThat(scored).containsKey(a.get("eventId").asText());
            alerts.put(a.get("eventId").asText(), a);
        }
        JsonNode longTail = scored.get("h-long-tail");
        assertThat(longTail.get("truncated").asBoolean()).isTrue();
        assertThat(longTail.get("windows").asInt()).isEqualTo(4);
        assertThat(alerts).containsKey("h-long-tail");
        for (JsonNode n : scored.values()) {
            if (n.get("truncated").asBoolean()) {
                assertThat(alerts)
                        .as("truncated %s alerts", n.get("eventId"))
                        .containsKey(n.get("eventId").asText());
            }
        }
    }

    private static String describe(JsonNode deadLetter) {
        return "DEAD_LETTER " + deadLetter.get("reason").asText() + " ("
                + deadLetter.get("message").asText() + ")";
    }

    /** One line of the expectations file. */
    private record Expectation(int line, String outcome, String detail, String what) {
        @Override
        public String toString() {
            return "line " + line + " [" + what + "] expected " + outcome + " " + detail;
        }
    }

    /** {@code LINE OUTCOME DETAIL | what}; DETAIL (an eventId) may hold spaces, so it ends at " | ". */
    private static List<Expectation> expectations(String text) {
        List<Expectation> list = new ArrayList<>();
        for (String raw : text.split("\n")) {
            if (raw.isBlank() || raw.startsWith("#")) {
                continue;
            }
            int bar = raw.indexOf(" | ");
            assertThat(bar).as("' | ' in expectation '%s'", raw).isPositive();
            String head = raw.substring(0, bar);
            int s1 = head.indexOf(' ');
            int s2 = head.indexOf(' ', s1 + 1);
            list.add(new Expectation(
                    Integer.parseInt(head.substring(0, s1)),
                    head.substring(s1 + 1, s2),
                    head.substring(s2 + 1),
                    raw.substring(bar + 3)));
        }
        return list;
    }

    /** Lines as the file source counts them: separated by '\n', the last one may lack it. */
    private static int lineCount(byte[] bytes) {
        int lines = 0;
        for (byte b : bytes) {
            if (b == '\n') {
                lines++;
            }
        }
        return bytes.length > 0 && bytes[bytes.length - 1] != '\n' ? lines + 1 : lines;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = HostileInputsITCase.class.getResourceAsStream(name)) {
            assertThat(in).as("test resource %s", name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static List<JsonNode> readLines(Path dir) throws IOException {
        List<JsonNode> nodes = new ArrayList<>();
        if (!Files.exists(dir)) {
            return nodes;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).collect(Collectors.toList())) {
                assertThat(p.getFileName().toString()).as("unfinished file").endsWith(FileResultSink.SUFFIX);
                for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                    nodes.add(JSON.readTree(line));
                }
            }
        }
        return nodes;
    }
}
