package dev.flinkslm.screening;

import dev.flinkslm.connectors.DeadLetter;
import org.apache.flink.annotation.PublicEvolving;

import java.util.Objects;

/**
 * The outcome of {@link EventParser#parse}: exactly one of {@link #event()} and
 * {@link #deadLetter()} is non-null.
 *
 * <p>Threading: immutable once returned (the contained objects are mutable POJOs owned by the
 * caller).
 */
@PublicEvolving
public final class ParseResult {

    private final FinancialEvent event;
    private final DeadLetter deadLetter;

    private ParseResult(FinancialEvent event, DeadLetter deadLetter) {
        this.event = event;
        this.deadLetter = deadLetter;
    }

    static ParseResult ok(FinancialEvent event) {
        return new ParseResult(Objects.requireNonNull(event), null);
    }

    static ParseResult rejected(DeadLetter deadLetter) {
        return new ParseResult(null, Objects.requireNonNull(deadLetter));
    }

    public boolean isOk() {
        return event != null;
    }

    /** The parsed event, or null when the record was rejected. */
    public FinancialEvent event() {
        return event;
    }

    /** The dead letter, or null when the record parsed. */
    public DeadLetter deadLetter() {
        return deadLetter;
    }

    @Override
    public String toString() {
        return isOk() ? "ParseResult{ok " + event + "}" : "ParseResult{" + deadLetter + "}";
    }
}
