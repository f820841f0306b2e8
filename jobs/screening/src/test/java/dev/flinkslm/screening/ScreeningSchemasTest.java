package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkslm.connectors.DeadLetter;
import dev.flinkslm.connectors.DeadLetterReason;
import dev.flinkslm.connectors.JsonSchemas;
import dev.flinkslm.connectors.SourcePosition;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

class ScreeningSchemasTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static FinancialEvent event() {
        FinancialEvent e = new FinancialEvent();
        e.eventId = "e-7";
        e.accountId = "ACC-7";
        e.eventTime = Instant.parse("2026-03-01T09:30:00.250Z").toEpochMilli();
        e.kind = EventKind.OTHER;
        e.kindName = "CARD_AUTH";
        e.amount = new BigDecimal("12.50");
        e.currency = "EUR";
        e.country = "DE";
        e.counterparty = "Shop \"Nord\"\nline2";
        e.text = "multi\nline text with \u00fcmlaut";
        return e;
    }

    @Test
    void scoredEventLayoutKeepsLabelOrder() throws Exception {
        ScoredEvent s = ScoredEvents.of(
                event(),
                new String[] {"clear", "sanctions", "structuring", "fraud", "market_abuse"},
                new double[] {0.1, 0.05, 0.7, 0.1, 0.05},
                "compliance-minilm",
                "3",
                ScoredEvent.VARIANT_CANARY,
                4,
                11,
                Instant.parse("2026-03-01T09:30:01Z").toEpochMilli());
        s.ruleEpoch = 7;
        JsonNode n = JSON.readTree(ScreeningSchemas.scoredEvents().serialize(s));
        assertThat(n.get("ruleEpoch").asLong()).isEqualTo(7);
        assertThat(n.get("eventId").asText()).isEqualTo("e-7");
        assertThat(n.get("accountId").asText()).isEqualTo("ACC-7");
        assertThat(n.get("eventTime").asText()).isEqualTo("2026-03-01T09:30:00.250Z");
        assertThat(n.get("kind").asText()).isEqualTo("CARD_AUTH");
        assertThat(n.get("label").asText()).isEqualTo("structuring");
        assertThat(n.get("score").asDouble()).isEqualTo(0.7);
        List<String> order = new ArrayList<>();
        n.get("labelScores").fieldNames().forEachRemaining(order::add);
        assertThat(order).containsExactly("clear", "sanctions", "structuring", "fraud", "market_abuse");
        assertThat(n.get("labelScores").get("fraud").asDouble()).isEqualTo(0.1);
        assertThat(n.get("modelId").asText()).isEqualTo("compliance-minilm");
        assertThat(n.get("modelVersion").asText()).isEqualTo("3");
        assertThat(n.get("variant").asText()).isEqualTo("canary");
        assertThat(n.get("queueWaitMs").asLong()).isEqualTo(4);
        assertThat(n.get("inferenceMs").asLong()).isEqualTo(11);
        assertThat(n.get("scoredAt").asText()).isEqualTo("2026-03-01T09:30:01Z");
        assertThat(n.has("text"))
                .as("scored output must not carry the narrative")
                .isFalse();
        assertThat(s.labelScores()).containsKeys("clear", "fraud");
        assertThat(s.probabilityOf("structuring")).isEqualTo(0.7);
    }

    @Test
    void alertLayout() throws Exception {
        ScoredEvent s = ScoredEvents.of(
                event(), new String[] {"clear", "fraud"}, new double[] {0.2, 0.8}, "m", "1", "active", 0, 0, 0);
        JsonNode n = JSON.readTree(ScreeningSchemas.alerts().serialize(new Alert(s, 0.75, 0L)));
        assertThat(n.get("alertId").asText()).isEqualTo("e-7:fraud");
        assertThat(n.get("label").asText()).isEqualTo("fraud");
        assertThat(n.get("threshold").asDouble()).isEqualTo(0.75);
        assertThat(n.get("raisedAt").asText()).isEqualTo("1970-01-01T00:00:00Z");
    }

    @Test
    void deadLetterForAnEventCarriesReplayableJson() {
        DeadLetter d = event().deadLetter(DeadLetterReason.PROCESSING_FAILED, "model timed out", 5L);
        ParseResult replayed = EventParser.withDefaults().parse(d.payload, SourcePosition.file("replay", 1), 0L);
        assertThat(replayed.event()).isEqualTo(event());
        assertThat(d.describe()).isEqualTo("PROCESSING_FAILED: model timed out");
        assertThat(JsonSchemas.toJson(JsonSchemas.deadLetters(), d)).contains("\"source\":{}");

        // An event read from a source keeps its position, and so does its dead letter.
        ParseResult read = EventParser.withDefaults()
                .parse(
                        ScreeningSchemas.financialEvents().serialize(event()),
                        SourcePosition.kafka("events", 2, 41L),
                        0L);
        assertThat(read.event().source).isEqualTo(SourcePosition.kafka("events", 2, 41L));
        DeadLetter late = read.event().deadLetter(DeadLetterReason.MODEL_OUTPUT_INVALID, "NaN", 6L);
        assertThat(late.source).isEqualTo(SourcePosition.kafka("events", 2, 41L));
        assertThat(JsonSchemas.toJson(JsonSchemas.deadLetters(), late))
                .contains("\"source\":{\"system\":\"kafka\",\"name\":\"events\",\"partition\":2,\"offset\":41}");
    }

    @Test
    void financialEventRoundTripsThroughParser() {
        FinancialEvent e = event();
        byte[] json = ScreeningSchemas.financialEvents().serialize(e);
        ParseResult r = EventParser.withDefaults().parse(json, SourcePosition.file("x", 1), 0L);
        assertThat(r.isOk()).as(String.valueOf(r)).isTrue();
        assertThat(r.event()).isEqualTo(e);
        assertThat(r.event().amount.toPlainString()).isEqualTo("12.50");
    }

    @Test
    void jsonLinesEncoderWritesOneLinePerRecordEvenWithNewlinesInText() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        var encoder = JsonSchemas.jsonLines(ScreeningSchemas.financialEvents());
        encoder.encode(event(), out);
        encoder.encode(event(), out);
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n", -1);
        assertThat(lines).hasSize(3);
        assertThat(lines[2]).isEmpty();
        assertThat(JSON.readTree(lines[0]).get("text").asText()).contains("\n");
    }

    @Test
    void scoresAreJsonNumbers() throws Exception {
        ScoredEvent s = ScoredEvents.of(
                event(), new String[] {"clear", "fraud"}, new double[] {0.25, 0.75}, "m", "1", "active", 0, 0, 0);
        String json = JsonSchemas.toJson(ScreeningSchemas.scoredEvents(), s);
        JsonNode n = JSON.readTree(json);
        assertThat(n.get("score").isNumber()).isTrue();
        assertThat(n.get("labelScores").get("clear").isNumber()).isTrue();
        assertThat(json).contains("\"score\":0.75");
        JsonNode a = JSON.readTree(ScreeningSchemas.alerts().serialize(new Alert(s, 0.5, 0L)));
        assertThat(a.get("score").isNumber()).isTrue();
        assertThat(a.get("threshold").isNumber()).isTrue();
    }

    /** Jackson writes NaN as the string "NaN"; a non-finite score must fail loudly instead. */
    @Test
    void nonFiniteScoresAreNeverWritten() {
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            ScoredEvent s = ScoredEvents.of(
                    event(), new String[] {"clear", "fraud"}, new double[] {0.2, 0.8}, "m", "1", "active", 0, 0, 0);
            s.score = bad;
            assertThatThrownBy(() -> ScreeningSchemas.scoredEvents().serialize(s))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("score=" + bad)
                    .hasMessageContaining("e-7");
            assertThatThrownBy(() -> ScreeningSchemas.alerts().serialize(new Alert(s, 0.5, 0L)))
                    .isInstanceOf(IllegalStateException.class);

            ScoredEvent p = ScoredEvents.of(
                    event(), new String[] {"clear", "fraud"}, new double[] {0.2, 0.8}, "m", "1", "active", 0, 0, 0);
            p.probabilities[0] = bad;
            assertThatThrownBy(() -> ScreeningSchemas.scoredEvents().serialize(p))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("labelScores.clear");

            ScoredEvent t = ScoredEvents.of(
                    event(), new String[] {"clear", "fraud"}, new double[] {0.2, 0.8}, "m", "1", "active", 0, 0, 0);
            assertThatThrownBy(() -> ScreeningSchemas.alerts().serialize(new Alert(t, bad, 0L)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("threshold");
        }
    }

    /**
     * A NaN loses every comparison of the arg-max, so the first label ("clear") used to win with
     * score NaN: a broken model turned alerts into clear.
     */
    @Test
    void scoredEventRefusesInvalidProbabilities() {
        for (double[] bad : new double[][] {
            {Double.NaN, 0.9}, {0.1, Double.NaN}, {Double.POSITIVE_INFINITY, 0.0}, {-0.1, 1.1}, {0.5, 1.5}
        }) {
            assertThatThrownBy(() ->
                            ScoredEvents.of(event(), new String[] {"clear", "fraud"}, bad, "m", "1", "active", 0, 0, 0))
                    .as(java.util.Arrays.toString(bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("e-7")
                    .hasMessageContaining("m@1");
        }
        assertThatThrownBy(() -> ScoredEvents.of(
                        event(), new String[] {"clear", null}, new double[] {0.5, 0.5}, "m", "1", "active", 0, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(ScoredEvents.of(
                                event(),
                                new String[] {"clear", "fraud"},
                                new double[] {0.0, 1.0},
                                "m",
                                "1",
                                "active",
                                0,
                                0,
                                0)
                        .label)
                .isEqualTo("fraud");
    }
}
