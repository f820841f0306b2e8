package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;

/**
 * Machine-readable reason why a record was dead-lettered. Stable names: consumers of the
 * dead-letter topic may switch on them.
 *
 * <p>Threading: immutable.
 */
@PublicEvolving
public enum DeadLetterReason {
    /** No bytes, only whitespace, or a Kafka tombstone. */
    EMPTY_RECORD,
    /** Larger than the configured maximum event size; rejected before parsing. */
    OVERSIZE_RECORD,
    /**
     * Not JSON: a syntax error, bytes that are not strict UTF-8 (malformed, overlong or
     * surrogate-encoding sequences, code points above U+10FFFF), trailing content, or a
     * duplicate field.
     */
    INVALID_JSON,
    /** JSON that ends before the document is complete. */
    TRUNCATED_JSON,
    /** Valid JSON whose top level is not an object. */
    NOT_AN_OBJECT,
    /** Nested deeper than the configured limit. */
    TOO_DEEPLY_NESTED,
    /** Another parser limit was exceeded (number or name length). */
    LIMIT_EXCEEDED,
    /** A required field is absent or null. */
    MISSING_FIELD,
    /** A required string field is empty or blank. */
    EMPTY_FIELD,
    /** A field has the wrong JSON type (no coercion: {@code "amount":"12"} is rejected). */
    WRONG_TYPE,
    /** A string field is longer than allowed. */
    FIELD_TOO_LONG,
    /** NaN, Infinity or an out-of-range number. */
    NON_FINITE_NUMBER,
    /** eventTime is neither an ISO-8601 instant nor epoch milliseconds in range. */
    INVALID_TIME,
    /** kind is present but not a well-formed name (an absent kind is UNKNOWN, not an error). */
    INVALID_KIND,
    /**
     * currency is not three ASCII letters naming an ISO 4217 currency; the non-currency X codes
     * (XXX, XTS, precious metals, units of account, ...) are rejected too.
     */
    INVALID_CURRENCY,
    /** country is not two ASCII letters naming an ISO 3166 alpha-2 country. */
    INVALID_COUNTRY,
    /**
     * A string field holds a character that is never valid there: an unpaired surrogate (in
     * JSON an escape such as <code>&#92;ud800</code> without its low half) in any field, a
     * control character in an identifier, code or name, or a control character other than tab,
     * line feed and carriage return in the text.
     */
    INVALID_CHARACTER,
    /** A later stage (for example scoring) could not process a valid event. */
    PROCESSING_FAILED,
    /**
     * The model answered for this event with an output that is not a probability distribution (NaN,
     * infinite, out of range, wrong width): the event was not screened and must be reviewed or
     * replayed; it is never reported as clear.
     */
    MODEL_OUTPUT_INVALID,
    /** A bug: the parser hit an unexpected error. The record is kept so it can be replayed. */
    INTERNAL_ERROR
}
