package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Helpers for pass-through Kafka client properties ({@link ConnectorOptions#KAFKA_PROPERTIES}).
 *
 * <pre>{@code
 * // --kafka-property security.protocol=SASL_SSL --kafka-property sasl.mechanism=SCRAM-SHA-512
 * Map<String, String> props = KafkaClientProperties.parse(List.of("security.protocol=SASL_SSL",
 *         "sasl.mechanism=SCRAM-SHA-512"));
 * LOG.info("Kafka properties {}", KafkaClientProperties.redacted(props));
 * }</pre>
 *
 * <p>Threading: stateless.
 */
@PublicEvolving
public final class KafkaClientProperties {

    private KafkaClientProperties() {}

    /**
     * Parses {@code key=value} strings (the value may contain '='); later keys win.
     *
     * @throws IllegalArgumentException saying which entry (by position, never its text) is malformed and showing
     *     the expected form
     */
    public static Map<String, String> parse(Iterable<String> entries) {
        Map<String, String> map = new LinkedHashMap<>();
        if (entries == null) {
            return map;
        }
        int index = 0;
        for (String entry : entries) {
            index++;
            int eq = entry == null ? -1 : entry.indexOf('=');
            if (eq <= 0 || entry.substring(0, eq).isBlank()) {
                // Never echo the entry: without a key there is no telling whether it is a secret.
                throw new IllegalArgumentException(
                        "Kafka property #" + index + " is not key=value; write e.g. security.protocol=SASL_SSL");
            }
            map.put(entry.substring(0, eq).trim(), entry.substring(eq + 1));
        }
        return map;
    }

    /**
     * A copy with secret-looking values (passwords, JAAS configs, keys, tokens) replaced by
     * {@value Redaction#MASK}; the rule is {@link Redaction#looksSecret}.
     */
    public static Map<String, String> redacted(Map<String, String> properties) {
        return Redaction.properties(properties);
    }
}
