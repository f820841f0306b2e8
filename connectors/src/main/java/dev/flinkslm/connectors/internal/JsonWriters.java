package dev.flinkslm.connectors.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.flinkslm.connectors.Alert;
import dev.flinkslm.connectors.DeadLetter;
import dev.flinkslm.connectors.FinancialEvent;
import dev.flinkslm.connectors.ScoredEvent;
import dev.flinkslm.connectors.SourcePosition;
import org.apache.flink.annotation.Internal;

import java.io.IOException;
import java.time.Instant;
import java.util.Base64;

/**
 * Explicit JSON layouts of the flink-slm records. Written by hand rather than by bean
 * introspection so that the wire format does not change when a POJO gains a helper method.
 *
 * <p>Threading: stateless; the shared mapper is thread-safe.
 */
@Internal
public final class JsonWriters {

    /** Thread-safe once configured; only used to create nodes and write them. */
    public static final ObjectMapper MAPPER = JsonMapper.builder().build();

    private JsonWriters() {}

    public static String iso(long epochMillis) {
        return Instant.ofEpochMilli(epochMillis).toString();
    }

    public static ObjectNode financialEvent(FinancialEvent e) {
        ObjectNode n = MAPPER.createObjectNode();
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

    public static ObjectNode scoredEvent(ScoredEvent s) {
        ObjectNode n = MAPPER.createObjectNode();
        writeScored(n, s);
        return n;
    }

    public static ObjectNode alert(Alert a) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("alertId", a.alertId());
        n.put("alertReason", a.reason == null ? Alert.SCORE : a.reason);
        writeScored(n, a.scored);
        n.put("threshold", finite(a.threshold, "threshold", a.scored));
        n.put("raisedAt", iso(a.raisedAt));
        return n;
    }

    public static ObjectNode deadLetter(DeadLetter d) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("reason", d.reason == null ? null : d.reason.name());
        n.put("message", d.message);
        ObjectNode src = n.putObject("source");
        SourcePosition p = d.source;
        if (p != null) {
            src.put("system", p.system);
            src.put("name", p.name);
            if (p.partition >= 0) {
                src.put("partition", p.partition);
            }
            src.put(SourcePosition.FILE.equals(p.system) ? "line" : "offset", p.offset);
        }
        n.put("deadLetteredAt", iso(d.deadLetteredAt));
        n.put("payloadSize", d.payloadSize);
        n.put("payloadTruncated", d.isPayloadTruncated());
        n.put("payloadBase64", d.payload == null ? null : Base64.getEncoder().encodeToString(d.payload));
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
     * A module for bean mappers: doubles and floats are written as numbers, and a NaN or infinite
     * one fails the write with the field's path instead of becoming the string "NaN".
     */
    public static SimpleModule finiteNumbers() {
        SimpleModule module = new SimpleModule("flink-slm-finite-numbers");
        JsonSerializer<Number> finite = new StdSerializer<>(Number.class) {
            private static final long serialVersionUID = 1L;

            @Override
            public void serialize(Number value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                double d = value.doubleValue();
                if (!Double.isFinite(d)) {
                    throw JsonMappingException.from(
                            gen,
                            "refusing to write the non-finite number " + value + " at "
                                    + gen.getOutputContext().pathAsPointer() + ": numbers must be finite");
                }
                if (value instanceof Float) {
                    gen.writeNumber(value.floatValue());
                } else {
                    gen.writeNumber(d);
                }
            }
        };
        module.addSerializer(Double.class, finite);
        module.addSerializer(Double.TYPE, finite);
        module.addSerializer(Float.class, finite);
        module.addSerializer(Float.TYPE, finite);
        return module;
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
}
