package dev.flinkslm.tests.cluster.jobs;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.ParameterTool;

/**
 * Unbounded, slow job that only exercises the native libraries: generated events -> key -> DJL
 * tokenizer + ORT session from {@link NativeModelProbe} (loaded once per TaskManager JVM per job).
 * Used to prove that a job cancelled and submitted again to the same session cluster loads its
 * native libraries without "already loaded in another classloader". No Kafka needed.
 *
 * <p>Arguments: {@code [--parallelism 4] [--per-second 20]}.
 */
public final class NativeProbeJob {

    private NativeProbeJob() {}

    public static void main(String[] args) throws Exception {
        ParameterTool params = ParameterTool.fromArgs(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(params.getInt("parallelism", 4));
        DataGeneratorSource<Long> source = new DataGeneratorSource<>(
                i -> i, Long.MAX_VALUE, RateLimiterStrategy.perSecond(params.getInt("per-second", 20)), Types.LONG);
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "generated")
                .keyBy(i -> i % 16)
                .map(new Tokenize())
                .name("tokenize")
                .sinkTo(new DiscardingSink<>());
        env.execute("flink-slm native probe");
    }

    static final class Tokenize extends RichMapFunction<Long, Integer> {
        private transient NativeModelProbe models;

        @Override
        public void open(OpenContext ctx) throws Exception {
            models = NativeModelProbe.get(
                    getRuntimeContext().getJobInfo().getJobId().toString());
        }

        @Override
        public Integer map(Long i) {
            return models.tokenCount("payment " + i + " to account " + (i % 97));
        }
    }
}
