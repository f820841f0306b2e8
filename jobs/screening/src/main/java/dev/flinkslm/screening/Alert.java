package dev.flinkslm.screening;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/**
 * A {@link ScoredEvent} that needs review: a label other than {@code clear} reached its threshold
 * in an {@link AlertPolicy} ({@link #SCORE}), or the text was too long to be screened whole
 * ({@link #TRUNCATED}).
 *
 * <p>JSON form ({@link ScreeningSchemas#alerts()}): the scored event's fields (with {@code label} and
 * {@code score} of the alerting label) plus {@code alertId} ({@code eventId:label}, or
 * {@code eventId:truncated}; stable across replays so consumers can de-duplicate),
 * {@code alertReason}, {@code threshold} and {@code raisedAt}.
 *
 * <pre>{@code
 * Alert a = policy.evaluate(scored); // null when no alert is due
 * }</pre>
 *
 * <p>A Flink POJO. Threading: a mutable value object, confined to one thread at a time.
 */
@PublicEvolving
public class Alert implements Serializable {

    private static final long serialVersionUID = 1L;

    /** A label reached its threshold. */
    public static final String SCORE = "SCORE";
    /** The text was longer than the windows scored: not screened whole, review it. */
    public static final String TRUNCATED = "TRUNCATED";

    public ScoredEvent scored;
    /** {@link #SCORE} or {@link #TRUNCATED}. */
    public String reason = SCORE;
    /** The threshold the score reached. */
    public double threshold;
    /** Epoch milliseconds. */
    public long raisedAt;

    public Alert() {}

    public Alert(ScoredEvent scored, double threshold, long raisedAt) {
        this(scored, SCORE, threshold, raisedAt);
    }

    public Alert(ScoredEvent scored, String reason, double threshold, long raisedAt) {
        this.scored = scored;
        this.reason = reason;
        this.threshold = threshold;
        this.raisedAt = raisedAt;
    }

    /** {@code eventId:label} for a score alert, {@code eventId:truncated} for an unscreened text. */
    public String alertId() {
        return scored.eventId + ":" + (TRUNCATED.equals(reason) ? "truncated" : scored.label);
    }

    @Override
    public String toString() {
        return "Alert{" + alertId() + " " + reason + ", score=" + scored.score + " >= " + threshold + "}";
    }
}
