package dev.flinkslm.operators;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A keyed scoring job with the built-in compliance model on RocksDB with checkpointing fails once after a completed checkpoint and
 * restarts: every input still produces exactly one result in an exactly-once file sink.
 */
class ScoringFailoverITCase {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    static final AtomicBoolean CHECKPOINT_COMPLETED = new AtomicBoolean();
    static final AtomicBoolean FAILED = new AtomicBoolean();
    static final AtomicInteger FAILURES = new AtomicInteger();

    @TempDir
    java.nio.file.Path tmp;

    /** With the TaskManager's batch dispatcher too: both subtasks' batches then run jointly. */
    @ParameterizedTest(name = "dispatcher {0}")
    @ValueSource(booleans = {false, true})
    void everyInputProducesExactlyOneResultAcrossAFailure(boolean coalesce) throws Exception {
        java.nio.file.Path out = tmp.resolve("out");
        int n = 1_200;

        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(300);

        DataGeneratorSource<String> source = new DataGeneratorSource<>(
                i -> "event-" + i + " account-" + (i % 37) + " wire transfer of " + (i * 13 % 9000) + " EUR",
                n,
                RateLimiterStrategy.perSecond(250),
                Types.STRING);
        DataStream<String> events = env.fromSource(source, WatermarkStrategy.noWatermarks(), "events");

        ScoredStream<String> scored = SlmScoring.<String>builder()
                .text(s -> s)
                .model("default:int8") // the real compliance model
                .maxBatchSize(16)
                .maxWait(Duration.ofMillis(20))
                .coalesce(coalesce)
                .build()
                .apply(events.keyBy(s -> s.split(" ")[1]));

        scored.results()
                .map(new FailOnceAfterCheckpoint())
                .sinkTo(FileSink.forRowFormat(new Path(out.toUri()), new SimpleStringEncoder<String>())
                        .build());

        CHECKPOINT_COMPLETED.set(false);
        FAILED.set(false);
        FAILURES.set(0);
        env.execute("scoring failover");

        assertThat(FAILURES.get())
                .as("the job must really have failed and restarted")
                .isEqualTo(1);
        Map<String, Integer> counts = new HashMap<>();
        try (Stream<java.nio.file.Path> files = Files.walk(out)) {
            for (java.nio.file.Path f : files.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().startsWith("."))
                    .toList()) {
                for (String line : Files.readAllLines(f)) {
                    counts.merge(line, 1, Integer::sum);
                }
            }
        }
        assertThat(counts).hasSize(n);
        assertThat(counts.values()).allMatch(c -> c == 1);
        assertThat(counts.keySet())
                .allMatch(l -> l.contains("|compliance-minilm:"
                        + dev.flinkslm.models.compliance.DefaultModel.version(
                                dev.flinkslm.models.compliance.Precision.INT8)
                        + "|active"));
    }

    /** Emits "element|model|variant" and throws once, after the first completed checkpoint. */
    static final class FailOnceAfterCheckpoint extends RichMapFunction<Scored<String>, String>
            implements CheckpointListener {
        private int seen;

        @Override
        public String map(Scored<String> value) {
            if (CHECKPOINT_COMPLETED.get() && ++seen > 20 && FAILED.compareAndSet(false, true)) {
                FAILURES.incrementAndGet();
                throw new IllegalStateException("injected failure");
            }
            return value.element.split(" ")[0] + "|" + value.modelId + ":" + value.modelVersion + "|" + value.variant;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            CHECKPOINT_COMPLETED.set(true);
        }
    }

    @SuppressWarnings("unused")
    private static List<String> none() {
        return List.of();
    }
}
