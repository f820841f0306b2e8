package dev.flinkslm.connectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

class KafkaBuildersTest {

    private static Configuration conf() {
        Configuration c = new Configuration();
        c.set(ConnectorOptions.BOOTSTRAP_SERVERS, "broker-1:9092,broker-2:9092");
        c.set(ConnectorOptions.KAFKA_PROPERTIES, Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "PLAIN"));
        return c;
    }

    @Test
    void eventSourceFromConfiguration() {
        KafkaSource<RawEvent> source =
                KafkaEventSource.builder().configure(conf()).build();
        assertThat(source.getBoundedness()).isEqualTo(Boundedness.CONTINUOUS_UNBOUNDED);
        assertThat(KafkaEventSource.builder()
                        .configure(conf())
                        .bounded(true)
                        .build()
                        .getBoundedness())
                .isEqualTo(Boundedness.BOUNDED);
    }

    @Test
    void eventSourceExplainsMissingSettings() {
        assertThatThrownBy(() -> KafkaEventSource.builder().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no Kafka bootstrap servers: set kafka.bootstrap-servers");
        assertThatThrownBy(() -> KafkaEventSource.builder()
                        .configure(conf())
                        .topics(" , ")
                        .build())
                .hasMessageContaining("no events topic: set kafka.topic.events");
        assertThatThrownBy(() -> KafkaEventSource.builder()
                        .configure(conf())
                        .topics("bad topic!")
                        .build())
                .hasMessageContaining("'bad topic!' is not a valid Kafka topic name");
        assertThatThrownBy(() ->
                        KafkaEventSource.builder().configure(conf()).groupId("").build())
                .hasMessageContaining("no consumer group: set kafka.group-id");
    }

    @Test
    void bootstrapServersMayComeFromPassThroughProperties() {
        KafkaSource<RawEvent> s = KafkaEventSource.builder()
                .property("bootstrap.servers", "b:9092")
                .build();
        assertThat(s).isNotNull();
    }

    @Test
    void commandSourceBuildsStringsAndRaw() {
        assertThat(KafkaCommandSource.builder().configure(conf()).buildStrings())
                .isNotNull();
        assertThat(KafkaCommandSource.builder().configure(conf()).buildRaw()).isNotNull();
        assertThatThrownBy(() ->
                        KafkaCommandSource.builder().configure(conf()).topic("").buildStrings())
                .hasMessageContaining("kafka.topic.commands");
    }

    @Test
    void sinksBuildWithDefaultsAndValidateTransactions() {
        KafkaSink<DeadLetter> deadLetters =
                KafkaResultSink.deadLetters().configure(conf()).build();
        assertThat(deadLetters).isNotNull();
        assertThat(KafkaResultSink.builder(JsonSchemas.<String>pojo(), "keyed", ConnectorOptions.EVENTS_TOPIC, s -> s)
                        .configure(conf())
                        .deliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                        .build())
                .isNotNull();
        assertThat(KafkaResultSink.audit(JsonSchemas.<Map<String, String>>pojo())
                        .configure(conf())
                        .build())
                .isNotNull();

        assertThatThrownBy(() -> KafkaResultSink.deadLetters()
                        .configure(conf())
                        .transactionalIdPrefix(" ")
                        .build())
                .hasMessageContaining(
                        "EXACTLY_ONCE needs a transactional id prefix: set kafka.transactional-id-prefix");
        assertThatThrownBy(() -> KafkaResultSink.deadLetters()
                        .configure(conf())
                        .transactionTimeout(Duration.ZERO)
                        .build())
                .hasMessageContaining("kafka.transaction-timeout");
        assertThatThrownBy(() -> KafkaResultSink.builder(JsonSchemas.deadLetters(), "custom")
                        .configure(conf())
                        .build())
                .hasMessageContaining("no custom topic");
        // AT_LEAST_ONCE needs no transactional settings
        assertThat(KafkaResultSink.deadLetters()
                        .configure(conf())
                        .deliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                        .transactionalIdPrefix(null)
                        .build())
                .isNotNull();
    }

    @Test
    void sinkCollectsAllProblemsInOneMessage() {
        assertThatThrownBy(() -> KafkaResultSink.deadLetters()
                        .topic("")
                        .transactionalIdPrefix("")
                        .build())
                .hasMessageContaining("bootstrap servers")
                .hasMessageContaining("kafka.topic.dead-letter")
                .hasMessageContaining("transactional id prefix");
    }

    @Test
    void parsesAndRedactsClientProperties() {
        Map<String, String> props = KafkaClientProperties.parse(List.of(
                "security.protocol=SASL_SSL",
                "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p=1\";",
                "ssl.truststore.password=secret"));
        assertThat(props).containsEntry("security.protocol", "SASL_SSL");
        assertThat(props.get("sasl.jaas.config")).endsWith("password=\"p=1\";");
        assertThat(KafkaClientProperties.redacted(props))
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.jaas.config", "****")
                .containsEntry("ssl.truststore.password", "****");
        assertThatThrownBy(() -> KafkaClientProperties.parse(List.of("acks=all", "s3cret-without-key")))
                .hasMessageContaining("Kafka property #2 is not key=value")
                .hasMessageNotContaining("s3cret")
                .hasMessageContaining("write e.g. security.protocol=SASL_SSL");
        assertThatThrownBy(() -> KafkaClientProperties.parse(List.of("=x"))).hasMessageContaining("not key=value");
    }
}
