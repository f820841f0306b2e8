package dev.flinkslm.tests.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

class KafkaBrokerITCase {

    @RegisterExtension
    static final KafkaBroker KAFKA = KafkaBroker.perTestClass();

    @Test
    void producesAndReadsBackRecords() {
        KAFKA.createTopic("smoke", 3);
        List<byte[]> values = IntStream.range(0, 100)
                .mapToObj(i -> ("v" + i).getBytes(StandardCharsets.UTF_8))
                .collect(Collectors.toList());
        KAFKA.produce("smoke", values);

        List<ConsumerRecord<byte[], byte[]>> read = KAFKA.readCommitted("smoke", Duration.ofSeconds(20));

        assertThat(read)
                .extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .containsExactlyInAnyOrderElementsOf(values.stream()
                        .map(v -> new String(v, StandardCharsets.UTF_8))
                        .collect(Collectors.toList()));
        assertThat(KAFKA.pid()).isPositive();
        assertThat(KAFKA.logFile()).exists();
    }

    @Test
    void plainJavaBrokerStopsOnClose() throws Exception {
        long pid;
        try (KafkaBroker second = KafkaBroker.start()) {
            pid = second.pid();
            assertThat(ProcessHandle.of(pid)).isPresent();
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                .isFalse();
    }
}
