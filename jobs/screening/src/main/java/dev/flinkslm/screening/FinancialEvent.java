package dev.flinkslm.screening;

import dev.flinkslm.connectors.DeadLetter;
import dev.flinkslm.connectors.DeadLetterReason;
import dev.flinkslm.connectors.SourcePosition;
import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Objects;

/**
 * A validated financial event to screen: a payment, a trade or a message.
 *
 * <p>Produced by {@link EventParser} from JSON such as
 *
 * <pre>{@code
 * {"eventId":"e-1","accountId":"ACC-104","eventTime":"2026-03-01T09:30:00Z","kind":"PAYMENT",
 *  "amount":9500.00,"currency":"EUR","counterparty":"Nordlicht GmbH","country":"DE",
 *  "text":"Invoice 2231 March consulting"}
 * }</pre>
 *
 * <p>Invariants after parsing: {@code eventId}, {@code accountId} and {@code text} are non-empty;
 * no string holds an unpaired surrogate, and identifiers no control character; {@code kind} is
 * never null ({@link EventKind#UNKNOWN} when the input had none); {@code eventTime} is epoch
 * milliseconds; {@code currency} is an ISO 4217 currency code and {@code country} an ISO 3166
 * alpha-2 code, each upper-case ASCII or null; {@code amount} is null or finite. {@code accountId}
 * is the default key for keyed processing.
 *
 * <p>A Flink POJO (public no-arg constructor, public fields; {@code BigDecimal} and the enum have
 * built-in serializers), so Flink never falls back to Kryo for it.
 *
 * <p>Threading: a mutable value object, confined to one thread at a time.
 */
@PublicEvolving
public class FinancialEvent implements Serializable {

    private static final long serialVersionUID = 1L;

    public String eventId;
    public String accountId;
    /** Event time in epoch milliseconds; the ingestion time when the input had none. */
    public long eventTime;

    public EventKind kind;
    /** The kind name as sent, upper-case; differs from {@code kind.name()} only for OTHER; "UNKNOWN" when absent. */
    public String kindName;
    /** Optional, exact decimal. */
    public BigDecimal amount;
    /** Optional ISO 4217 code. */
    public String currency;
    /** Optional. */
    public String counterparty;
    /** Optional ISO 3166 alpha-2 code. */
    public String country;
    /** The narrative to screen. Customer data: never log it at INFO or above. */
    public String text;
    /**
     * Where the event was read (topic, partition and offset, or file and line); null when it was
     * built in code. Not part of the JSON layout, and not compared by {@link #equals}; carried so
     * that a later stage's dead letter points at the input record too.
     */
    public SourcePosition source;

    public FinancialEvent() {}

    /**
     * A dead letter for this event, which a stage after parsing (scoring, for instance) could not
     * process: the payload is the event in the input layout, so it can be replayed into the events
     * topic, and the position is where it was read.
     */
    public DeadLetter deadLetter(DeadLetterReason reason, String message, long now) {
        byte[] json = ScreeningSchemas.financialEvents().serialize(this);
        return new DeadLetter(json, json.length, reason, message, source, now);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof FinancialEvent)) {
            return false;
        }
        FinancialEvent that = (FinancialEvent) o;
        return eventTime == that.eventTime
                && Objects.equals(eventId, that.eventId)
                && Objects.equals(accountId, that.accountId)
                && kind == that.kind
                && Objects.equals(kindName, that.kindName)
                && (amount == null ? that.amount == null : that.amount != null && amount.compareTo(that.amount) == 0)
                && Objects.equals(currency, that.currency)
                && Objects.equals(counterparty, that.counterparty)
                && Objects.equals(country, that.country)
                && Objects.equals(text, that.text);
    }

    @Override
    public int hashCode() {
        return Objects.hash(eventId, accountId, eventTime, kind, currency, country);
    }

    @Override
    public String toString() {
        // Identifiers only: text, counterparty and amount are customer data.
        return "FinancialEvent{eventId=" + eventId + ", accountId=" + accountId + ", kind=" + kindName + "}";
    }
}
