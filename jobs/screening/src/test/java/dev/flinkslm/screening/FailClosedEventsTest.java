package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.connectors.JsonSchemas;
import dev.flinkslm.connectors.Redaction;
import dev.flinkslm.connectors.SourcePosition;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Events and results fail closed: ties, truncation flags, non-finite scores, hostile characters and encodings, secrets. */
class FailClosedEventsTest {

    private static final String[] LABELS = {"clear", "sanctions", "structuring", "fraud", "market_abuse"};

    private static FinancialEvent event() {
        return EventParser.withDefaults()
                .parse(
                        "{\"eventId\":\"e-1\",\"accountId\":\"A\",\"text\":\"t\"}".getBytes(StandardCharsets.UTF_8),
                        SourcePosition.kafka("t", 0, 0),
                        1L)
                .event();
    }

    /**
     * * The operator's prediction gives an exact clear/finding tie to the finding, but the screening job
     * rebuilds label and score in ScoredEvent.of with its own arg-max in which index 0 ('clear') wins
     * ties. A row [0.5, 0.5, 0, 0, 0] is written as label 'clear' and raises no alert.
     * */
    @Test
    void anExactTieIsNotResolvedToClear() {
        // the operator's answer for a tie (the runtime's negative label loses ties) is carried as it is
        ScoredEvent s = ScoredEvent.of(
                event(), LABELS, new double[] {0.5, 0.5, 0, 0, 0}, 1, "m", "1", "active", 1, false, 0, 0, 0);
        assertThat(s.label)
                .as("a tie between clear and sanctions must not become clear")
                .isNotEqualTo("clear");
        assertThat(AlertPolicy.defaults().evaluate(s, 0))
                .as("no alert for a 0.5 sanctions score")
                .isNotNull();
    }

    /**
     * The screening job's result record has neither a window count nor a truncated flag, so
     * an event whose tail was never screened is written as an ordinary (usually 'clear') result.
     * */
    @Test
    void theJobsResultRecordSaysWhetherTheTextWasTruncated() {
        List<String> fields = new ArrayList<>();
        for (java.lang.reflect.Field f : ScoredEvent.class.getFields()) {
            fields.add(f.getName());
        }
        String json = JsonSchemas.toJson(
                ScreeningSchemas.scoredEvents(),
                ScoredEvents.of(event(), LABELS, new double[] {1, 0, 0, 0, 0}, "m", "1", "active", 0, 0, 0));
        assertThat(fields).as("ScoredEvent fields").contains("truncated", "windows");
        assertThat(json).contains("\"truncated\"").contains("\"windows\"");
    }

    /** a NaN that reached the writer fails the write; it is never the string "NaN". */
    @Test
    void aNonFiniteScoreIsNeverWrittenAsAString() {
        ScoredEvent s = ScoredEvents.of(event(), LABELS, new double[] {1, 0, 0, 0, 0}, "m", "1", "active", 0, 0, 0);
        s.score = Double.NaN;
        assertThatThrownBy(() -> JsonSchemas.toJson(ScreeningSchemas.scoredEvents(), s))
                .isNotNull();
        s.score = 1;
        s.probabilities[3] = Double.POSITIVE_INFINITY;
        assertThatThrownBy(() -> JsonSchemas.toJson(ScreeningSchemas.scoredEvents(), s))
                .isNotNull();
        s.probabilities[3] = 0;
        String ok = JsonSchemas.toJson(ScreeningSchemas.scoredEvents(), s);
        assertThat(ok).contains("\"score\":1.0").doesNotContain("\"NaN\"");
        assertThatThrownBy(() -> ScoredEvents.of(
                        event(), LABELS, new double[] {Double.NaN, 0, 0, 0, 0}, "m", "1", "active", 0, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ------------------------------------------------------------------ parsing

    private static String parse(String json) {
        ParseResult r = EventParser.withDefaults()
                .parse(json.getBytes(StandardCharsets.UTF_8), SourcePosition.file("f", 1), 1L);
        return r.isOk() ? "OK" : r.deadLetter().reason.name();
    }

    private static String parseBytes(byte[] bytes) {
        ParseResult r = EventParser.withDefaults().parse(bytes, SourcePosition.file("f", 1), 1L);
        return r.isOk() ? "OK" : r.deadLetter().reason.name();
    }

    private static String ev(String extra) {
        return "{\"eventId\":\"e\",\"accountId\":\"A\",\"text\":\"rent\"" + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    /** locale tricks, look-alikes and non-currency X codes; kind optional. */
    @Test
    void hostileCodesKindsAndCharacters() {
        Locale saved = Locale.getDefault();
        Locale.setDefault(Locale.forLanguageTag("tr-TR"));
        try {
            Map<String, String> cases = new LinkedHashMap<>();
            cases.put(ev(""), "OK"); // kind absent
            cases.put(ev("\"kind\":null"), "OK");
            cases.put(ev("\"currency\":\"inr\""), "OK"); // ASCII lower case is fine, even under tr-TR
            cases.put(ev("\"country\":\"it\""), "OK");
            cases.put(ev("\"currency\":\"\u0131nr\""), "INVALID_CURRENCY"); // dotless i
            cases.put(ev("\"country\":\"\u0131t\""), "INVALID_COUNTRY");
            cases.put(ev("\"currency\":\"\uFF29\uFF2E\uFF32\""), "INVALID_CURRENCY"); // fullwidth INR
            cases.put(ev("\"currency\":\"\u0415UR\""), "INVALID_CURRENCY"); // Cyrillic E
            cases.put(ev("\"currency\":\"EUR \""), "INVALID_CURRENCY");
            for (String x : List.of(
                    "XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA", "XFO",
                    "XFU")) {
                cases.put(ev("\"currency\":\"" + x + "\""), "INVALID_CURRENCY");
            }
            cases.put(ev("\"currency\":\"XAF\""), "OK");
            cases.put(ev("\"currency\":\"xof\""), "OK");
            cases.put(ev("\"kind\":\"me\u017F\u017Fage\""), "INVALID_KIND"); // long s upper-cases to S
            cases.put(ev("\"kind\":\"\u0130TEM\""), "INVALID_KIND");
            cases.put(ev("\"kind\":\"payment\""), "OK");
            cases.put("{\"eventId\":\"e\\ud800\",\"accountId\":\"A\",\"text\":\"t\"}", "INVALID_CHARACTER");
            cases.put("{\"eventId\":\"e\",\"accountId\":\"A\",\"text\":\"t\\udc00\\ud800\"}", "INVALID_CHARACTER");
            cases.put("{\"eventId\":\"e\\u0085\",\"accountId\":\"A\",\"text\":\"t\"}", "INVALID_CHARACTER"); // C1 NEL
            cases.put("{\"eventId\":\"e\\n\",\"accountId\":\"A\",\"text\":\"t\"}", "INVALID_CHARACTER");
            cases.put("{\"eventId\":\"e\",\"accountId\":\"A\",\"text\":\"t\\u0000\"}", "INVALID_CHARACTER");
            cases.put(ev("\"amount\":1e-400"), "NON_FINITE_NUMBER");
            cases.put(ev("\"amount\":1e400"), "NON_FINITE_NUMBER");
            cases.put(ev("\"amount\":1E+18"), "NON_FINITE_NUMBER");
            cases.put(ev("\"amount\":\"12.50\""), "WRONG_TYPE");
            cases.put(
                    ev("\"eventTime\":\"\uFF12\uFF10\uFF12\uFF16-03-01T09:30:00Z\""),
                    "INVALID_TIME"); // fullwidth digits
            cases.put(ev("\"eventTime\":\"\u0662\u0660\u0662\u0666-03-01T09:30:00Z\""), "INVALID_TIME"); // Arabic-Indic
            Map<String, String> wrong = new LinkedHashMap<>();
            cases.forEach((json, expected) -> {
                String got = parse(json);
                if (!got.equals(expected)) {
                    wrong.put(json, "expected " + expected + " got " + got);
                }
            });
            // overlong '/' (C0 AF) inside an id, CESU-8 surrogate, above U+10FFFF
            for (byte[] bad : new byte[][] {
                {'{', '"', 'e', 'v', 'e', 'n', 't', 'I', 'd', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"'},
                {'{', '"', 'e', 'v', 'e', 'n', 't', 'I', 'd', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'
                },
                {
                    '{',
                    '"',
                    'e',
                    'v',
                    'e',
                    'n',
                    't',
                    'I',
                    'd',
                    '"',
                    ':',
                    '"',
                    (byte) 0xF4,
                    (byte) 0x90,
                    (byte) 0x80,
                    (byte) 0x80,
                    '"'
                }
            }) {
                byte[] full = new byte[bad.length + 30];
                System.arraycopy(bad, 0, full, 0, bad.length);
                byte[] tail = ",\"accountId\":\"A\",\"text\":\"t\"}".getBytes(StandardCharsets.UTF_8);
                byte[] rec = java.util.Arrays.copyOf(bad, bad.length + tail.length);
                System.arraycopy(tail, 0, rec, bad.length, tail.length);
                String got = parseBytes(rec);
                if (!got.equals("INVALID_JSON")) {
                    wrong.put(new String(rec, StandardCharsets.ISO_8859_1), "expected INVALID_JSON got " + got);
                }
            }
            assertThat(wrong).isEmpty();
        } finally {
            Locale.setDefault(saved);
        }
    }

    /** Format characters (a bidi override U+202E) and line separators (U+2028) make ids that print as others. */
    @Test
    void formatCharactersInIdentifiersAreRejected() {
        assertThat(parse("{\"eventId\":\"e\\u202Egnp.exe\",\"accountId\":\"A\",\"text\":\"t\"}"))
                .isEqualTo("INVALID_CHARACTER");
        assertThat(parse("{\"eventId\":\"e\\u2028INFO forged\",\"accountId\":\"A\",\"text\":\"t\"}"))
                .isEqualTo("INVALID_CHARACTER");
    }

    // ------------------------------------------------------------------ redaction

    /** variants of the secret-looking keys and option forms are masked in the command line. */
    @Test
    void commandLineVariantsAreMasked() {
        String pw = "s3cretPW";
        List<String[]> lines = List.of(
                new String[] {"screen", "--kafka-property", "SASL.JAAS.CONFIG=x required password=\"" + pw + "\";"},
                new String[] {"screen", "--kafka-property=ssl.key.password=" + pw},
                new String[] {"screen", "--kafka-property", "ssl.keystore.password = " + pw},
                new String[] {"screen", "--kafka-property", "sasl.oauthbearer.client.credentials.client.secret=" + pw},
                new String[] {"screen", "--kafka-property", "basic.auth.user.info=u:" + pw},
                new String[] {"screen", "--kafka-property", pw},
                new String[] {"screen", "--kafka-propety", "sasl.jaas.config=" + pw},
                new String[] {"screen", "--kafka-property", "-" + pw});
        for (String[] line : lines) {
            assertThat(String.join(" ", Redaction.commandLine(line)))
                    .as(String.join(" ", line))
                    .doesNotContain(pw);
            assertThat(Redaction.scrub("error: " + String.join(" ", line), line))
                    .doesNotContain(pw);
        }
    }

    /**
     * A JAAS password with an
     * escaped quote (valid in Kafka's JAAS syntax: password="ab\"cd1234") is split by the inner-secret
     * pattern at the escaped quote; a message quoting the decoded password is scrubbed only partly.
     * */
    @Test
    void aJaasPasswordWithAnEscapedQuoteIsScrubbedWhole() {
        String[] args = {
            "screen",
            "--kafka-property",
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\""
                    + " password=\"ab\\\"cd1234\";"
        };
        String message = "login failed for user u with password ab\"cd1234";
        assertThat(Redaction.scrub(message, args)).doesNotContain("cd1234");
    }
}
