package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;
import java.util.LinkedHashMap;
import java.util.Locale;
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
     * @throws IllegalArgumentException naming the malformed entry and showing the expected form
     */
    public static Map<String, String> parse(Iterable<String> entries) {
        Map<String, String> map = new LinkedHashMap<>();
        if (entries == null) {
            return map;
        }
        for (String entry : entries) {
            int eq = entry == null ? -1 : entry.indexOf('=');
            if (eq <= 0 || entry.substring(0, eq).isBlank()) {
                throw new IllegalArgumentException("Kafka property '" + redactEntry(entry)
                        + "' is not key=value; write e.g. --kafka-property security.protocol=SASL_SSL");
            }
            map.put(entry.substring(0, eq).trim(), entry.substring(eq + 1));
        }
        return map;
    }

    /** A copy with secret-looking values (passwords, JAAS configs, keys, tokens) replaced by "****". */
    public static Map<String, String> redacted(Map<String, String> properties) {
        Map<String, String> copy = new LinkedHashMap<>();
        properties.forEach((k, v) -> copy.put(k, isSecret(k) ? "****" : v));
        return copy;
    }

    static boolean isSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password") || k.contains("jaas") || k.contains("secret")
                || k.contains("token") || k.endsWith(".key") || k.contains("credential");
    }

    private static String redactEntry(String entry) {
        if (entry == null) {
            return "null";
        }
        int eq = entry.indexOf('=');
        return eq > 0 && isSecret(entry.substring(0, eq)) ? entry.substring(0, eq) + "=****" : entry;
    }
}
