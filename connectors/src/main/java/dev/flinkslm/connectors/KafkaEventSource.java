package dev.flinkslm.connectors;

import dev.flinkslm.connectors.internal.KafkaSettings;
import dev.flinkslm.connectors.internal.RawRecordDeserializer;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds the Kafka source of input events. It emits {@link RawEvent}s (bytes plus
 * topic/partition/offset) and never fails on a record's content; a parser downstream turns them
 * into typed events or dead letters.
 *
 * <pre>{@code
 * KafkaSource<RawEvent> source = KafkaEventSource.builder()
 *         .configure(conf)                       // ConnectorOptions: servers, topic, group, offsets, properties
 *         .property("security.protocol", "SSL")  // any Kafka consumer property
 *         .build();
 * DataStream<RawEvent> raw = env.fromSource(source, WatermarkStrategy.noWatermarks(), "events");
 * }</pre>
 *
 * <p>Defaults: topic {@code slm-events}, group {@code flink-slm}, starting offsets COMMITTED
 * (earliest when the group has none), {@code isolation.level=read_committed} so that the source
 * only sees committed records of transactional producers (override with a property). Offsets are
 * committed to the group on checkpoints; the source's real position lives in Flink checkpoints.
 *
 * <p>Threading: the builder is not thread-safe; the built source is immutable.
 */
@PublicEvolving
public final class KafkaEventSource {

    private KafkaEventSource() {}

    public static Builder builder() {
        return new Builder();
    }

    /** Builder; {@link #build()} validates and explains what to fix. */
    public static final class Builder {
        private final KafkaSettings kafka = new KafkaSettings();
        private String topics = ConnectorOptions.EVENTS_TOPIC.defaultValue();
        private String groupId = ConnectorOptions.GROUP_ID.defaultValue();
        private StartingOffsets startingOffsets = ConnectorOptions.STARTING_OFFSETS.defaultValue();
        private boolean bounded;

        private Builder() {}

        /** Reads servers, events topic, group id, starting offsets and client properties. */
        public Builder configure(ReadableConfig config) {
            kafka.configure(config);
            topics = config.get(ConnectorOptions.EVENTS_TOPIC);
            groupId = config.get(ConnectorOptions.GROUP_ID);
            startingOffsets = config.get(ConnectorOptions.STARTING_OFFSETS);
            return this;
        }

        public Builder bootstrapServers(String servers) {
            kafka.bootstrapServers = servers;
            return this;
        }

        /** One topic or a comma separated list. */
        public Builder topics(String topics) {
            this.topics = topics;
            return this;
        }

        public Builder groupId(String groupId) {
            this.groupId = groupId;
            return this;
        }

        public Builder startingOffsets(StartingOffsets startingOffsets) {
            this.startingOffsets = startingOffsets;
            return this;
        }

        /** Any Kafka consumer property (SASL, SSL, timeouts...); overrides the defaults. */
        public Builder property(String key, String value) {
            kafka.properties.put(key, value);
            return this;
        }

        public Builder properties(Map<String, String> properties) {
            kafka.properties.putAll(properties);
            return this;
        }

        /**
         * Stops at the partitions' end offsets as of job start (a bounded source, for backfills and
         * tests); unbounded by default.
         */
        public Builder bounded(boolean bounded) {
            this.bounded = bounded;
            return this;
        }

        public KafkaSource<RawEvent> build() {
            List<String> problems = new ArrayList<>();
            kafka.validate(problems);
            List<String> topicList = KafkaSettings.splitTopics(topics);
            if (topicList.isEmpty()) {
                KafkaSettings.validateTopic("events", null, ConnectorOptions.EVENTS_TOPIC.key(), problems);
            }
            for (String t : topicList) {
                KafkaSettings.validateTopic("events", t, ConnectorOptions.EVENTS_TOPIC.key(), problems);
            }
            if (groupId == null || groupId.isBlank()) {
                problems.add("no consumer group: set " + ConnectorOptions.GROUP_ID.key() + " or call groupId(...)");
            }
            if (startingOffsets == null) {
                problems.add("starting offsets are null: use EARLIEST, LATEST or COMMITTED");
            }
            if (!problems.isEmpty()) {
                throw KafkaSettings.invalid("Kafka event source", problems);
            }
            KafkaSourceBuilder<RawEvent> b = KafkaSource.<RawEvent>builder()
                    .setBootstrapServers(kafka.bootstrapServers)
                    .setTopics(topicList)
                    .setGroupId(groupId)
                    .setStartingOffsets(startingOffsets.toInitializer())
                    .setDeserializer(new RawRecordDeserializer())
                    .setProperty("isolation.level", "read_committed")
                    .setClientIdPrefix(groupId + "-events");
            kafka.properties.forEach(b::setProperty);
            if (bounded) {
                b.setBounded(OffsetsInitializer.latest());
            }
            return b.build();
        }
    }
}
