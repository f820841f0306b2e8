package dev.flinkslm.connectors;

import dev.flinkslm.connectors.internal.KafkaSettings;
import dev.flinkslm.connectors.internal.RawRecordDeserializer;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Builds the Kafka source of the model-command control topic. The command schema is defined by
 * the model-versions code; this source only delivers the records, either as UTF-8 strings
 * ({@link Builder#buildStrings()}) or as {@link RawEvent}s with their coordinates
 * ({@link Builder#buildRaw()}, for parsers that dead-letter bad commands).
 *
 * <pre>{@code
 * KafkaSource<String> commands = KafkaCommandSource.builder().configure(conf).buildStrings();
 * DataStream<String> cmd = env.fromSource(commands, WatermarkStrategy.noWatermarks(), "model-commands");
 * }</pre>
 *
 * <p>Defaults: topic {@code slm-model-commands}, group {@code <kafka.group-id>-commands},
 * starting offsets EARLIEST (a fresh job replays the command history to rebuild the current
 * model state), {@code isolation.level=read_committed}. Tombstones (null values) are skipped by
 * {@code buildStrings()}.
 *
 * <p>Threading: the builder is not thread-safe; the built source is immutable.
 */
@PublicEvolving
public final class KafkaCommandSource {

    private KafkaCommandSource() {}

    public static Builder builder() {
        return new Builder();
    }

    /** Builder; {@link #buildStrings()} and {@link #buildRaw()} validate and explain what to fix. */
    public static final class Builder {
        private final KafkaSettings kafka = new KafkaSettings();
        private String topic = ConnectorOptions.COMMANDS_TOPIC.defaultValue();
        private String groupId = ConnectorOptions.GROUP_ID.defaultValue() + "-commands";
        private StartingOffsets startingOffsets = StartingOffsets.EARLIEST;

        private Builder() {}

        /** Reads servers, commands topic, group id (suffixed "-commands") and client properties. */
        public Builder configure(ReadableConfig config) {
            kafka.configure(config);
            topic = config.get(ConnectorOptions.COMMANDS_TOPIC);
            groupId = config.get(ConnectorOptions.GROUP_ID) + "-commands";
            return this;
        }

        public Builder bootstrapServers(String servers) {
            kafka.bootstrapServers = servers;
            return this;
        }

        public Builder topic(String topic) {
            this.topic = topic;
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

        public Builder property(String key, String value) {
            kafka.properties.put(key, value);
            return this;
        }

        public Builder properties(Map<String, String> properties) {
            kafka.properties.putAll(properties);
            return this;
        }

        /**
         * The command topic's end offsets now, per partition, as a read_committed consumer sees them: a job that
         * starts fresh and reads the topic from its start replays every command below them.
         *
         * @throws IllegalStateException when the broker does not answer within {@code timeout}
         */
        public Map<Integer, Long> endOffsets(Duration timeout) {
            Properties props = new Properties();
            props.putAll(kafka.properties);
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers);
            props.put(AdminClientConfig.CLIENT_ID_CONFIG, groupId + "-end-offsets");
            try (Admin admin = Admin.create(props)) {
                TopicDescription description = admin.describeTopics(List.of(topic))
                        .allTopicNames()
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .get(topic);
                Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                description
                        .partitions()
                        .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
                Map<Integer, Long> end = new TreeMap<>();
                admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                        .all()
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .forEach((tp, info) -> end.put(tp.partition(), info.offset()));
                return end;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading the end offsets of " + topic, e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("cannot read the end offsets of the command topic " + topic, e);
            }
        }

        public KafkaSource<String> buildStrings() {
            return build(new StringValues());
        }

        public KafkaSource<RawEvent> buildRaw() {
            return build(new RawRecordDeserializer());
        }

        private <T> KafkaSource<T> build(KafkaRecordDeserializationSchema<T> deserializer) {
            List<String> problems = new ArrayList<>();
            kafka.validate(problems);
            KafkaSettings.validateTopic("commands", topic, ConnectorOptions.COMMANDS_TOPIC.key(), problems);
            if (groupId == null || groupId.isBlank()) {
                problems.add("no consumer group: set " + ConnectorOptions.GROUP_ID.key() + " or call groupId(...)");
            }
            if (startingOffsets == null) {
                problems.add("starting offsets are null: use EARLIEST, LATEST or COMMITTED");
            }
            if (!problems.isEmpty()) {
                throw KafkaSettings.invalid("Kafka command source", problems);
            }
            KafkaSourceBuilder<T> b = KafkaSource.<T>builder()
                    .setBootstrapServers(kafka.bootstrapServers)
                    .setTopics(topic)
                    .setGroupId(groupId)
                    .setStartingOffsets(startingOffsets.toInitializer())
                    .setDeserializer(deserializer)
                    .setProperty("isolation.level", "read_committed")
                    .setClientIdPrefix(groupId);
            kafka.properties.forEach(b::setProperty);
            return b.build();
        }
    }

    /** UTF-8 values; tombstones are skipped. Malformed UTF-8 becomes U+FFFD, never an error. */
    private static final class StringValues implements KafkaRecordDeserializationSchema<String> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<String> out) {
            if (record.value() != null) {
                out.collect(new String(record.value(), StandardCharsets.UTF_8));
            }
        }

        @Override
        public TypeInformation<String> getProducedType() {
            return TypeInformation.of(String.class);
        }
    }
}
