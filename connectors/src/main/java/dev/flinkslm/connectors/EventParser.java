package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.Serializable;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Currency;
import java.util.Locale;
import java.util.Set;

/**
 * Strict parser from JSON bytes to {@link FinancialEvent}; it never throws: every input yields a
 * {@link ParseResult} holding either an event or a {@link DeadLetter} with a reason code.
 *
 * <p>Rules: unknown fields are ignored; wrong JSON types are rejected, never coerced
 * ({@code "amount":"12"} is {@link DeadLetterReason#WRONG_TYPE}); records larger than
 * {@code maxEventBytes} are rejected before any parsing; nesting deeper than
 * {@code maxNestingDepth} is rejected by the tokenizer; NaN and Infinity are rejected; duplicate
 * field names are rejected. {@code currency} and {@code country} are accepted in any case and
 * stored upper-case. A null value counts as absent.
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
    private static final int MAX_QUOTED_VALUE = 16;
    private static final int MAX_MESSAGE = 300;

    private static final Set<String> COUNTRIES = Set.of(Locale.getISOCountries());

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
            return reject(raw, DeadLetterReason.INTERNAL_ERROR,
                    "unexpected " + e.getClass().getSimpleName() + " while parsing; please report it");
        }
    }

    /** Builds a dead letter for {@code raw} with this parser's payload cap. Never throws. */
    public DeadLetter deadLetter(RawEvent raw, DeadLetterReason reason, String message) {
        byte[] value = raw.value;
        byte[] kept = value == null ? null
                : value.length <= maxDeadLetterPayloadBytes ? value
                : Arrays.copyOf(value, maxDeadLetterPayloadBytes);
        return new DeadLetter(kept, Math.max(raw.size, value == null ? 0 : value.length),
                reason, message, raw.position, System.currentTimeMillis());
    }

    private ParseResult doParse(RawEvent raw) {
        byte[] value = raw.value;
        long size = Math.max(raw.size, value == null ? 0 : value.length);
        if (size > maxEventBytes) {
            return reject(raw, DeadLetterReason.OVERSIZE_RECORD,
                    "record has " + size + " bytes, the limit is " + maxEventBytes
                            + " (raise " + ConnectorOptions.MAX_EVENT_SIZE.key() + " if such events are legitimate)");
        }
        if (value == null || isBlank(value)) {
            return reject(raw, DeadLetterReason.EMPTY_RECORD, "record is empty");
        }
        JsonNode root;
        try {
            root = mapper().readTree(value);
        } catch (StreamConstraintsException e) {
            String detail = e.getOriginalMessage();
            if (detail != null && detail.contains("nesting depth")) {
                return reject(raw, DeadLetterReason.TOO_DEEPLY_NESTED,
                        "JSON is nested deeper than " + maxNestingDepth + " levels");
            }
            return reject(raw, DeadLetterReason.LIMIT_EXCEEDED, cut(detail));
        } catch (JsonEOFException e) {
            return reject(raw, DeadLetterReason.TRUNCATED_JSON,
                    "JSON ends early" + location(e) + " (record truncated?)");
        } catch (MismatchedInputException e) {
            // readTree on a complete value followed by more tokens (FAIL_ON_TRAILING_TOKENS).
            return reject(raw, DeadLetterReason.INVALID_JSON, "not a single JSON value: " + cut(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            return reject(raw, DeadLetterReason.INVALID_JSON, "invalid JSON" + location(e) + ": " + cut(e.getOriginalMessage()));
        } catch (IOException e) {
            return reject(raw, DeadLetterReason.INVALID_JSON, "unreadable JSON: " + cut(e.getMessage()));
        }
        if (root == null || root.isMissingNode()) {
            return reject(raw, DeadLetterReason.EMPTY_RECORD, "record is empty");
        }
        if (!root.isObject()) {
            return reject(raw, DeadLetterReason.NOT_AN_OBJECT,
                    "expected a JSON object, got " + typeName(root));
        }
        return fromObject(raw, root);
    }

    private ParseResult fromObject(RawEvent raw, JsonNode obj) {
        FinancialEvent event = new FinancialEvent();
        Field f = new Field(raw);

        event.eventId = f.requiredString(obj, "eventId", MAX_ID_LENGTH);
        if (f.failed()) return f.result;
        event.accountId = f.requiredString(obj, "accountId", MAX_ID_LENGTH);
        if (f.failed()) return f.result;
        String kindName = f.requiredString(obj, "kind", MAX_ID_LENGTH);
        if (f.failed()) return f.result;
        EventKind kind = EventKind.fromName(kindName);
        if (kind == null) {
            return reject(raw, DeadLetterReason.INVALID_KIND,
                    "kind " + quote(kindName) + " is not a kind name such as PAYMENT, TRADE or MESSAGE"
                            + " (a letter, then letters, digits or '_', at most 32 characters)");
        }
        event.kind = kind;
        event.kindName = kindName.toUpperCase(Locale.ROOT);
        event.text = f.requiredString(obj, "text", Integer.MAX_VALUE);
        if (f.failed()) return f.result;

        JsonNode time = obj.get("eventTime");
        if (time == null || time.isNull()) {
            event.eventTime = raw.receivedAt;
        } else if (time.isTextual()) {
            try {
                event.eventTime = Instant.parse(time.textValue()).toEpochMilli();
            } catch (DateTimeParseException | ArithmeticException e) {
                return reject(raw, DeadLetterReason.INVALID_TIME,
                        "eventTime " + quote(time.textValue())
                                + " is not an ISO-8601 instant such as 2026-03-01T09:30:00Z");
            }
            if (event.eventTime < 0 || event.eventTime > MAX_EPOCH_MILLIS) {
                return reject(raw, DeadLetterReason.INVALID_TIME, "eventTime must be between 1970 and 9999");
            }
        } else if (time.isIntegralNumber()) {
            if (!time.canConvertToLong() || time.longValue() < 0 || time.longValue() > MAX_EPOCH_MILLIS) {
                return reject(raw, DeadLetterReason.INVALID_TIME,
                        "eventTime " + cut(time.asText()) + " is not epoch milliseconds between 1970 and 9999");
            }
            event.eventTime = time.longValue();
        } else if (time.isNumber() && !Double.isFinite(time.doubleValue())) {
            return reject(raw, DeadLetterReason.NON_FINITE_NUMBER, "eventTime must be finite");
        } else {
            return reject(raw, DeadLetterReason.WRONG_TYPE,
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
            event.amount = decimal;
        }

        String currency = f.optionalString(obj, "currency", MAX_QUOTED_VALUE);
        if (f.failed()) return f.result;
        if (currency != null) {
            String code = currency.toUpperCase(Locale.ROOT);
            if (!isCurrency(code)) {
                return reject(raw, DeadLetterReason.INVALID_CURRENCY,
                        "currency " + quote(currency) + " is not an ISO 4217 code such as EUR or USD");
            }
            event.currency = code;
        }

        String country = f.optionalString(obj, "country", MAX_QUOTED_VALUE);
        if (f.failed()) return f.result;
        if (country != null) {
            String code = country.toUpperCase(Locale.ROOT);
            if (!COUNTRIES.contains(code)) {
                return reject(raw, DeadLetterReason.INVALID_COUNTRY,
                        "country " + quote(country) + " is not an ISO 3166 alpha-2 code such as DE or US");
            }
            event.country = code;
        }

        event.counterparty = f.optionalString(obj, "counterparty", MAX_COUNTERPARTY_LENGTH);
        if (f.failed()) return f.result;
        return ParseResult.ok(event);
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

        String requiredString(JsonNode obj, String name, int maxLength) {
            JsonNode node = obj.get(name);
            if (node == null || node.isNull()) {
                result = reject(raw, DeadLetterReason.MISSING_FIELD, name + " is required");
                return null;
            }
            return checkString(node, name, maxLength, true);
        }

        String optionalString(JsonNode obj, String name, int maxLength) {
            JsonNode node = obj.get(name);
            if (node == null || node.isNull()) {
                return null;
            }
            return checkString(node, name, maxLength, false);
        }

        private String checkString(JsonNode node, String name, int maxLength, boolean required) {
            if (!node.isTextual()) {
                result = reject(raw, DeadLetterReason.WRONG_TYPE, name + " must be a string, got " + typeName(node));
                return null;
            }
            String s = node.textValue();
            if (s.isBlank()) {
                if (required) {
                    result = reject(raw, DeadLetterReason.EMPTY_FIELD, name + " must not be empty");
                }
                return null;
            }
            if (s.length() > maxLength) {
                result = reject(raw, DeadLetterReason.FIELD_TOO_LONG,
                        name + " has " + s.length() + " characters, at most " + maxLength + " are allowed");
                return null;
            }
            return s;
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

    private static boolean isCurrency(String code) {
        if (code.length() != 3) {
            return false;
        }
        try {
            Currency.getInstance(code);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
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
            case STRING: return "string";
            case NUMBER: return "number";
            case BOOLEAN: return "boolean";
            case ARRAY: return "array";
            case OBJECT: return "object";
            case NULL: return "null";
            default: return node.getNodeType().name().toLowerCase(Locale.ROOT);
        }
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null ? ""
                : " at line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr();
    }

    /** Quotes a short field value; long values are cut so messages stay small. */
    private static String quote(String s) {
        return "'" + (s.length() > MAX_QUOTED_VALUE ? s.substring(0, MAX_QUOTED_VALUE) + "..." : s) + "'";
    }

    private static String cut(String s) {
        if (s == null) {
            return "";
        }
        return s.length() > MAX_MESSAGE ? s.substring(0, MAX_MESSAGE) + "..." : s;
    }

    /**
     * Builder of {@link EventParser}; defaults are those of {@link ConnectorOptions}.
     *
     * <p>Threading: not thread-safe; build on one thread.
     */
    public static final class Builder {
        private long maxEventBytes = ConnectorOptions.MAX_EVENT_SIZE.defaultValue().getBytes();
        private int maxNestingDepth = ConnectorOptions.MAX_NESTING_DEPTH.defaultValue();
        private int maxDeadLetterPayloadBytes =
                (int) ConnectorOptions.DEAD_LETTER_MAX_PAYLOAD.defaultValue().getBytes();

        private Builder() {}

        /** Reads the parser options from a Flink configuration. */
        public Builder configure(org.apache.flink.configuration.ReadableConfig config) {
            maxEventBytes = config.get(ConnectorOptions.MAX_EVENT_SIZE).getBytes();
            maxNestingDepth = config.get(ConnectorOptions.MAX_NESTING_DEPTH);
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
                throw new IllegalArgumentException("maxEventBytes is " + maxEventBytes
                        + "; set " + ConnectorOptions.MAX_EVENT_SIZE.key() + " to at least 64 bytes (default 1 MiB)");
            }
            if (maxNestingDepth < 2 || maxNestingDepth > 1000) {
                throw new IllegalArgumentException("maxNestingDepth is " + maxNestingDepth
                        + "; set " + ConnectorOptions.MAX_NESTING_DEPTH.key() + " between 2 and 1000 (default 32)");
            }
            if (maxDeadLetterPayloadBytes < 0) {
                throw new IllegalArgumentException("maxDeadLetterPayloadBytes is negative; set "
                        + ConnectorOptions.DEAD_LETTER_MAX_PAYLOAD.key() + " to 0 (drop payloads) or more");
            }
            return new EventParser(this);
        }
    }
}
