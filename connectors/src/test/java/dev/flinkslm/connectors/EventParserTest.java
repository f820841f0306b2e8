package dev.flinkslm.connectors;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EventParserTest {

    private static final long RECEIVED_AT = 1_700_000_000_123L;
    private static final SourcePosition AT = SourcePosition.kafka("events", 2, 41L);

    private final EventParser parser = EventParser.withDefaults();

    private ParseResult parse(String json) {
        return parser.parse(json.getBytes(StandardCharsets.UTF_8), AT, RECEIVED_AT);
    }

    private static String event(String extra) {
        return "{\"eventId\":\"e-1\",\"accountId\":\"ACC-1\",\"kind\":\"PAYMENT\",\"text\":\"rent for march\""
                + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    private DeadLetter rejected(String json, DeadLetterReason reason) {
        ParseResult r = parse(json);
        assertThat(r.isOk()).as("expected %s for %s", reason, json).isFalse();
        assertThat(r.event()).isNull();
        DeadLetter d = r.deadLetter();
        assertThat(d.reason).as(d.describe()).isEqualTo(reason);
        assertThat(d.source).isEqualTo(AT);
        assertThat(d.payload).isEqualTo(json.getBytes(StandardCharsets.UTF_8));
        assertThat(d.payloadSize).isEqualTo(json.getBytes(StandardCharsets.UTF_8).length);
        assertThat(d.deadLetteredAt).isPositive();
        return d;
    }

    @Test
    void parsesFullEventWithIsoTime() {
        ParseResult r = parse("{\"eventId\":\"e-9\",\"accountId\":\"ACC-104\",\"eventTime\":\"2026-03-01T09:30:00.250Z\","
                + "\"kind\":\"payment\",\"amount\":9500.10,\"currency\":\"eur\",\"counterparty\":\"Nordlicht GmbH\","
                + "\"country\":\"de\",\"text\":\"Invoice 2231\",\"channel\":\"web\",\"extra\":{\"nested\":[1,2]}}");
        assertThat(r.isOk()).as(String.valueOf(r)).isTrue();
        FinancialEvent e = r.event();
        assertThat(e.eventId).isEqualTo("e-9");
        assertThat(e.accountId).isEqualTo("ACC-104");
        assertThat(e.eventTime).isEqualTo(Instant.parse("2026-03-01T09:30:00.250Z").toEpochMilli());
        assertThat(e.kind).isEqualTo(EventKind.PAYMENT);
        assertThat(e.kindName).isEqualTo("PAYMENT");
        assertThat(e.amount).isEqualByComparingTo(new BigDecimal("9500.10"));
        assertThat(e.amount.toPlainString()).isEqualTo("9500.10"); // exact decimal, no binary rounding
        assertThat(e.currency).isEqualTo("EUR");
        assertThat(e.counterparty).isEqualTo("Nordlicht GmbH");
        assertThat(e.country).isEqualTo("DE");
        assertThat(e.text).isEqualTo("Invoice 2231");
    }

    @Test
    void parsesIsoTimeWithOffset() {
        ParseResult r = parse(event("\"eventTime\":\"2026-03-01T10:30:00+01:00\""));
        assertThat(r.event().eventTime).isEqualTo(Instant.parse("2026-03-01T09:30:00Z").toEpochMilli());
    }

    @Test
    void parsesEpochMillisTime() {
        ParseResult r = parse(event("\"eventTime\":1772357400000"));
        assertThat(r.isOk()).isTrue();
        assertThat(r.event().eventTime).isEqualTo(1_772_357_400_000L);
    }

    @Test
    void usesIngestionTimeWhenTimeAbsentOrNull() {
        assertThat(parse(event("")).event().eventTime).isEqualTo(RECEIVED_AT);
        assertThat(parse(event("\"eventTime\":null")).event().eventTime).isEqualTo(RECEIVED_AT);
    }

    @Test
    void minimalEventHasNullOptionals() {
        FinancialEvent e = parse(event("\"amount\":null")).event();
        assertThat(e.amount).isNull();
        assertThat(e.currency).isNull();
        assertThat(e.country).isNull();
        assertThat(e.counterparty).isNull();
    }

    @ParameterizedTest
    @CsvSource({"TRADE,TRADE,TRADE", "message,MESSAGE,MESSAGE", "card_auth,OTHER,CARD_AUTH", "Wire2,OTHER,WIRE2"})
    void mapsKinds(String input, EventKind kind, String kindName) {
        FinancialEvent e = parse(event("").replace("PAYMENT", input)).event();
        assertThat(e.kind).isEqualTo(kind);
        assertThat(e.kindName).isEqualTo(kindName);
    }

    @Test
    void rejectsInvalidJson() {
        DeadLetter d = rejected("{\"eventId\": e-1}", DeadLetterReason.INVALID_JSON);
        assertThat(d.message).startsWith("invalid JSON at line 1");
        rejected("{\"eventId\":\"e-1\",,}", DeadLetterReason.INVALID_JSON);
        rejected("not json at all", DeadLetterReason.INVALID_JSON);
    }

    @Test
    void rejectsTrailingContentAndDuplicateFields() {
        rejected(event("") + " {}", DeadLetterReason.INVALID_JSON);
        rejected(event("\"eventId\":\"e-2\""), DeadLetterReason.INVALID_JSON);
    }

    @Test
    void rejectsInvalidUtf8() {
        byte[] bytes = event("").getBytes(StandardCharsets.UTF_8);
        bytes[bytes.length - 5] = (byte) 0xC3; // a lead byte followed by ASCII
        bytes[bytes.length - 4] = (byte) 'x';
        ParseResult r = parser.parse(bytes, AT, RECEIVED_AT);
        assertThat(r.deadLetter().reason).isEqualTo(DeadLetterReason.INVALID_JSON);
    }

    @Test
    void rejectsTruncatedJson() {
        String full = event("\"amount\":12.5");
        rejected(full.substring(0, full.length() - 9), DeadLetterReason.TRUNCATED_JSON);
        rejected("{\"eventId\":\"e-1", DeadLetterReason.TRUNCATED_JSON);
    }

    @Test
    void rejectsEmptyRecords() {
        rejected("", DeadLetterReason.EMPTY_RECORD);
        rejected("  \n\t ", DeadLetterReason.EMPTY_RECORD);
        ParseResult tombstone = parser.parse(new RawEvent(null, AT, RECEIVED_AT));
        assertThat(tombstone.deadLetter().reason).isEqualTo(DeadLetterReason.EMPTY_RECORD);
        assertThat(tombstone.deadLetter().payload).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"[1,2,3]|array", "\"just a string\"|string", "42|number", "null|null", "true|boolean"})
    void rejectsNonObjects(String json, String type) {
        DeadLetter d = rejected(json, DeadLetterReason.NOT_AN_OBJECT);
        assertThat(d.message).isEqualTo("expected a JSON object, got " + type);
    }

    @ParameterizedTest
    @CsvSource({"eventId", "accountId", "kind", "text"})
    void rejectsMissingRequiredFields(String field) {
        String json = event("").replaceAll("\"" + field + "\":\"[^\"]*\",?", "").replace(",}", "}");
        DeadLetter d = rejected(json, DeadLetterReason.MISSING_FIELD);
        assertThat(d.message).isEqualTo(field + " is required");
        assertThat(d.describe()).isEqualTo("MISSING_FIELD: " + field + " is required");
    }

    @Test
    void rejectsNullRequiredField() {
        rejected(event("").replace("\"e-1\"", "null"), DeadLetterReason.MISSING_FIELD);
    }

    @ParameterizedTest
    @CsvSource({"eventId,e-1", "accountId,ACC-1", "text,rent for march"})
    void rejectsEmptyRequiredFields(String field, String value) {
        DeadLetter d = rejected(event("").replace("\"" + value + "\"", "\"  \""), DeadLetterReason.EMPTY_FIELD);
        assertThat(d.message).isEqualTo(field + " must not be empty");
    }

    @Test
    void rejectsWrongTypesWithoutCoercion() {
        assertThat(rejected(event("\"amount\":\"12\""), DeadLetterReason.WRONG_TYPE).message)
                .isEqualTo("amount must be a number, got string");
        assertThat(rejected(event("").replace("\"e-1\"", "17"), DeadLetterReason.WRONG_TYPE).message)
                .isEqualTo("eventId must be a string, got number");
        rejected(event("").replace("\"rent for march\"", "[\"rent\"]"), DeadLetterReason.WRONG_TYPE);
        rejected(event("\"amount\":true"), DeadLetterReason.WRONG_TYPE);
        rejected(event("\"currency\":978"), DeadLetterReason.WRONG_TYPE);
        rejected(event("\"country\":{\"code\":\"DE\"}"), DeadLetterReason.WRONG_TYPE);
        rejected(event("\"counterparty\":false"), DeadLetterReason.WRONG_TYPE);
        rejected(event("\"eventTime\":true"), DeadLetterReason.WRONG_TYPE);
        rejected(event("\"eventTime\":1772357400000.5"), DeadLetterReason.WRONG_TYPE);
    }

    @Test
    void rejectsNaNAndInfinity() {
        assertThat(rejected(event("\"amount\":NaN"), DeadLetterReason.NON_FINITE_NUMBER).message)
                .isEqualTo("amount must be finite, got NaN");
        rejected(event("\"amount\":Infinity"), DeadLetterReason.NON_FINITE_NUMBER);
        rejected(event("\"amount\":-Infinity"), DeadLetterReason.NON_FINITE_NUMBER);
        rejected(event("\"amount\":1e400"), DeadLetterReason.NON_FINITE_NUMBER);
        rejected(event("\"eventTime\":NaN"), DeadLetterReason.NON_FINITE_NUMBER);
    }

    @Test
    void rejectsUnparseableTime() {
        DeadLetter d = rejected(event("\"eventTime\":\"yesterday noon\""), DeadLetterReason.INVALID_TIME);
        assertThat(d.message).contains("ISO-8601");
        rejected(event("\"eventTime\":\"2026-02-30T10:00:00Z\""), DeadLetterReason.INVALID_TIME);
        rejected(event("\"eventTime\":\"2026-03-01 10:00\""), DeadLetterReason.INVALID_TIME);
        rejected(event("\"eventTime\":\"1772357400000\""), DeadLetterReason.INVALID_TIME);
        rejected(event("\"eventTime\":-5"), DeadLetterReason.INVALID_TIME);
        // microseconds by mistake: year 58000+
        rejected(event("\"eventTime\":1772357400000000"), DeadLetterReason.INVALID_TIME);
    }

    @Test
    void rejectsInvalidCurrency() {
        DeadLetter d = rejected(event("\"currency\":\"EUX\""), DeadLetterReason.INVALID_CURRENCY);
        assertThat(d.message).isEqualTo("currency 'EUX' is not an ISO 4217 code such as EUR or USD");
        rejected(event("\"currency\":\"EURO\""), DeadLetterReason.INVALID_CURRENCY);
        rejected(event("\"currency\":\"\u20ac\""), DeadLetterReason.INVALID_CURRENCY);
    }

    @Test
    void rejectsInvalidCountry() {
        DeadLetter d = rejected(event("\"country\":\"XX\""), DeadLetterReason.INVALID_COUNTRY);
        assertThat(d.message).contains("'XX'");
        rejected(event("\"country\":\"DEU\""), DeadLetterReason.INVALID_COUNTRY);
    }

    @Test
    void rejectsMalformedKind() {
        rejected(event("").replace("PAYMENT", "pay ment!"), DeadLetterReason.INVALID_KIND);
        rejected(event("").replace("PAYMENT", "9LIVES"), DeadLetterReason.INVALID_KIND);
    }

    @Test
    void rejectsOverlongIdentifiers() {
        String longId = "x".repeat(EventParser.MAX_ID_LENGTH + 1);
        rejected(event("").replace("\"e-1\"", "\"" + longId + "\""), DeadLetterReason.FIELD_TOO_LONG);
    }

    @Test
    void rejectsDeepNestingCheaply() {
        String deep = "[".repeat(10_000) + "]".repeat(10_000);
        DeadLetter d = rejected(event("\"extra\":" + deep), DeadLetterReason.TOO_DEEPLY_NESTED);
        assertThat(d.message).contains("32");
        // within the limit it is just an ignored unknown field
        assertThat(parse(event("\"extra\":" + "[".repeat(20) + "]".repeat(20))).isOk()).isTrue();
    }

    @Test
    void rejectsOversizeRecordBeforeParsing() {
        EventParser small = EventParser.builder().maxEventBytes(1024).maxDeadLetterPayloadBytes(100).build();
        // Not even JSON: the size check must come first.
        byte[] big = new byte[2000];
        Arrays.fill(big, (byte) '{');
        ParseResult r = small.parse(big, AT, RECEIVED_AT);
        DeadLetter d = r.deadLetter();
        assertThat(d.reason).isEqualTo(DeadLetterReason.OVERSIZE_RECORD);
        assertThat(d.message).contains("2000 bytes").contains("1024").contains(ConnectorOptions.MAX_EVENT_SIZE.key());
        assertThat(d.payload).hasSize(100);
        assertThat(d.payloadSize).isEqualTo(2000);
        assertThat(d.isPayloadTruncated()).isTrue();
    }

    @Test
    void rejectsRecordThatASourceAlreadyCut() {
        // A file source keeps only a prefix of an oversized line but reports its full size.
        RawEvent cut = new RawEvent("{\"a\":".getBytes(StandardCharsets.UTF_8), 5_000_000L, SourcePosition.file("/in.jsonl", 7), 0L);
        DeadLetter d = parser.parse(cut).deadLetter();
        assertThat(d.reason).isEqualTo(DeadLetterReason.OVERSIZE_RECORD);
        assertThat(d.source).isEqualTo(SourcePosition.file("/in.jsonl", 7));
        assertThat(d.payloadSize).isEqualTo(5_000_000L);
    }

    @Test
    void acceptsRecordAtTheSizeLimit() {
        String base = event("\"pad\":\"\"");
        EventParser p = EventParser.builder().maxEventBytes(200).build();
        String exact = base.replace("\"pad\":\"\"", "\"pad\":\"" + "x".repeat(200 - base.length()) + "\"");
        assertThat(exact.getBytes(StandardCharsets.UTF_8)).hasSize(200);
        assertThat(p.parse(exact.getBytes(StandardCharsets.UTF_8), AT, 0L).isOk()).isTrue();
        assertThat(p.parse((exact + " ").getBytes(StandardCharsets.UTF_8), AT, 0L).deadLetter().reason)
                .isEqualTo(DeadLetterReason.OVERSIZE_RECORD);
    }

    @Test
    void messagesNeverQuoteTheText() {
        String secret = "SECRET-NARRATIVE-\u00e9\u00e9";
        String json = "{\"eventId\":\"e-1\",\"accountId\":\"A\",\"kind\":\"PAYMENT\",\"text\":\"" + secret + "\",\"amount\":\"x\"}";
        DeadLetter d = parse(json).deadLetter();
        assertThat(d.message).doesNotContain("SECRET");
        assertThat(d.toString()).doesNotContain("SECRET");
    }

    @Test
    void validatesBuilder() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> EventParser.builder().maxEventBytes(10).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ConnectorOptions.MAX_EVENT_SIZE.key());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> EventParser.builder().maxNestingDepth(0).build())
                .hasMessageContaining(ConnectorOptions.MAX_NESTING_DEPTH.key());
    }
}
