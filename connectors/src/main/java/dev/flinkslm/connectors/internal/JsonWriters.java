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
import dev.flinkslm.connectors.DeadLetter;
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
}
