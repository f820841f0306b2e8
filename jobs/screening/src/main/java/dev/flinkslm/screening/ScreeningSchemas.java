package dev.flinkslm.screening;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flinkslm.connectors.JsonSchemas;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.SerializationSchema;

import java.time.Instant;

/**
 * JSON schemas of the screening records (UTF-8, one object per record, no trailing newline),
 * built on {@link JsonSchemas#tree}. The layouts are written out field by field, so the wire
 * format does not change when a class gains a helper method.
 *
 * <pre>{@code
 * byte[] json = ScreeningSchemas.financialEvents().serialize(event);   // the input layout, replayable
 * FileSink<Alert> files = FileSink.forRowFormat(dir, JsonSchemas.jsonLines(ScreeningSchemas.alerts())).build();
 * }</pre>
 *
 * <p>A score that is not a finite number fails the write (a bug upstream: the scoring operator
 * dead-letters such rows as {@code MODEL_OUTPUT_INVALID}); it is never written as "NaN".
 *
 * <p>Threading: each schema instance is used by one Flink subtask; instances are serializable.
 */
@PublicEvolving
public final class ScreeningSchemas {

    private ScreeningSchemas() {}

    /** Layout documented on {@link ScoredEvent}. */
    public static SerializationSchema<ScoredEvent> scoredEvents() {
        return JsonSchemas.tree(ScreeningSchemas::scoredEvent);
    }

    /** Layout documented on {@link Alert}. */
    public static SerializationSchema<Alert> alerts() {
        return JsonSchemas.tree(ScreeningSchemas::alert);
    }

    /** Layout documented on {@link ShadowComparison}. */
    public static SerializationSchema<ShadowComparison> shadowComparisons() {
        return JsonSchemas.tree(ScreeningSchemas::shadowComparison);
    }

    /** The input layout accepted by {@link EventParser} (eventTime as an ISO-8601 instant). */
    public static SerializationSchema<FinancialEvent> financialEvents() {
        return JsonSchemas.tree(ScreeningSchemas::financialEvent);
    }

    private static ObjectNode financialEvent(FinancialEvent e) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("eventId", e.eventId);
        n.put("accountId", e.accountId);
        n.put("eventTime", iso(e.eventTime));
        n.put("kind", e.kindName != null ? e.kindName : e.kind == null ? null : e.kind.name());
        if (e.amount != null) {
            n.put("amount", e.amount);
        }
        putIfNotNull(n, "currency", e.currency);
        putIfNotNull(n, "counterparty", e.counterparty);
        putIfNotNull(n, "country", e.country);
        n.put("text", e.text);
        return n;
    }

    private static ObjectNode scoredEvent(ScoredEvent s) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        writeScored(n, s);
        return n;
    }

    private static ObjectNode alert(Alert a) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("alertId", a.alertId());
        n.put("alertReason", a.reason == null ? Alert.SCORE : a.reason);
        writeScored(n, a.scored);
        n.put("threshold", finite(a.threshold, "threshold", a.scored));
        n.put("raisedAt", iso(a.raisedAt));
        return n;
    }

    private static ObjectNode shadowComparison(ShadowComparison c) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("eventId", c.eventId);
        n.put("accountId", c.accountId);
        n.put("servedModel", c.servedModel);
        n.put("servedLabel", c.servedLabel);
        n.put("servedScore", finite(c.servedScore, "servedScore", null));
        n.put("shadowModel", c.shadowModel);
        n.put("shadowLabel", c.shadowLabel);
        n.put("shadowScore", finite(c.shadowScore, "shadowScore", null));
        n.put("agree", c.agree);
        n.put("agreementRate", c.agreementRate);
        n.put("compared", c.compared);
        return n;
    }

    private static void writeScored(ObjectNode n, ScoredEvent s) {
        n.put("eventId", s.eventId);
        n.put("accountId", s.accountId);
        n.put("eventTime", iso(s.eventTime));
        n.put("kind", s.kind);
        n.put("label", s.label);
        n.put("score", finite(s.score, "score", s));
        ObjectNode scores = n.putObject("labelScores");
        if (s.labels != null && s.probabilities != null) {
            for (int i = 0; i < Math.min(s.labels.length, s.probabilities.length); i++) {
                scores.put(s.labels[i], finite(s.probabilities[i], "labelScores." + s.labels[i], s));
            }
        }
        n.put("modelId", s.modelId);
        n.put("modelVersion", s.modelVersion);
        n.put("variant", s.variant);
        n.put("ruleEpoch", s.ruleEpoch);
        n.put("queueWaitMs", s.queueWaitMs);
        n.put("inferenceMs", s.inferenceMs);
        n.put("scoredAt", iso(s.scoredAt));
        n.put("windows", s.windows);
        n.put("truncated", s.truncated);
    }

    /**
     * Scores are JSON numbers. Jackson would write NaN and Infinity as the strings "NaN" and
     * "Infinity", which consumers read as a missing score (or fail on); a non-finite value here is
     * a bug upstream, so the write fails and with it the job, loudly.
     */
    private static double finite(double value, String field, ScoredEvent s) {
        if (!Double.isFinite(value)) {
            throw new IllegalStateException("refusing to write " + field + "=" + value + " of event "
                    + (s == null ? null : s.eventId) + " (model "
                    + (s == null ? null : s.modelId + "@" + s.modelVersion)
                    + "): scores must be finite numbers; the scoring operator must dead-letter such rows"
                    + " (MODEL_OUTPUT_INVALID)");
        }
        return value;
    }

    private static void putIfNotNull(ObjectNode n, String field, String value) {
        if (value != null) {
            n.put(field, value);
        }
    }

    private static String iso(long epochMillis) {
        return Instant.ofEpochMilli(epochMillis).toString();
    }
}
