package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

class SyntheticEventSourceITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @Test
    void parallelSourceEmitsEachEventOnceAsThePlainGeneratorDoes() throws Exception {
        SyntheticEventGenerator gen = SyntheticEventGenerator.builder().seed(5).build();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        List<FinancialEvent> out = new ArrayList<>();
        long t0 = System.nanoTime();
        try (CloseableIterator<FinancialEvent> it = env.fromSource(
                        SyntheticEventSource.builder()
                                .generator(gen)
                                .maxEvents(600)
                                .eventsPerSecond(1000)
                                .build(),
                        WatermarkStrategy.noWatermarks(),
                        "synthetic")
                .executeAndCollect("synthetic-source-it")) {
            it.forEachRemaining(out::add);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        assertThat(out).hasSize(600);
        assertThat(out)
                .containsExactlyInAnyOrderElementsOf(
                        LongStream.range(0, 600).mapToObj(gen::generate).collect(Collectors.toList()));
        // 600 events at 1000/s cannot take less than about half a second
        assertThat(seconds).isGreaterThan(0.4);
    }
}
