package dev.flinkslm.operators;

import dev.flinkslm.operators.internal.versions.AdmittedCommand;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperatorFactory;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;

/**
 * A keyed two-input harness built from an operator factory (the way Flink creates the operator),
 * for the versioned scoring operator: events keyed on input 1, admitted commands on input 2.
 */
final class VersionedHarness<IN> extends AbstractStreamOperatorTestHarness<Scored<IN>> {

    VersionedHarness(
            TwoInputStreamOperatorFactory<IN, AdmittedCommand, Scored<IN>> factory,
            KeySelector<IN, String> keys,
            int maxParallelism,
            int parallelism,
            int subtask,
            TypeSerializer<IN> in1,
            TypeSerializer<AdmittedCommand> in2)
            throws Exception {
        super(factory, maxParallelism, parallelism, subtask);
        config.setStatePartitioner(0, keys);
        config.setStateKeySerializer(
                TypeInformation.of(String.class).createSerializer(executionConfig.getSerializerConfig()));
        config.setupNetworkInputs(in1, in2);
        config.serializeAllConfigs();
    }

    @SuppressWarnings("unchecked")
    private TwoInputStreamOperator<IN, AdmittedCommand, Scored<IN>> op() {
        return (TwoInputStreamOperator<IN, AdmittedCommand, Scored<IN>>) operator;
    }

    void processElement1(IN value, long timestamp) throws Exception {
        StreamRecord<IN> r = new StreamRecord<>(value, timestamp);
        op().setKeyContextElement1(r);
        op().processElement1(r);
    }

    void processElement2(AdmittedCommand value) throws Exception {
        StreamRecord<AdmittedCommand> r = new StreamRecord<>(value, value.receivedAt);
        op().setKeyContextElement2(r);
        op().processElement2(r);
    }

    void processWatermark1(Watermark mark) throws Exception {
        op().processWatermark1(mark);
    }

    void processWatermarkStatus1(WatermarkStatus status) throws Exception {
        op().processWatermarkStatus1(status);
    }

    void processWatermarkStatus2(WatermarkStatus status) throws Exception {
        op().processWatermarkStatus2(status);
    }

    void endInput(int input) throws Exception {
        ((BoundedMultiInput) operator).endInput(input);
    }
}
