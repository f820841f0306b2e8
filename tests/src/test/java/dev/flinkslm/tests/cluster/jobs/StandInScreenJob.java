package dev.flinkslm.tests.cluster.jobs;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ParameterTool;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * Stand-in for the {@code screen} job, used by the real-cluster scenario until that job exists:
 * Kafka events ({@code id,account,text}) -> key by account -> keyed state + native tokenizer and
 * ONNX Runtime session (loaded once per TaskManager, see {@link NativeModelProbe}) -> Kafka,
 * exactly-once. Output records are {@code id,account,seenForAccount,tokens}.
 *
 * <p>Arguments: {@code --bootstrap-servers --input-topic --output-topic --group-id
 * --transactional-id-prefix [--parallelism]}. Checkpointing, RocksDB and restart strategy come
 * from the cluster configuration (docker/conf/config.yaml), as for the real job.
 */
public final class StandInScreenJob {

    private StandInScreenJob() {}

    public static void main(String[] args) throws Exception {
        ParameterTool params = ParameterTool.fromArgs(args);
        String servers = params.getRequired("bootstrap-servers");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(params.getInt("parallelism", 4));

        KafkaSource<String> source = KafkaSource.<String>builder()
                .setBootstrapServers(servers)
                .setTopics(params.getRequired("input-topic"))
                .setGroupId(params.getRequired("group-id"))
                // A resubmitted job (cancel, then run without savepoint) continues where the last checkpoint committed.
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setValueOnlyDeserializer(new SimpleStringSchema())
                .build();
        KafkaSink<String> sink = KafkaSink.<String>builder()
                .setBootstrapServers(servers)
                .setRecordSerializer(KafkaRecordSerializationSchema.builder()
                        .setTopic(params.getRequired("output-topic"))
                        .setValueSerializationSchema(new SimpleStringSchema())
                        .build())
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(params.getRequired("transactional-id-prefix"))
                .setProperty("transaction.timeout.ms", "120000")
                .build();

        env.fromSource(source, WatermarkStrategy.noWatermarks(), "events")
                .uid("events")
                .keyBy(line -> line.split(",", 3)[1])
                .map(new Score())
                .uid("score")
                .name("score")
                .sinkTo(sink)
                .uid("results")
                .name("results");
        env.execute("flink-slm stand-in screen");
    }

    /** Counts events per account in keyed state and tokenizes the text with the shared native tokenizer. */
    static final class Score extends RichMapFunction<String, String> {
        private transient ValueState<Long> seen;
        private transient NativeModelProbe models;

        @Override
        public void open(OpenContext ctx) throws Exception {
            seen = getRuntimeContext().getState(new ValueStateDescriptor<>("seen", Types.LONG));
            models = NativeModelProbe.get(
                    getRuntimeContext().getJobInfo().getJobId().toString());
        }

        @Override
        public String map(String event) throws Exception {
            String[] f = event.split(",", 3);
            long n = seen.value() == null ? 1 : seen.value() + 1;
            seen.update(n);
            return f[0] + "," + f[1] + "," + n + "," + models.tokenCount(f[2]);
        }
    }
}
