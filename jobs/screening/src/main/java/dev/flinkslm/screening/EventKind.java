package dev.flinkslm.screening;

import dev.flinkslm.connectors.DeadLetterReason;
import org.apache.flink.annotation.PublicEvolving;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The kind of a {@link FinancialEvent}.
 *
 * <p>{@code kind} is optional in the input: an event without one (absent or null) is
 * {@link #UNKNOWN} and is screened like any other. Input is matched case-insensitively and stored upper-case. Any other well-formed name
 * (letters, digits and underscores, starting with a letter, at most 32 characters, for example
 * {@code "card_authorisation"}) is accepted into the {@link #OTHER} bucket, so that a producer
 * adding a new kind does not dead-letter its records; malformed names are rejected with
 * {@link DeadLetterReason#INVALID_KIND}.
 *
 * <p>Threading: immutable.
 */
@PublicEvolving
public enum EventKind {
    /** A payment or transfer with a remittance narrative. */
    PAYMENT,
    /** A trade or order, usually with trader commentary. */
    TRADE,
    /** A free-text message: customer chat, trader chat, e-mail. */
    MESSAGE,
    /** Any other well-formed kind. */
    OTHER,
    /**
     * The input named no kind. Declared last so that the ordinals of the older constants (and
     * Flink state holding them) stay as they were.
     */
    UNKNOWN;

    private static final Pattern WELL_FORMED = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,31}");

    /**
     * Maps a kind name to its enum constant.
     *
     * @return the kind, {@link #OTHER} for an unknown well-formed name, or null when the name is
     *     malformed
     */
    public static EventKind fromName(String name) {
        if (name == null || !WELL_FORMED.matcher(name).matches()) {
            return null;
        }
        String upper = name.toUpperCase(Locale.ROOT);
        for (EventKind kind : values()) {
            if (kind.name().equals(upper)) {
                return kind;
            }
        }
        return OTHER;
    }
}
