package dev.flinkslm.connectors;

import java.io.Serializable;

/**
 * A {@link ScoredEvent} whose label is not {@code clear} and whose score reached the label's
 * threshold in an {@link AlertPolicy}.
 *
 * <p>JSON form ({@link JsonSchemas#alerts()}): the scored event's fields plus {@code alertId}
 * ({@code eventId:label}, stable across replays so consumers can de-duplicate),
 * {@code threshold} and {@code raisedAt}.
 *
 * <pre>{@code
 * Alert a = policy.evaluate(scored); // null when no alert is due
 * }</pre>
 *
 * <p>A Flink POJO. Threading: a mutable value object, confined to one thread at a time.
 */
public class Alert implements Serializable {

    private static final long serialVersionUID = 1L;

    public ScoredEvent scored;
    /** The threshold the score reached. */
    public double threshold;
    /** Epoch milliseconds. */
    public long raisedAt;

    public Alert() {}

    public Alert(ScoredEvent scored, double threshold, long raisedAt) {
        this.scored = scored;
        this.threshold = threshold;
        this.raisedAt = raisedAt;
    }

    /** {@code eventId:label}. */
    public String alertId() {
        return scored.eventId + ":" + scored.label;
    }

    @Override
    public String toString() {
        return "Alert{" + alertId() + ", score=" + scored.score + " >= " + threshold + "}";
    }
}
