package dev.flinkslm.connectors.internal;

import dev.flinkslm.connectors.ConnectorOptions;
import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.ReadableConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Connection settings shared by the Kafka builders, with the validation every builder needs.
 *
 * <p>Threading: not thread-safe; owned by one builder.
 */
@Internal
public final class KafkaSettings {

    private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    public String bootstrapServers;
    public final Map<String, String> properties = new LinkedHashMap<>();

    public void configure(ReadableConfig config) {
        config.getOptional(ConnectorOptions.BOOTSTRAP_SERVERS).ifPresent(s -> bootstrapServers = s);
        properties.putAll(config.get(ConnectorOptions.KAFKA_PROPERTIES));
    }

    /** Adds the problems of these settings to {@code problems}. */
    public void validate(List<String> problems) {
        String servers = bootstrapServers;
        if (servers == null && properties.containsKey("bootstrap.servers")) {
            servers = properties.get("bootstrap.servers");
            bootstrapServers = servers;
        }
        if (servers == null || servers.isBlank()) {
            problems.add("no Kafka bootstrap servers: set " + ConnectorOptions.BOOTSTRAP_SERVERS.key()
                    + " (e.g. broker1:9092,broker2:9092) or call bootstrapServers(...)");
        }
        for (Map.Entry<String, String> e : properties.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank()) {
                problems.add("a Kafka property has an empty name");
            } else if (e.getValue() == null) {
                problems.add("Kafka property " + e.getKey() + " has no value");
            }
        }
    }

    public static List<String> splitTopics(String topics) {
        List<String> list = new ArrayList<>();
        if (topics != null) {
            for (String t : topics.split(",")) {
                if (!t.isBlank()) {
                    list.add(t.trim());
                }
            }
        }
        return list;
    }

    public static void validateTopic(String what, String topic, String option, List<String> problems) {
        if (topic == null || topic.isBlank()) {
            problems.add("no " + what + " topic: set " + option + " or call topic(...)");
        } else if (!TOPIC.matcher(topic).matches()) {
            problems.add(what + " topic '" + topic + "' is not a valid Kafka topic name"
                    + " (letters, digits, '.', '_', '-', at most 249 characters)");
        }
    }

    public static IllegalArgumentException invalid(String what, List<String> problems) {
        return new IllegalArgumentException("Invalid " + what + ": " + String.join("; ", problems));
    }
}
