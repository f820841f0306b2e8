package dev.flinkslm.connectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.flinkslm.connectors.internal.JsonWriters;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.Encoder;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.util.function.SerializableFunction;

import java.io.IOException;
import java.io.OutputStream;

/**
 * JSON {@link SerializationSchema}s of the flink-slm records (UTF-8, one JSON object per record,
 * no trailing newline) and a JSON-lines {@link Encoder} for file sinks.
 *
 * <pre>{@code
 * KafkaSink<DeadLetter> sink = KafkaResultSink.builder(JsonSchemas.deadLetters(), "dead-letter")...;
 * FileSink<DeadLetter> files = FileSink.forRowFormat(dir, JsonSchemas.jsonLines(JsonSchemas.deadLetters())).build();
 * SerializationSchema<Trade> trades = JsonSchemas.tree(t -> mapper.createObjectNode().put("id", t.id));
 * SerializationSchema<AuditRecord> audit = JsonSchemas.pojo(); // any Jackson-serializable type
 * }</pre>
 *
 * <p>Threading: each schema instance is used by one Flink subtask; instances are serializable and
 * create their resources lazily.
 */
@PublicEvolving
public final class JsonSchemas {

    private JsonSchemas() {}

    /** Layout documented on {@link DeadLetter}; the payload is base64. */
    public static SerializationSchema<DeadLetter> deadLetters() {
        return new NodeSchema<>(JsonWriters::deadLetter);
    }

    /**
     * A schema that writes the JSON tree {@code writer} builds for each record: an explicit layout,
     * independent of the record class's fields and getters.
     */
    public static <T> SerializationSchema<T> tree(SerializableFunction<T, ? extends JsonNode> writer) {
        return new NodeSchema<>(writer);
    }

    /**
     * Jackson bean serialization of any type: public fields and getters, dates as ISO strings.
     * For record types defined elsewhere, such as model-version audit records. A NaN or infinite
     * double or float fails the write (Jackson would write the string "NaN").
     */
    public static <T> SerializationSchema<T> pojo() {
        return new PojoSchema<>();
    }

    /** Writes each record as one line: the schema's bytes followed by {@code '\n'}. */
    public static <T> Encoder<T> jsonLines(SerializationSchema<T> schema) {
        return new JsonLinesEncoder<>(schema);
    }

    /** One JSON string, handy for tests and tools. */
    public static <T> String toJson(SerializationSchema<T> schema, T value) {
        return new String(schema.serialize(value), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static final class NodeSchema<T> implements SerializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private final SerializableFunction<T, ? extends JsonNode> writer;

        NodeSchema(SerializableFunction<T, ? extends JsonNode> writer) {
            this.writer = writer;
        }

        @Override
        public byte[] serialize(T element) {
            try {
                return JsonWriters.MAPPER.writeValueAsBytes(writer.apply(element));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(
                        "Cannot write " + element.getClass().getSimpleName() + " as JSON", e);
            }
        }
    }

    private static final class PojoSchema<T> implements SerializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private transient ObjectMapper mapper;

        @Override
        public byte[] serialize(T element) {
            if (mapper == null) {
                mapper = JsonMapper.builder()
                        .findAndAddModules()
                        .addModule(JsonWriters.finiteNumbers())
                        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                        .build();
            }
            try {
                return mapper.writeValueAsBytes(element);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(
                        "Cannot write " + element.getClass().getName() + " as JSON ("
                                + e.getOriginalMessage() + "); give it public fields or getters with finite numbers,"
                                + " or pass a custom SerializationSchema",
                        e);
            }
        }
    }

    private static final class JsonLinesEncoder<T> implements Encoder<T> {
        private static final long serialVersionUID = 1L;
        private final SerializationSchema<T> schema;

        JsonLinesEncoder(SerializationSchema<T> schema) {
            this.schema = schema;
        }

        @Override
        public void encode(T element, OutputStream stream) throws IOException {
            stream.write(schema.serialize(element));
            stream.write('\n');
        }
    }
}
