package dev.flinkslm.connectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

class JsonSchemasTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void deadLetterLayoutHasBase64PayloadAndCoordinates() throws Exception {
        byte[] payload = "{\"broken\":".getBytes(StandardCharsets.UTF_8);
        DeadLetter d = new DeadLetter(
                payload,
                payload.length,
                DeadLetterReason.TRUNCATED_JSON,
                "JSON ends early",
                SourcePosition.kafka("events", 3, 99L),
                0L);
        JsonNode n = JSON.readTree(JsonSchemas.deadLetters().serialize(d));
        assertThat(n.get("reason").asText()).isEqualTo("TRUNCATED_JSON");
        assertThat(n.get("message").asText()).isEqualTo("JSON ends early");
        assertThat(n.get("source").get("system").asText()).isEqualTo("kafka");
        assertThat(n.get("source").get("name").asText()).isEqualTo("events");
        assertThat(n.get("source").get("partition").asInt()).isEqualTo(3);
        assertThat(n.get("source").get("offset").asLong()).isEqualTo(99L);
        assertThat(Base64.getDecoder().decode(n.get("payloadBase64").asText())).isEqualTo(payload);
        assertThat(n.get("payloadTruncated").asBoolean()).isFalse();

        DeadLetter f = new DeadLetter(
                new byte[] {1, 2},
                10,
                DeadLetterReason.OVERSIZE_RECORD,
                "big",
                SourcePosition.file("/in.jsonl", 12),
                0L);
        JsonNode m = JSON.readTree(JsonSchemas.deadLetters().serialize(f));
        assertThat(m.get("source").get("line").asLong()).isEqualTo(12L);
        assertThat(m.get("source").has("partition")).isFalse();
        assertThat(m.get("payloadTruncated").asBoolean()).isTrue();
        assertThat(m.get("payloadSize").asLong()).isEqualTo(10);
    }

    /** A bean with a double, as other records written with {@link JsonSchemas#pojo()} may have. */
    public static final class WithShare {
        public String id = "x";
        public double share = Double.NaN;
        public Float boxed = 0.5f;
    }

    @Test
    void pojoSchemaRefusesNonFiniteNumbers() throws Exception {
        WithShare bean = new WithShare();
        assertThatThrownBy(() -> JsonSchemas.<WithShare>pojo().serialize(bean))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("non-finite")
                .hasMessageContaining("/share");
        bean.share = 0.25;
        JsonNode n = JSON.readTree(JsonSchemas.<WithShare>pojo().serialize(bean));
        assertThat(n.get("share").isNumber()).isTrue();
        assertThat(n.get("share").asDouble()).isEqualTo(0.25);
        assertThat(n.get("boxed").isNumber()).isTrue();
        bean.boxed = Float.NaN;
        assertThatThrownBy(() -> JsonSchemas.<WithShare>pojo().serialize(bean)).hasMessageContaining("/boxed");
    }

    /** A stand-in for the audit records defined elsewhere: any bean with java.time fields. */
    public static final class AuditLike {
        public String modelId = "m";
        public Instant at = Instant.parse("2026-01-01T00:00:00Z");
    }

    @Test
    void pojoSchemaWritesBeansWithJavaTime() throws Exception {
        JsonNode n = JSON.readTree(JsonSchemas.<AuditLike>pojo().serialize(new AuditLike()));
        assertThat(n.get("modelId").asText()).isEqualTo("m");
        assertThat(n.get("at").asText()).isEqualTo("2026-01-01T00:00:00Z");
    }
}
