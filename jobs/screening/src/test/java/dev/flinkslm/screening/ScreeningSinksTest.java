package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.connectors.ConnectorOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;

class ScreeningSinksTest {

    private static Configuration conf() {
        Configuration c = new Configuration();
        c.set(ConnectorOptions.BOOTSTRAP_SERVERS, "broker-1:9092");
        return c;
    }

    @Test
    void kafkaSinksReadTheirTopicOptions() {
        assertThat(ScreeningSinks.kafkaScored().configure(conf()).build()).isNotNull();
        assertThat(ScreeningSinks.kafkaAlerts()
                        .configure(conf())
                        .deliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                        .build())
                .isNotNull();
        Configuration noTopic = conf();
        noTopic.set(ScreeningOptions.ALERTS_TOPIC, " ");
        assertThatThrownBy(() -> ScreeningSinks.kafkaAlerts().configure(noTopic).build())
                .hasMessageContaining(ScreeningOptions.ALERTS_TOPIC.key());
        assertThatThrownBy(() -> ScreeningSinks.kafkaScored().topic("").build())
                .hasMessageContaining("bootstrap servers")
                .hasMessageContaining(ScreeningOptions.SCORED_TOPIC.key());
    }

    @Test
    void fileSinksWriteIntoTheirSubdirectories() {
        assertThat(ScreeningSinks.fileScored("/out").outputPath().toString()).isEqualTo("/out/scored");
        assertThat(ScreeningSinks.fileAlerts("/out").outputPath().toString()).isEqualTo("/out/alerts");
        assertThatThrownBy(() -> ScreeningSinks.fileScored(" ").build()).hasMessageContaining("No output directory");
    }
}
