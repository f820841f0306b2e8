package dev.flinkslm.screening;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.connectors.DeadLetter;
import dev.flinkslm.connectors.DeadLetterReason;
import dev.flinkslm.connectors.RawEvent;
import dev.flinkslm.connectors.SourcePosition;
import org.apache.flink.annotation.PublicEvolving;

import java.io.IOException;
import java.io.Serializable;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Currency;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Strict parser from JSON bytes to {@link FinancialEvent}; it never throws: every input yields a
 * {@link ParseResult} holding either an event or a {@link DeadLetter} with a reason code.
 *
 * <p>Rules (docs/screening-job.md, "Input format", lists them for users):
 * <ul>
 *   <li>Records larger than {@code maxEventBytes} are rejected before any parsing
 *       ({@link DeadLetterReason#OVERSIZE_RECORD}).
 *   <li>The bytes must be strict UTF-8: malformed, truncated or overlong sequences, UTF-8-encoded
 *       surrogates and code points above U+10FFFF are {@link DeadLetterReason#INVALID_JSON}
 *       (Jackson alone would decode an overlong {@code C0 AF} to {@code '/'}). One leading
 *       byte-order mark is skipped.
 *   <li>Nesting deeper than {@code maxNestingDepth} is rejected by the tokenizer; duplicate field
 *       names are rejected; unknown fields are ignored (never read, never forwarded).
 *   <li>Wrong JSON types are rejected, never coerced ({@code "amount":"12"} is
 *       {@link DeadLetterReason#WRONG_TYPE}); a null value counts as absent.
 *   <li>Required: {@code eventId}, {@code accountId}, {@code text}. {@code kind} is optional: absent
 *       or null is {@link EventKind#UNKNOWN}; present, it must be a well-formed name.
 *   <li>Every string field read is checked for characters that are never valid
 *       ({@link DeadLetterReason#INVALID_CHARACTER}): no unpaired surrogates anywhere, no control
 *       characters in identifiers, codes and times, only tab, line feed and carriage return among
 *       the C0 controls in {@code text} and {@code counterparty}.
 *   <li>{@code currency}: exactly three ASCII letters, any case, naming a code of
 *       {@link Currency#getAvailableCurrencies()} other than {@link #NON_CURRENCY_CODES};
 *       {@code country}: exactly two ASCII letters naming a code of
 *       {@link Locale#getISOCountries()}. Both stored upper-case. Case is folded on ASCII only,
 *       so INR spelt with a dotless i (U+0131) is not INR. Present but empty is rejected.
 *   <li>NaN, Infinity, |amount| &ge; 1e18 and amounts with more than 18 decimal places are
 *       {@link DeadLetterReason#NON_FINITE_NUMBER}.
 * </ul>
 * Dead-letter messages name the field and the rule, never the event text; quoted values (a bad
 * currency, kind or time) are short and have control characters escaped.
 *
 * <pre>{@code
 * EventParser parser = EventParser.builder().maxEventBytes(512 * 1024).build();
 * ParseResult r = parser.parse(new RawEvent(bytes, SourcePosition.file("in.jsonl", 3), now));
 * if (r.isOk()) use(r.event()); else deadLetters.add(r.deadLetter());
 * }</pre>
 *
 * <p>Threading: a parser is immutable after {@link Builder#build()} and safe to use from several
 * threads; it is {@link Serializable} so it can be shipped inside a Flink function.
 */
@PublicEvolving
public final class EventParser implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Longest accepted eventId or accountId (characters). */
    public static final int MAX_ID_LENGTH = 256;
    /** Longest accepted counterparty name. */
    public static final int MAX_COUNTERPARTY_LENGTH = 512;
    /** Amounts must be strictly smaller than this in magnitude. */
    private static final BigDecimal MAX_AMOUNT = BigDecimal.TEN.pow(18);
    /** 9999-12-31T23:59:59.999Z: later epoch values are almost certainly micro- or nanoseconds. */
    private static final long MAX_EPOCH_MILLIS = 253_402_300_799_999L;
    /** Most decimal places of an amount. */
    private static final int MAX_AMOUNT_SCALE = 18;

    private static final int MAX_QUOTED_VALUE = 16;
    private static final int MAX_MESSAGE = 300;

    /**
     * ISO 4217 codes that {@link Currency} knows but that are not money an account can pay in:
     * XXX (no currency), XTS (testing), XAU/XAG/XPT/XPD (gold, silver, platinum, palladium), XDR
     * (IMF special drawing rights), XBA/XBB/XBC/XBD (European bond-market units), XSU (SUCRE),
     * XUA (ADB unit of account), XFO/XFU (historic gold and UIC francs). The X codes of real
     * currencies (XAF, XOF, XCD, XPF, XCG) stay valid.
     */
    public static final Set<String> NON_CURRENCY_CODES = Set.of(
            "XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA", "XFO", "XFU");

    private static final Set<String> CURRENCIES = currencies();
    private static final Set<String> COUNTRIES = Set.of(Locale.getISOCountries());

    /** Jackson quotes tokens of the document in its messages; these may stay, anything else is cut. */
    private static final Set<String> QUOTABLE = Set.of(
            "null",
            "true",
            "false",
            "NaN",
            "INF",
            "+INF",
            "-INF",
            "Infinity",
            "-Infinity",
            "eventId",
            "accountId",
            "kind",
            "text",
            "eventTime",
            "amount",
            "currency",
            "country",
            "counterparty");

    private static final Pattern QUOTED = Pattern.compile("'([^']*)'");

    private final long maxEventBytes;
    private final int maxNestingDepth;
    private final int maxDeadLetterPayloadBytes;

    private transient ObjectMapper mapper;

    private EventParser(Builder b) {
        this.maxEventBytes = b.maxEventBytes;
        this.maxNestingDepth = b.maxNestingDepth;
        this.maxDeadLetterPayloadBytes = b.maxDeadLetterPayloadBytes;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A parser with the defaults of {@link ConnectorOptions}. */
    public static EventParser withDefaults() {
        return builder().build();
    }

    public long maxEventBytes() {
        return maxEventBytes;
    }

    /** Parses bytes read at {@code position}; {@code receivedAt} stands in for a missing eventTime. */
    public ParseResult parse(byte[] value, SourcePosition position, long receivedAt) {
        return parse(new RawEvent(value, position, receivedAt));
    }

    /** Parses one raw record. Never throws. */
    public ParseResult parse(RawEvent raw) {
        try {
            return doParse(raw);
        } catch (RuntimeException | StackOverflowError e) {
            return reject(
                    raw,
                    DeadLetterReason.INTERNAL_ERROR,
                    "unexpected " + e.getClass().getSimpleName() + " while parsing; please report it");
        }
    }

    /** Builds a dead letter for {@code raw} with this parser's payload cap. Never throws. */
    public DeadLetter deadLetter(RawEvent raw, DeadLetterReason reason, String message) {
        byte[] value = raw.value;
        byte[] kept = value == null
                ? null
                : value.length <= maxDeadLetterPayloadBytes ? value : Arrays.copyOf(value, maxDeadLetterPayloadBytes);
        return new DeadLetter(
                kept,
                Math.max(raw.size, value == null ? 0 : value.length),
                reason,
                message,
                raw.position,
                System.currentTimeMillis());
    }

    private ParseResult doParse(RawEvent raw) {
        byte[] value = raw.value;
        long size = Math.max(raw.size, value == null ? 0 : value.length);
        if (size > maxEventBytes) {
            return reject(
                    raw,
                    DeadLetterReason.OVERSIZE_RECORD,
                    "record has " + size + " bytes, the limit is " + maxEventBytes + " (raise "
                            + ConnectorOptions.MAX_EVENT_SIZE.key() + " if such events are legitimate)");
        }
        if (value == null || isBlank(value)) {
            return reject(raw, DeadLetterReason.EMPTY_RECORD, "record is empty");
        }
        String json;
        try {
            json = strictUtf8(value);
        } catch (MalformedUtf8 e) {
            return reject(
                    raw,
                    DeadLetterReason.INVALID_JSON,
                    "record is not valid UTF-8: malformed, overlong or"
                            + " surrogate-encoding byte sequence at byte offset " + e.offset);
        }
        if (json.isBlank()) {
            return reject(raw, DeadLetterReason.EMPTY_RECORD, "record is empty");
        }
        JsonNode root;
        try {
            root = mapper().readTree(json);
        } catch (StreamConstraintsException e) {
            String detail = e.getOriginalMessage();
            if (detail != null && detail.contains("nesting depth")) {
                return reject(
                        raw,
                        DeadLetterReason.TOO_DEEPLY_NESTED,
                        "JSON is nested deeper than " + maxNestingDepth + " levels");
            }
            return reject(raw, DeadLetterReason.LIMIT_EXCEEDED, jacksonMessage(detail));
        } catch (JsonEOFException e) {
            return reject(
                    raw, DeadLetterReason.TRUNCATED_JSON, "JSON ends early" + location(e) + " (record truncated?)");
        } catch (MismatchedInputException e) {
            // readTree on a complete value followed by more tokens (FAIL_ON_TRAILING_TOKENS).
            return reject(
                    raw,
                    DeadLetterReason.INVALID_JSON,
                    "not a single JSON value: " + jacksonMessage(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            return reject(
                    raw,
                    DeadLetterReason.INVALID_JSON,
                    "invalid JSON" + location(e) + ": " + jacksonMessage(e.getOriginalMessage()));
        } catch (IOException e) {
            return reject(raw, DeadLetterReason.INVALID_JSON, "unreadable JSON: " + jacksonMessage(e.getMessage()));
        }
        if (root == null || root.isMissingNode()) {
            return reject(raw, DeadLetterReason.EMPTY_RECORD, "record is empty");
        }
        if (!root.isObject()) {
            return reject(raw, DeadLetterReason.NOT_AN_OBJECT, "expected a JSON object, got " + typeName(root));
        }
        return fromObject(raw, root);
    }

    private ParseResult fromObject(RawEvent raw, JsonNode obj) {
        FinancialEvent event = new FinancialEvent();
        event.source = raw.position;
        Field f = new Field(raw);

        event.eventId = f.requiredString(obj, "eventId", MAX_ID_LENGTH, Chars.IDENTIFIER);
        f.checkVisible(event.eventId, "eventId");
        if (f.failed()) return f.result;
        event.accountId = f.requiredString(obj, "accountId", MAX_ID_LENGTH, Chars.IDENTIFIER);
        f.checkVisible(event.accountId, "accountId");
        if (f.failed()) return f.result;
        String kindName = f.optionalString(obj, "kind", MAX_ID_LENGTH, Chars.IDENTIFIER, DeadLetterReason.EMPTY_FIELD);
        if (f.failed()) return f.result;
        if (kindName == null) {
            event.kind = EventKind.UNKNOWN;
            event.kindName = EventKind.UNKNOWN.name();
        } else {
            EventKind kind = EventKind.fromName(kindName);
            if (kind == null) {
                return reject(
                        raw,
                        DeadLetterReason.INVALID_KIND,
                        "kind " + quote(kindName) + " is not a kind name such as PAYMENT, TRADE or MESSAGE"
                                + " (a letter, then letters, digits or '_', at most 32 characters; leave kind out"
                                + " when it is not known)");
            }
            event.kind = kind;
            event.kindName = asciiUpperCase(kindName);
        }
        event.text = f.requiredString(obj, "text", Integer.MAX_VALUE, Chars.TEXT);
        if (f.failed()) return f.result;

        JsonNode time = obj.get("eventTime");
        if (time == null || time.isNull()) {
            event.eventTime = raw.receivedAt;
        } else if (time.isTextual()) {
            f.checkChars(time.textValue(), "eventTime", Chars.IDENTIFIER);
            if (f.failed()) return f.result;
            try {
                event.eventTime = Instant.parse(time.textValue()).toEpochMilli();
            } catch (DateTimeParseException | ArithmeticException e) {
                return reject(
                        raw,
                        DeadLetterReason.INVALID_TIME,
                        "eventTime " + quote(time.textValue())
                                + " is not an ISO-8601 instant such as 2026-03-01T09:30:00Z");
            }
            if (event.eventTime < 0 || event.eventTime > MAX_EPOCH_MILLIS) {
                return reject(raw, DeadLetterReason.INVALID_TIME, "eventTime must be between 1970 and 9999");
            }
        } else if (time.isIntegralNumber()) {
            if (!time.canConvertToLong() || time.longValue() < 0 || time.longValue() > MAX_EPOCH_MILLIS) {
                return reject(
                        raw,
                        DeadLetterReason.INVALID_TIME,
                        "eventTime " + time.asText() + " is not epoch milliseconds between 1970 and 9999");
            }
            event.eventTime = time.longValue();
        } else if (time.isNumber() && !Double.isFinite(time.doubleValue())) {
            return reject(raw, DeadLetterReason.NON_FINITE_NUMBER, "eventTime must be finite");
        } else {
            return reject(
                    raw,
                    DeadLetterReason.WRONG_TYPE,
                    "eventTime must be an ISO-8601 string or integer epoch milliseconds, got " + typeName(time));
        }

        JsonNode amount = obj.get("amount");
        if (amount != null && !amount.isNull()) {
            if (!amount.isNumber()) {
                return reject(raw, DeadLetterReason.WRONG_TYPE, "amount must be a number, got " + typeName(amount));
            }
            if ((amount.isDouble() || amount.isFloat()) && !Double.isFinite(amount.doubleValue())) {
                return reject(raw, DeadLetterReason.NON_FINITE_NUMBER, "amount must be finite, got " + amount.asText());
            }
            BigDecimal decimal = amount.decimalValue();
            if (decimal.abs().compareTo(MAX_AMOUNT) >= 0) {
                return reject(raw, DeadLetterReason.NON_FINITE_NUMBER, "amount is out of range (|amount| < 1e18)");
            }
            // 1e-999999999 is a 12-character number whose plain form has a billion digits.
            if (decimal.scale() > MAX_AMOUNT_SCALE
                    && decimal.stripTrailingZeros().scale() > MAX_AMOUNT_SCALE) {
                return reject(
                        raw,
                        DeadLetterReason.NON_FINITE_NUMBER,
                        "amount has more than " + MAX_AMOUNT_SCALE + " decimal places");
            }
            event.amount = decimal;
        }

        String currency = f.optionalString(
                obj, "currency", MAX_QUOTED_VALUE, Chars.IDENTIFIER, DeadLetterReason.INVALID_CURRENCY);
        if (f.failed()) return f.result;
        if (currency != null) {
            String code = asciiLetters(currency, 3) ? asciiUpperCase(currency) : null;
            if (code == null || !CURRENCIES.contains(code)) {
                return reject(
                        raw,
                        DeadLetterReason.INVALID_CURRENCY,
                        "currency " + quote(currency)
                                + " is not an ISO 4217 currency code such as EUR or USD (three ASCII letters;"
                                + " XXX, XTS, metals and units of account are not currencies)");
            }
            event.currency = code;
        }

        String country =
                f.optionalString(obj, "country", MAX_QUOTED_VALUE, Chars.IDENTIFIER, DeadLetterReason.INVALID_COUNTRY);
        if (f.failed()) return f.result;
        if (country != null) {
            String code = asciiLetters(country, 2) ? asciiUpperCase(country) : null;
            if (code == null || !COUNTRIES.contains(code)) {
                return reject(
                        raw,
                        DeadLetterReason.INVALID_COUNTRY,
                        "country " + quote(country)
                                + " is not an ISO 3166 alpha-2 country code such as DE or US (two ASCII letters)");
            }
            event.country = code;
        }

        event.counterparty = f.optionalString(obj, "counterparty", MAX_COUNTERPARTY_LENGTH, Chars.TEXT, null);
        if (f.failed()) return f.result;
        return ParseResult.ok(event);
    }

    /** Which characters a string field may hold besides the ones every field may hold. */
    private enum Chars {
        /** Identifiers, codes, kind, time: no control characters at all. */
        IDENTIFIER,
        /** Narrative and names: tab, line feed and carriage return are the only C0 controls. */
        TEXT
    }

    /** Field readers that record the first failure instead of throwing (keeps the hot path cheap). */
    private final class Field {
        private final RawEvent raw;
        ParseResult result;

        Field(RawEvent raw) {
            this.raw = raw;
        }

        boolean failed() {
            return result != null;
        }

        String requiredString(JsonNode obj, String name, int maxLength, Chars chars) {
            JsonNode node = obj.get(name);
            if (node == null || node.isNull()) {
                result = reject(raw, DeadLetterReason.MISSING_FIELD, name + " is required");
                return null;
            }
            return checkString(node, name, maxLength, chars, DeadLetterReason.EMPTY_FIELD);
        }

        /**
         * An optional string: null when absent or JSON null.
         *
         * @param ifBlank the reason to reject a present but blank value with, or null to treat it as absent
         */
        String optionalString(JsonNode obj, String name, int maxLength, Chars chars, DeadLetterReason ifBlank) {
            JsonNode node = obj.get(name);
            if (node == null || node.isNull()) {
                return null;
            }
            return checkString(node, name, maxLength, chars, ifBlank);
        }

        private String checkString(JsonNode node, String name, int maxLength, Chars chars, DeadLetterReason ifBlank) {
            if (!node.isTextual()) {
                result = reject(raw, DeadLetterReason.WRONG_TYPE, name + " must be a string, got " + typeName(node));
                return null;
            }
            String s = node.textValue();
            if (s.length() > maxLength) {
                result = reject(
                        raw,
                        DeadLetterReason.FIELD_TOO_LONG,
                        name + " has " + s.length() + " characters, at most " + maxLength + " are allowed");
                return null;
            }
            checkChars(s, name, chars);
            if (failed()) {
                return null;
            }
            if (isBlankText(s)) {
                if (ifBlank != null) {
                    result = reject(
                            raw,
                            ifBlank,
                            name + " must not be empty"
                                    + (ifBlank == DeadLetterReason.EMPTY_FIELD
                                            ? ""
                                            : " (leave it out when there is none)"));
                }
                return null;
            }
            return s;
        }

        /**
         * Records an INVALID_CHARACTER failure for an identifier holding a character that makes it print
         * as another one: a bidi override, a zero-width character or a line separator (log spoofing).
         */
        void checkVisible(String s, String name) {
            if (s == null || result != null) {
                return;
            }
            for (int i = 0; i < s.length(); i++) {
                int type = Character.getType(s.charAt(i));
                if (type == Character.FORMAT
                        || type == Character.LINE_SEPARATOR
                        || type == Character.PARAGRAPH_SEPARATOR) {
                    result = reject(
                            raw,
                            DeadLetterReason.INVALID_CHARACTER,
                            name + " has the invisible or" + " line-breaking character " + codePoint(s.charAt(i))
                                    + " at character " + (i + 1));
                    return;
                }
            }
        }

        /** Records an INVALID_CHARACTER failure for the first character {@code chars} does not allow. */
        void checkChars(String s, String name, Chars chars) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (Character.isSurrogate(c)) {
                    if (Character.isHighSurrogate(c)
                            && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1))) {
                        i++;
                        continue;
                    }
                    result = reject(
                            raw,
                            DeadLetterReason.INVALID_CHARACTER,
                            name + " has an unpaired surrogate " + codePoint(c) + " at character " + (i + 1));
                    return;
                }
                boolean control = c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F);
                if (control && (chars == Chars.IDENTIFIER || (c != '\t' && c != '\n' && c != '\r' && c < 0x80))) {
                    result = reject(
                            raw,
                            DeadLetterReason.INVALID_CHARACTER,
                            name + " has the control character " + codePoint(c) + " at character " + (i + 1));
                    return;
                }
            }
        }
    }

    private ParseResult reject(RawEvent raw, DeadLetterReason reason, String message) {
        return ParseResult.rejected(deadLetter(raw, reason, message));
    }

    private ObjectMapper mapper() {
        ObjectMapper m = mapper;
        if (m == null) {
            JsonFactory factory = JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(maxNestingDepth)
                            .maxNumberLength(64)
                            .maxNameLength(1024)
                            .build())
                    // NaN/Infinity are tokenized so that they get a precise reason instead of a syntax error.
                    .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    // Error messages must not quote the document (customer data).
                    .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                    .build();
            m = JsonMapper.builder(factory)
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                    // keep "9500.10" as sent: the scale of an amount is information
                    .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
                    .build();
            mapper = m; // benign race: every thread builds an equivalent mapper
        }
        return m;
    }

    private static Set<String> currencies() {
        Set<String> codes = new TreeSet<>();
        for (Currency c : Currency.getAvailableCurrencies()) {
            codes.add(c.getCurrencyCode());
        }
        codes.removeAll(NON_CURRENCY_CODES);
        return Collections.unmodifiableSet(codes);
    }

    /** Exactly {@code length} ASCII letters: no locale case rules, no look-alikes. */
    private static boolean asciiLetters(String s, int length) {
        if (s.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                return false;
            }
        }
        return true;
    }

    /** Upper-cases ASCII letters only; every other character stays as it is. */
    private static String asciiUpperCase(String s) {
        char[] chars = s.toCharArray();
        for (int i = 0; i < chars.length; i++) {
            if (chars[i] >= 'a' && chars[i] <= 'z') {
                chars[i] = (char) (chars[i] - 'a' + 'A');
            }
        }
        return new String(chars);
    }

    /** Whitespace only, counting no-break and zero-width spaces. */
    private static boolean isBlankText(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isWhitespace(c)
                    && !Character.isSpaceChar(c)
                    && c != '\u200B'
                    && c != '\u2060'
                    && c != '\uFEFF') {
                return false;
            }
        }
        return true;
    }

    /** Thrown by {@link #strictUtf8} at the first byte that is not strict UTF-8. */
    private static final class MalformedUtf8 extends Exception {
        private static final long serialVersionUID = 1L;
        final int offset;

        MalformedUtf8(int offset) {
            super(null, null, false, false);
            this.offset = offset;
        }
    }

    /**
     * Decodes strict UTF-8 (the JDK decoder rejects overlong forms, encoded surrogates and code
     * points above U+10FFFF) and drops one leading byte-order mark.
     */
    private static String strictUtf8(byte[] value) throws MalformedUtf8 {
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(value);
        CharBuffer out = CharBuffer.allocate(value.length);
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isUnderflow()) {
            throw new MalformedUtf8(in.position());
        }
        r = decoder.flush(out);
        if (!r.isUnderflow()) {
            throw new MalformedUtf8(in.position());
        }
        out.flip();
        if (out.hasRemaining() && out.get(out.position()) == '\uFEFF') {
            out.position(out.position() + 1);
        }
        return out.toString();
    }

    private static boolean isBlank(byte[] value) {
        for (byte b : value) {
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return false;
            }
        }
        return true;
    }

    private static String typeName(JsonNode node) {
        switch (node.getNodeType()) {
            case STRING:
                return "string";
            case NUMBER:
                return "number";
            case BOOLEAN:
                return "boolean";
            case ARRAY:
                return "array";
            case OBJECT:
                return "object";
            case NULL:
                return "null";
            default:
                return node.getNodeType().name().toLowerCase(Locale.ROOT);
        }
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null
                ? ""
                : " at line " + e.getLocation().getLineNr() + " column "
                        + e.getLocation().getColumnNr();
    }

    /**
     * Quotes a short field value (never the text): long values are cut, and anything but printable
     * characters is written as U+XXXX so that a message cannot forge log lines.
     */
    private static String quote(String s) {
        String v = s.length() > MAX_QUOTED_VALUE ? s.substring(0, MAX_QUOTED_VALUE) + "..." : s;
        StringBuilder b = new StringBuilder(v.length() + 2).append('\'');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            int type = Character.getType(c);
            if (Character.isSurrogate(c)
                    || type == Character.CONTROL
                    || type == Character.FORMAT
                    || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR) {
                b.append(codePoint(c));
            } else {
                b.append(c);
            }
        }
        return b.append('\'').toString();
    }

    private static String codePoint(char c) {
        return String.format(Locale.ROOT, "U+%04X", (int) c);
    }

    /**
     * A Jackson error message without the document: Jackson quotes the offending token (e.g.
     * "Unrecognized token 'wire'"), which may be a piece of the event text. Quoted tokens other
     * than JSON literals and the schema's field names become '...'.
     */
    private static String jacksonMessage(String message) {
        if (message == null) {
            return "";
        }
        // Jackson names the quote character itself as ''' (code 39): take it out before pairing quotes.
        Matcher m = QUOTED.matcher(message.replace("(''' (code 39)", "(quote (code 39)"));
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String token = m.group(1);
            boolean keep = QUOTABLE.contains(token)
                    || (token.length() == 1 && token.charAt(0) >= 0x20 && token.charAt(0) < 0x7F);
            m.appendReplacement(b, Matcher.quoteReplacement(keep ? m.group() : "'...'"));
        }
        m.appendTail(b);
        String s = b.toString().replaceAll("\\p{Cntrl}", " ");
        return s.length() > MAX_MESSAGE ? s.substring(0, MAX_MESSAGE) + "..." : s;
    }

    /**
     * Builder of {@link EventParser}; defaults are those of {@link ConnectorOptions}.
     *
     * <p>Threading: not thread-safe; build on one thread.
     */
    public static final class Builder {
        private long maxEventBytes =
                ConnectorOptions.MAX_EVENT_SIZE.defaultValue().getBytes();
        private int maxNestingDepth = ScreeningOptions.MAX_NESTING_DEPTH.defaultValue();
        private int maxDeadLetterPayloadBytes =
                (int) ConnectorOptions.DEAD_LETTER_MAX_PAYLOAD.defaultValue().getBytes();

        private Builder() {}

        /** Reads the parser options from a Flink configuration. */
        public Builder configure(org.apache.flink.configuration.ReadableConfig config) {
            maxEventBytes = config.get(ConnectorOptions.MAX_EVENT_SIZE).getBytes();
            maxNestingDepth = config.get(ScreeningOptions.MAX_NESTING_DEPTH);
            long dl = config.get(ConnectorOptions.DEAD_LETTER_MAX_PAYLOAD).getBytes();
            maxDeadLetterPayloadBytes = (int) Math.min(dl, Integer.MAX_VALUE);
            return this;
        }

        public Builder maxEventBytes(long bytes) {
            this.maxEventBytes = bytes;
            return this;
        }

        public Builder maxNestingDepth(int depth) {
            this.maxNestingDepth = depth;
            return this;
        }

        public Builder maxDeadLetterPayloadBytes(int bytes) {
            this.maxDeadLetterPayloadBytes = bytes;
            return this;
        }

        public EventParser build() {
            if (maxEventBytes < 64) {
                throw new IllegalArgumentException("maxEventBytes is " + maxEventBytes + "; set "
                        + ConnectorOptions.MAX_EVENT_SIZE.key() + " to at least 64 bytes (default 1 MiB)");
            }
            if (maxNestingDepth < 2 || maxNestingDepth > 1000) {
                throw new IllegalArgumentException("maxNestingDepth is " + maxNestingDepth + "; set "
                        + ScreeningOptions.MAX_NESTING_DEPTH.key() + " between 2 and 1000 (default 32)");
            }
            if (maxDeadLetterPayloadBytes < 0) {
                throw new IllegalArgumentException("maxDeadLetterPayloadBytes is negative; set "
                        + ConnectorOptions.DEAD_LETTER_MAX_PAYLOAD.key() + " to 0 (drop payloads) or more");
            }
            return new EventParser(this);
        }
    }
}
