package dev.flinkslm.connectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

class JsonSchemasTest {

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
        JsonNode n = JSON.readTree(JsonSchemas.scoredEvents().serialize(s));
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
        JsonNode n = JSON.readTree(JsonSchemas.alerts().serialize(new Alert(s, 0.75, 0L)));
        assertThat(n.get("alertId").asText()).isEqualTo("e-7:fraud");
        assertThat(n.get("label").asText()).isEqualTo("fraud");
        assertThat(n.get("threshold").asDouble()).isEqualTo(0.75);
        assertThat(n.get("raisedAt").asText()).isEqualTo("1970-01-01T00:00:00Z");
    }

    @Test
    void deadLetterLayoutHasBase64PayloadAndCoordinates() throws Exception {
        byte[] payload = "{\"broken\":".getBytes(StandardCharsets.UTF_8);
        DeadLetter d = new DeadLetter(
                payload,
                payload.length,
                DeadLetterReason.TRUNCATED_JSON,
                "JSON ends early",
                SourcePosition.kafka("events", 3, 99L),
                0L);
        JsonNode n = JSON.readTree(JsonSchemas.deadLetters().serialize(d));
        assertThat(n.get("reason").asText()).isEqualTo("TRUNCATED_JSON");
        assertThat(n.get("message").asText()).isEqualTo("JSON ends early");
        assertThat(n.get("source").get("system").asText()).isEqualTo("kafka");
        assertThat(n.get("source").get("name").asText()).isEqualTo("events");
        assertThat(n.get("source").get("partition").asInt()).isEqualTo(3);
        assertThat(n.get("source").get("offset").asLong()).isEqualTo(99L);
        assertThat(Base64.getDecoder().decode(n.get("payloadBase64").asText())).isEqualTo(payload);
        assertThat(n.get("payloadTruncated").asBoolean()).isFalse();

        DeadLetter f = new DeadLetter(
                new byte[] {1, 2},
                10,
                DeadLetterReason.OVERSIZE_RECORD,
                "big",
                SourcePosition.file("/in.jsonl", 12),
                0L);
        JsonNode m = JSON.readTree(JsonSchemas.deadLetters().serialize(f));
        assertThat(m.get("source").get("line").asLong()).isEqualTo(12L);
        assertThat(m.get("source").has("partition")).isFalse();
        assertThat(m.get("payloadTruncated").asBoolean()).isTrue();
        assertThat(m.get("payloadSize").asLong()).isEqualTo(10);
    }

    @Test
    void deadLetterForAnEventCarriesReplayableJson() {
        DeadLetter d = DeadLetter.forEvent(event(), DeadLetterReason.PROCESSING_FAILED, "model timed out", null, 5L);
        ParseResult replayed = EventParser.withDefaults().parse(d.payload, SourcePosition.file("replay", 1), 0L);
        assertThat(replayed.event()).isEqualTo(event());
        assertThat(d.describe()).isEqualTo("PROCESSING_FAILED: model timed out");
        assertThat(JsonSchemas.toJson(JsonSchemas.deadLetters(), d)).contains("\"source\":{}");
    }

    @Test
    void financialEventRoundTripsThroughParser() {
        FinancialEvent e = event();
        byte[] json = JsonSchemas.financialEvents().serialize(e);
        ParseResult r = EventParser.withDefaults().parse(json, SourcePosition.file("x", 1), 0L);
        assertThat(r.isOk()).as(String.valueOf(r)).isTrue();
        assertThat(r.event()).isEqualTo(e);
        assertThat(r.event().amount.toPlainString()).isEqualTo("12.50");
    }

    @Test
    void jsonLinesEncoderWritesOneLinePerRecordEvenWithNewlinesInText() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        var encoder = JsonSchemas.jsonLines(JsonSchemas.financialEvents());
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
        String json = JsonSchemas.toJson(JsonSchemas.scoredEvents(), s);
        JsonNode n = JSON.readTree(json);
        assertThat(n.get("score").isNumber()).isTrue();
        assertThat(n.get("labelScores").get("clear").isNumber()).isTrue();
        assertThat(json).contains("\"score\":0.75");
        JsonNode a = JSON.readTree(JsonSchemas.alerts().serialize(new Alert(s, 0.5, 0L)));
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
            assertThatThrownBy(() -> JsonSchemas.scoredEvents().serialize(s))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("score=" + bad)
                    .hasMessageContaining("e-7");
            assertThatThrownBy(() -> JsonSchemas.alerts().serialize(new Alert(s, 0.5, 0L)))
                    .isInstanceOf(IllegalStateException.class);

            ScoredEvent p = ScoredEvents.of(
                    event(), new String[] {"clear", "fraud"}, new double[] {0.2, 0.8}, "m", "1", "active", 0, 0, 0);
            p.probabilities[0] = bad;
            assertThatThrownBy(() -> JsonSchemas.scoredEvents().serialize(p))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("labelScores.clear");

            ScoredEvent t = ScoredEvents.of(
                    event(), new String[] {"clear", "fraud"}, new double[] {0.2, 0.8}, "m", "1", "active", 0, 0, 0);
            assertThatThrownBy(() -> JsonSchemas.alerts().serialize(new Alert(t, bad, 0L)))
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

    /** A bean with a double, as other records written with {@link JsonSchemas#pojo()} may have. */
    public static final class WithShare {
        public String id = "x";
        public double share = Double.NaN;
        public Float boxed = 0.5f;
    }

    @Test
    void pojoSchemaRefusesNonFiniteNumbers() throws Exception {
        WithShare bean = new WithShare();
        assertThatThrownBy(() -> JsonSchemas.<WithShare>pojo().serialize(bean))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("non-finite")
                .hasMessageContaining("/share");
        bean.share = 0.25;
        JsonNode n = JSON.readTree(JsonSchemas.<WithShare>pojo().serialize(bean));
        assertThat(n.get("share").isNumber()).isTrue();
        assertThat(n.get("share").asDouble()).isEqualTo(0.25);
        assertThat(n.get("boxed").isNumber()).isTrue();
        bean.boxed = Float.NaN;
        assertThatThrownBy(() -> JsonSchemas.<WithShare>pojo().serialize(bean)).hasMessageContaining("/boxed");
    }

    /** A stand-in for the audit records defined elsewhere: any bean with java.time fields. */
    public static final class AuditLike {
        public String modelId = "m";
        public Instant at = Instant.parse("2026-01-01T00:00:00Z");
    }

    @Test
    void pojoSchemaWritesBeansWithJavaTime() throws Exception {
        JsonNode n = JSON.readTree(JsonSchemas.<AuditLike>pojo().serialize(new AuditLike()));
        assertThat(n.get("modelId").asText()).isEqualTo("m");
        assertThat(n.get("at").asText()).isEqualTo("2026-01-01T00:00:00Z");
    }
}
