package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.connector.base.DeliveryGuarantee;

import java.time.Duration;
import java.util.Map;

/**
 * Typed options of the flink-slm sources and sinks, with defaults and descriptions.
 *
 * <p>The builders ({@link KafkaEventSource}, {@link KafkaCommandSource}, {@link KafkaResultSink},
 * {@link EventFileSource}) accept a Flink {@code ReadableConfig} holding these
 * options, and setters that override them. Any Kafka client property, including SASL and SSL
 * settings, is passed through with {@link #KAFKA_PROPERTIES}, e.g. from repeated
 * {@code --kafka-property key=value} flags parsed by {@link KafkaClientProperties#parse}.
 *
 * <pre>{@code
 * Configuration conf = new Configuration();
 * conf.set(ConnectorOptions.BOOTSTRAP_SERVERS, "broker:9092");
 * conf.set(ConnectorOptions.KAFKA_PROPERTIES, Map.of("security.protocol", "SASL_SSL"));
 * KafkaSource<RawEvent> source = KafkaEventSource.builder().configure(conf).build();
 * }</pre>
 *
 * <p>Threading: constants only.
 */
@PublicEvolving
public final class ConnectorOptions {

    private ConnectorOptions() {}

    // ---- Kafka connection -------------------------------------------------------------------

    public static final ConfigOption<String> BOOTSTRAP_SERVERS = ConfigOptions.key("kafka.bootstrap-servers")
            .stringType()
            .noDefaultValue()
            .withDescription("Kafka bootstrap servers, comma separated host:port list. Required for Kafka mode.");

    public static final ConfigOption<Map<String, String>> KAFKA_PROPERTIES = ConfigOptions.key("kafka.properties")
            .mapType()
            .defaultValue(Map.of())
            .withDescription("Extra Kafka client properties passed to every consumer and producer, e.g. "
                    + "security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location. "
                    + "They override the defaults set by flink-slm.");

    // ---- Topics ---------------------------------------------------------------------------------

    public static final ConfigOption<String> EVENTS_TOPIC = ConfigOptions.key("kafka.topic.events")
            .stringType()
            .defaultValue("slm-events")
            .withDescription("Topic (or comma separated topics) of the input events.");

    public static final ConfigOption<String> COMMANDS_TOPIC = ConfigOptions.key("kafka.topic.commands")
            .stringType()
            .defaultValue("slm-model-commands")
            .withDescription("Control topic with model commands (deploy, canary, rollback).");

    public static final ConfigOption<String> DEAD_LETTER_TOPIC = ConfigOptions.key("kafka.topic.dead-letter")
            .stringType()
            .defaultValue("slm-dead-letter")
            .withDescription("Topic for records that could not be parsed or scored.");

    public static final ConfigOption<String> AUDIT_TOPIC = ConfigOptions.key("kafka.topic.audit")
            .stringType()
            .defaultValue("slm-audit")
            .withDescription("Topic for model-version audit records.");

    // ---- Consumer ---------------------------------------------------------------------------------

    public static final ConfigOption<String> GROUP_ID = ConfigOptions.key("kafka.group-id")
            .stringType()
            .defaultValue("flink-slm")
            .withDescription("Consumer group id. Offsets are committed to it on checkpoints (for monitoring and "
                    + "for starting-offsets=COMMITTED); Flink's own position lives in its checkpoints.");

    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS = ConfigOptions.key("kafka.starting-offsets")
            .enumType(StartingOffsets.class)
            .defaultValue(StartingOffsets.COMMITTED)
            .withDescription("Where to start without a checkpoint.");

    // ---- Producer ---------------------------------------------------------------------------------

    public static final ConfigOption<DeliveryGuarantee> DELIVERY_GUARANTEE = ConfigOptions.key(
                    "kafka.delivery-guarantee")
            .enumType(DeliveryGuarantee.class)
            .defaultValue(DeliveryGuarantee.EXACTLY_ONCE)
            .withDescription("EXACTLY_ONCE writes in Kafka transactions committed on checkpoints (needs checkpointing; "
                    + "consumers must read with isolation.level=read_committed). AT_LEAST_ONCE flushes on checkpoints "
                    + "and may duplicate after a failure.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = ConfigOptions.key(
                    "kafka.transactional-id-prefix")
            .stringType()
            .defaultValue("flink-slm")
            .withDescription(
                    "Prefix of the Kafka transactional ids of the EXACTLY_ONCE sinks; each sink appends its own "
                            + "suffix. Must be unique per job among all applications writing to the same cluster.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT = ConfigOptions.key("kafka.transaction-timeout")
            .durationType()
            .defaultValue(Duration.ofMinutes(15))
            .withDescription("Kafka transaction timeout of the EXACTLY_ONCE sinks. Must exceed the checkpoint interval "
                    + "plus the longest expected recovery time, and must not exceed the broker's "
                    + "transaction.max.timeout.ms (15 min by default).");

    // ---- Input records and dead letters ------------------------------------------------------------------

    public static final ConfigOption<MemorySize> MAX_EVENT_SIZE = ConfigOptions.key("events.max-size")
            .memoryType()
            .defaultValue(MemorySize.parse("1mb"))
            .withDescription("Larger input records are dead-lettered (OVERSIZE_RECORD) without being parsed.");

    public static final ConfigOption<MemorySize> DEAD_LETTER_MAX_PAYLOAD = ConfigOptions.key(
                    "dead-letter.max-payload-size")
            .memoryType()
            .defaultValue(MemorySize.parse("256kb"))
            .withDescription("Dead letters keep at most this many bytes of the original record (base64 grows it by a "
                    + "third), so that a dead letter always fits in a Kafka record of the default 1 MiB limit.");
}
