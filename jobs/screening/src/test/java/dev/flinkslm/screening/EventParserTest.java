package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.connectors.DeadLetter;
import dev.flinkslm.connectors.DeadLetterReason;
import dev.flinkslm.connectors.RawEvent;
import dev.flinkslm.connectors.SourcePosition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

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
        ParseResult r = parse(
                "{\"eventId\":\"e-9\",\"accountId\":\"ACC-104\",\"eventTime\":\"2026-03-01T09:30:00.250Z\","
                        + "\"kind\":\"payment\",\"amount\":9500.10,\"currency\":\"eur\",\"counterparty\":\"Nordlicht GmbH\","
                        + "\"country\":\"de\",\"text\":\"Invoice 2231\",\"channel\":\"web\",\"extra\":{\"nested\":[1,2]}}");
        assertThat(r.isOk()).as(String.valueOf(r)).isTrue();
        FinancialEvent e = r.event();
        assertThat(e.eventId).isEqualTo("e-9");
        assertThat(e.accountId).isEqualTo("ACC-104");
        assertThat(e.eventTime)
                .isEqualTo(Instant.parse("2026-03-01T09:30:00.250Z").toEpochMilli());
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
        assertThat(r.event().eventTime)
                .isEqualTo(Instant.parse("2026-03-01T09:30:00Z").toEpochMilli());
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
    @CsvSource(
            delimiter = '|',
            value = {"[1,2,3]|array", "\"just a string\"|string", "42|number", "null|null", "true|boolean"})
    void rejectsNonObjects(String json, String type) {
        DeadLetter d = rejected(json, DeadLetterReason.NOT_AN_OBJECT);
        assertThat(d.message).isEqualTo("expected a JSON object, got " + type);
    }

    @ParameterizedTest
    @CsvSource({"eventId", "accountId", "text"})
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
        assertThat(d.message).startsWith("currency 'EUX' is not an ISO 4217 currency code such as EUR or USD");
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
    void acceptsCodesInAnyAsciiCase() {
        FinancialEvent e =
                parse(event("\"currency\":\"uSd\",\"country\":\"gB\"")).event();
        assertThat(e.currency).isEqualTo("USD");
        assertThat(e.country).isEqualTo("GB");
    }

    /** Locale case rules map the dotless i (U+0131) to I, even Locale.ROOT; ASCII only means ASCII only. */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "\u0131nr|dotless i",
                "\u0130NR|dotted capital I",
                "\uff25\uff35\uff32|fullwidth EUR",
                "E\u0301UR|combining accent",
                "EU\u0280|latin letter small capital R",
                "\u0415UR|Cyrillic E",
                "'EUR '|trailing space",
                "' EUR'|leading space",
                "E\u200bUR|zero-width space"
            })
    void rejectsCurrencyLookAlikes(String code, String what) {
        String json = "{\"eventId\":\"e-1\",\"accountId\":\"ACC-1\",\"text\":\"t\",\"currency\":\"" + code + "\"}";
        rejected(json, DeadLetterReason.INVALID_CURRENCY);
    }

    @Test
    void rejectsCountryLookAlikes() {
        assertThat("\u0131t".toUpperCase(java.util.Locale.ROOT))
                .as("the trick works on toUpperCase")
                .isEqualTo("IT");
        rejected(event("\"country\":\"\u0131t\""), DeadLetterReason.INVALID_COUNTRY);
        rejected(event("\"country\":\"\u0130T\""), DeadLetterReason.INVALID_COUNTRY);
        rejected(event("\"country\":\"\uff24\uff25\""), DeadLetterReason.INVALID_COUNTRY);
        rejected(event("\"country\":\"D\""), DeadLetterReason.INVALID_COUNTRY);
        assertThat(parse(event("\"country\":\"it\"")).event().country).isEqualTo("IT");
    }

    @ParameterizedTest
    @CsvSource({
        "XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA", "XFO", "XFU", "xxx"
    })
    void rejectsNonCurrencyXCodes(String code) {
        DeadLetter d = rejected(event("\"currency\":\"" + code + "\""), DeadLetterReason.INVALID_CURRENCY);
        assertThat(d.message).contains("not an ISO 4217 currency");
    }

    @ParameterizedTest
    @CsvSource({"XAF", "XOF", "XCD", "XPF", "EUR", "JPY", "CHF"})
    void acceptsRealCurrenciesIncludingTheirXCodes(String code) {
        assertThat(parse(event("\"currency\":\"" + code + "\"")).event().currency)
                .isEqualTo(code);
    }

    @Test
    void everyNonCurrencyCodeIsKnownToTheJdk() {
        // If a JDK dropped one of them the set would silently stop meaning anything.
        java.util.Set<String> jdk = new java.util.HashSet<>();
        java.util.Currency.getAvailableCurrencies().forEach(c -> jdk.add(c.getCurrencyCode()));
        assertThat(jdk).containsAll(EventParser.NON_CURRENCY_CODES);
    }

    @Test
    void rejectsPresentButEmptyCodes() {
        assertThat(rejected(event("\"currency\":\"\""), DeadLetterReason.INVALID_CURRENCY).message)
                .isEqualTo("currency must not be empty (leave it out when there is none)");
        rejected(event("\"country\":\"  \""), DeadLetterReason.INVALID_COUNTRY);
        // A blank counterparty is free text and simply absent.
        assertThat(parse(event("\"counterparty\":\" \"")).event().counterparty).isNull();
    }

    @Test
    void kindIsOptional() {
        String noKind = "{\"eventId\":\"e-1\",\"accountId\":\"ACC-1\",\"text\":\"rent for march\"}";
        ParseResult r = parse(noKind);
        assertThat(r.isOk()).as(String.valueOf(r)).isTrue();
        assertThat(r.event().kind).isEqualTo(EventKind.UNKNOWN);
        assertThat(r.event().kindName).isEqualTo("UNKNOWN");
        assertThat(parse(event("").replace("\"PAYMENT\"", "null")).event().kind).isEqualTo(EventKind.UNKNOWN);
        // Present, it still has to be a kind name (today's rules).
        rejected(event("").replace("\"PAYMENT\"", "\"\""), DeadLetterReason.EMPTY_FIELD);
        rejected(event("").replace("\"PAYMENT\"", "7"), DeadLetterReason.WRONG_TYPE);
        rejected(event("").replace("\"PAYMENT\"", "\"pay-ment\""), DeadLetterReason.INVALID_KIND);
        // An UNKNOWN event replays as one.
        byte[] replay = ScreeningSchemas.financialEvents().serialize(r.event());
        assertThat(parser.parse(replay, AT, RECEIVED_AT).event()).isEqualTo(r.event());
    }

    @ParameterizedTest
    @CsvSource({"eventId", "accountId", "kind", "text", "counterparty", "currency", "country", "eventTime"})
    void rejectsUnpairedSurrogatesInEveryStringField(String field) {
        String json = "{\"eventId\":\"e-1\",\"accountId\":\"ACC-1\",\"text\":\"t\"}"
                .replace("{", "{\"" + field + "\":\"a\\ud800b\",")
                .replaceFirst(",\"" + field + "\":\"[^\"]*\"(?=[,}])", "");
        DeadLetter d = rejected(json, DeadLetterReason.INVALID_CHARACTER);
        assertThat(d.message).isEqualTo(field + " has an unpaired surrogate U+D800 at character 2");
        // a lone low surrogate and a reversed pair are just as broken
        rejected(json.replace("\\ud800", "\\udc00"), DeadLetterReason.INVALID_CHARACTER);
        rejected(json.replace("\\ud800", "\\udc00\\ud800"), DeadLetterReason.INVALID_CHARACTER);
    }

    @Test
    void acceptsPairedSurrogates() {
        FinancialEvent e = parse(event("").replace("rent for march", "rent \\ud83d\\udcb8 \ud83c\udfe0"))
                .event();
        assertThat(e.text).isEqualTo("rent \ud83d\udcb8 \ud83c\udfe0");
    }

    @Test
    void controlCharacters() {
        // identifiers: none at all
        assertThat(rejected(event("").replace("\"e-1\"", "\"e\\u0000-1\""), DeadLetterReason.INVALID_CHARACTER).message)
                .isEqualTo("eventId has the control character U+0000 at character 2");
        rejected(event("").replace("\"ACC-1\"", "\"ACC\\n1\""), DeadLetterReason.INVALID_CHARACTER);
        rejected(event("").replace("\"ACC-1\"", "\"ACC\\u00851\""), DeadLetterReason.INVALID_CHARACTER);
        rejected(event("\"eventTime\":\"2026-03-01T09:30:00Z\\u001b\""), DeadLetterReason.INVALID_CHARACTER);
        // text: tab, line feed, carriage return (and C1, as in text decoded with the wrong code page)
        assertThat(parse(event("").replace("rent for march", "rent\\tfor\\r\\nmarch\\u0085"))
                        .isOk())
                .isTrue();
        rejected(event("").replace("rent for march", "rent\\u0000"), DeadLetterReason.INVALID_CHARACTER);
        rejected(event("").replace("rent for march", "rent\\u001b[31m"), DeadLetterReason.INVALID_CHARACTER);
        rejected(event("").replace("rent for march", "rent\\u007f"), DeadLetterReason.INVALID_CHARACTER);
        rejected(event("\"counterparty\":\"Nord\\u0007\""), DeadLetterReason.INVALID_CHARACTER);
    }

    @Test
    void quotedValuesInMessagesAreEscaped() {
        DeadLetter d = rejected(event("\"currency\":\"E\\u202eUR\""), DeadLetterReason.INVALID_CURRENCY);
        assertThat(d.message).startsWith("currency 'EU+202EUR'");
    }

    @Test
    void blankIdentifiersIncludeUnicodeSpaces() {
        rejected(event("").replace("\"e-1\"", "\"\\u00a0\\u2003\\u200b\""), DeadLetterReason.EMPTY_FIELD);
    }

    /** Bytes Jackson alone decodes without complaint (checked: jackson-core 2.19.2). */
    @ParameterizedTest
    @CsvSource({
        "C0 AF, overlong slash",
        "C1 81, overlong A",
        "E0 80 AF, overlong 3-byte slash",
        "F0 80 80 AF, overlong 4-byte slash",
        "ED A0 80, UTF-8-encoded high surrogate (CESU-8)",
        "ED B0 80, UTF-8-encoded low surrogate",
        "F4 90 80 80, above U+10FFFF",
        "F8 88 80 80 80, five-byte form",
        "80, lone continuation byte",
        "E2 82, truncated sequence"
    })
    void rejectsBytesThatAreNotStrictUtf8(String hex, String what) {
        String[] parts = hex.trim().split(" ");
        byte[] bad = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            bad[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        byte[] head = "{\"eventId\":\"e".getBytes(StandardCharsets.UTF_8);
        byte[] tail = "1\",\"accountId\":\"A\",\"text\":\"t\"}".getBytes(StandardCharsets.UTF_8);
        byte[] json = new byte[head.length + bad.length + tail.length];
        System.arraycopy(head, 0, json, 0, head.length);
        System.arraycopy(bad, 0, json, head.length, bad.length);
        System.arraycopy(tail, 0, json, head.length + bad.length, tail.length);
        ParseResult r = parser.parse(json, AT, RECEIVED_AT);
        assertThat(r.isOk()).as(what).isFalse();
        assertThat(r.deadLetter().reason).as(what).isEqualTo(DeadLetterReason.INVALID_JSON);
        assertThat(r.deadLetter().message)
                .as(what)
                .startsWith("record is not valid UTF-8")
                .endsWith("at byte offset " + head.length);
        assertThat(r.deadLetter().payload).isEqualTo(json);
    }

    @Test
    void skipsOneLeadingByteOrderMark() {
        assertThat(parse("\ufeff" + event("")).isOk()).isTrue();
        rejected("\ufeff\ufeff" + event(""), DeadLetterReason.INVALID_JSON);
        rejected("\ufeff", DeadLetterReason.EMPTY_RECORD);
    }

    @Test
    void syntaxErrorMessagesDoNotQuoteTheDocument() {
        String json = "{\"eventId\":\"e-1\",\"accountId\":\"A\",\"text\": wire the funds to Nordlicht}";
        DeadLetter d = rejected(json, DeadLetterReason.INVALID_JSON);
        assertThat(d.message)
                .startsWith("invalid JSON at line 1")
                .doesNotContain("wire")
                .doesNotContain("Nordlicht");
        DeadLetter dup = rejected(event("\"text\":\"again\""), DeadLetterReason.INVALID_JSON);
        assertThat(dup.message).contains("'text'").doesNotContain("again");
    }

    @Test
    void rejectsAmountsWithAbsurdScale() {
        rejected(event("\"amount\":1e-400"), DeadLetterReason.NON_FINITE_NUMBER);
        rejected(event("\"amount\":1e-999999999"), DeadLetterReason.NON_FINITE_NUMBER);
        rejected(event("\"amount\":0.0000000000000000001"), DeadLetterReason.NON_FINITE_NUMBER);
        assertThat(parse(event("\"amount\":12.500000000000000000000")).event().amount)
                .isEqualByComparingTo("12.5");
        assertThat(parse(event("\"amount\":1e17")).isOk()).isTrue();
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
        assertThat(parse(event("\"extra\":" + "[".repeat(20) + "]".repeat(20))).isOk())
                .isTrue();
    }

    @Test
    void rejectsOversizeRecordBeforeParsing() {
        EventParser small = EventParser.builder()
                .maxEventBytes(1024)
                .maxDeadLetterPayloadBytes(100)
                .build();
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
        RawEvent cut = new RawEvent(
                "{\"a\":".getBytes(StandardCharsets.UTF_8), 5_000_000L, SourcePosition.file("/in.jsonl", 7), 0L);
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
        assertThat(p.parse(exact.getBytes(StandardCharsets.UTF_8), AT, 0L).isOk())
                .isTrue();
        assertThat(p.parse((exact + " ").getBytes(StandardCharsets.UTF_8), AT, 0L)
                        .deadLetter()
                        .reason)
                .isEqualTo(DeadLetterReason.OVERSIZE_RECORD);
    }

    @Test
    void messagesNeverQuoteTheText() {
        String secret = "SECRET-NARRATIVE-\u00e9\u00e9";
        String json = "{\"eventId\":\"e-1\",\"accountId\":\"A\",\"kind\":\"PAYMENT\",\"text\":\"" + secret
                + "\",\"amount\":\"x\"}";
        DeadLetter d = parse(json).deadLetter();
        assertThat(d.message).doesNotContain("SECRET");
        assertThat(d.toString()).doesNotContain("SECRET");
    }

    @Test
    void validatesBuilder() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> EventParser.builder().maxEventBytes(10).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ConnectorOptions.MAX_EVENT_SIZE.key());
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> EventParser.builder().maxNestingDepth(0).build())
                .hasMessageContaining(ScreeningOptions.MAX_NESTING_DEPTH.key());
    }
}
