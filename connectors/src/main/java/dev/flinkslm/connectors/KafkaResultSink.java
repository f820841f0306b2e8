package dev.flinkslm.connectors;

import dev.flinkslm.connectors.internal.KafkaSettings;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchemaBuilder;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaSinkBuilder;
import org.apache.flink.util.function.SerializableFunction;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds Kafka sinks for dead letters, audit records and any other record type; EXACTLY_ONCE by
 * default.
 *
 * <pre>{@code
 * deadLetters.sinkTo(KafkaResultSink.deadLetters().configure(conf).build());
 * audit.sinkTo(KafkaResultSink.audit(JsonSchemas.<AuditRecord>pojo()).configure(conf).build());
 * // any other type:
 * KafkaSink<Foo> s = KafkaResultSink.builder(fooSchema, "foo").topic("foos").bootstrapServers("b:9092").build();
 * }</pre>
 *
 * <p>With EXACTLY_ONCE the records are written in Kafka transactions committed when a checkpoint
 * completes: enable checkpointing (without it, a bounded job commits only at its end and an
 * unbounded job never), and read the topics with {@code isolation.level=read_committed}. Each
 * sink's transactional id is {@code <kafka.transactional-id-prefix>-<sink name>}, so several sinks
 * of one job never collide; the prefix must be unique per job on the cluster. The transaction
 * timeout defaults to 15 minutes, the broker's default maximum.
 *
 * <p>Dead letters and audit records are unkeyed; a sink built with a key function writes each
 * record with its key (so one key's results stay ordered in one partition).
 *
 * <p>Threading: the builder is not thread-safe; the built sink is immutable.
 */
@PublicEvolving
public final class KafkaResultSink {

    private KafkaResultSink() {}

    /** A sink of any type with the given value schema; {@code name} suffixes the transactional id. */
    public static <T> Builder<T> builder(SerializationSchema<T> valueSchema, String name) {
        return new Builder<>(valueSchema, name, null, null);
    }

    /**
     * A sink of any type whose topic is read from {@code topicOption} by
     * {@link Builder#configure}, keyed by {@code key} (null: unkeyed).
     */
    public static <T> Builder<T> builder(
            SerializationSchema<T> valueSchema,
            String name,
            ConfigOption<String> topicOption,
            SerializableFunction<T, String> key) {
        return new Builder<>(valueSchema, name, topicOption, key);
    }

    /** Dead letters as JSON to {@code kafka.topic.dead-letter}. */
    public static Builder<DeadLetter> deadLetters() {
        return new Builder<>(JsonSchemas.deadLetters(), "dead-letter", ConnectorOptions.DEAD_LETTER_TOPIC, null);
    }

    /** Audit records to {@code kafka.topic.audit}, serialized by {@code schema}. */
    public static <T> Builder<T> audit(SerializationSchema<T> schema) {
        return new Builder<>(schema, "audit", ConnectorOptions.AUDIT_TOPIC, null);
    }

    /**
     * Builder; {@link #build()} validates and explains what to fix.
     *
     * @param <T> record type
     */
    public static final class Builder<T> {
        private final KafkaSettings kafka = new KafkaSettings();
        private final SerializationSchema<T> valueSchema;
        private final String name;
        private final ConfigOption<String> topicOption;
        private String topic;
        private SerializableFunction<T, String> key;
        private DeliveryGuarantee guarantee = ConnectorOptions.DELIVERY_GUARANTEE.defaultValue();
        private String transactionalIdPrefix = ConnectorOptions.TRANSACTIONAL_ID_PREFIX.defaultValue();
        private Duration transactionTimeout = ConnectorOptions.TRANSACTION_TIMEOUT.defaultValue();

        private Builder(
                SerializationSchema<T> valueSchema,
                String name,
                ConfigOption<String> topicOption,
                SerializableFunction<T, String> key) {
            this.valueSchema = valueSchema;
            this.name = name;
            this.topicOption = topicOption;
            this.topic = topicOption == null ? null : topicOption.defaultValue();
            this.key = key;
        }

        /** Reads servers, this sink's topic, delivery guarantee, transactions and client properties. */
        public Builder<T> configure(ReadableConfig config) {
            kafka.configure(config);
            if (topicOption != null) {
                topic = config.get(topicOption);
            }
            guarantee = config.get(ConnectorOptions.DELIVERY_GUARANTEE);
            transactionalIdPrefix = config.get(ConnectorOptions.TRANSACTIONAL_ID_PREFIX);
            transactionTimeout = config.get(ConnectorOptions.TRANSACTION_TIMEOUT);
            return this;
        }

        public Builder<T> bootstrapServers(String servers) {
            kafka.bootstrapServers = servers;
            return this;
        }

        public Builder<T> topic(String topic) {
            this.topic = topic;
            return this;
        }

        /** Record key (UTF-8); null for unkeyed records. */
        public Builder<T> key(SerializableFunction<T, String> key) {
            this.key = key;
            return this;
        }

        public Builder<T> deliveryGuarantee(DeliveryGuarantee guarantee) {
            this.guarantee = guarantee;
            return this;
        }

        public Builder<T> transactionalIdPrefix(String prefix) {
            this.transactionalIdPrefix = prefix;
            return this;
        }

        public Builder<T> transactionTimeout(Duration timeout) {
            this.transactionTimeout = timeout;
            return this;
        }

        /** Any Kafka producer property (SASL, SSL, compression...); overrides the defaults. */
        public Builder<T> property(String key, String value) {
            kafka.properties.put(key, value);
            return this;
        }

        public Builder<T> properties(Map<String, String> properties) {
            kafka.properties.putAll(properties);
            return this;
        }

        public KafkaSink<T> build() {
            List<String> problems = new ArrayList<>();
            if (valueSchema == null) {
                problems.add("no serialization schema: pass one to KafkaResultSink.builder(schema, name)");
            }
            if (name == null || name.isBlank()) {
                problems.add("no sink name: pass one to KafkaResultSink.builder(schema, name); it keeps the "
                        + "transactional ids of the job's sinks apart");
            }
            kafka.validate(problems);
            KafkaSettings.validateTopic(name, topic, topicOption == null ? "the topic" : topicOption.key(), problems);
            if (guarantee == null) {
                problems.add("delivery guarantee is null: use EXACTLY_ONCE or AT_LEAST_ONCE");
            }
            if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
                if (transactionalIdPrefix == null || transactionalIdPrefix.isBlank()) {
                    problems.add("EXACTLY_ONCE needs a transactional id prefix: set "
                            + ConnectorOptions.TRANSACTIONAL_ID_PREFIX.key() + " to a name unique to this job");
                }
                if (transactionTimeout == null || transactionTimeout.isNegative() || transactionTimeout.isZero()) {
                    problems.add(
                            "transaction timeout must be positive: set " + ConnectorOptions.TRANSACTION_TIMEOUT.key()
                                    + " (e.g. 15 min), larger than the checkpoint interval");
                }
            }
            if (!problems.isEmpty()) {
                throw KafkaSettings.invalid("Kafka " + name + " sink", problems);
            }

            KafkaRecordSerializationSchemaBuilder<T> records = KafkaRecordSerializationSchema.<T>builder()
                    .setTopic(topic)
                    .setValueSerializationSchema(valueSchema);
            if (key != null) {
                records = records.setKeySerializationSchema(new KeySchema<>(key));
            }
            KafkaSinkBuilder<T> b = KafkaSink.<T>builder()
                    .setBootstrapServers(kafka.bootstrapServers)
                    .setRecordSerializer(records.build())
                    .setDeliveryGuarantee(guarantee);
            if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
                b.setTransactionalIdPrefix(transactionalIdPrefix + "-" + name);
                b.setProperty("transaction.timeout.ms", String.valueOf(transactionTimeout.toMillis()));
            }
            kafka.properties.forEach(b::setProperty);
            return b.build();
        }
    }

    private static final class KeySchema<T> implements SerializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private final SerializableFunction<T, String> key;

        KeySchema(SerializableFunction<T, String> key) {
            this.key = key;
        }

        @Override
        public byte[] serialize(T element) {
            String k = key.apply(element);
            return k == null ? null : k.getBytes(StandardCharsets.UTF_8);
        }
    }
}
