package dev.flinkslm.models.compliance.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.flinkslm.models.compliance.Precision;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

class EncoderPatchTest {

    /** The fp32 graph's last feed-forward weight, [1536, 384], and a bias of the same layer. */
    private static final String WEIGHT = "onnx::MatMul_864";

    private static final String BIAS = "encoder.layer.5.output.dense.bias";

    private static ModelProto fp32;
    private static ModelProto int8;

    @BeforeAll
    static void load() {
        fp32 = OnnxHeadFusion.parse(Resources.read(Precision.FP32.encoderResource()));
        int8 = OnnxHeadFusion.parse(Resources.read(Precision.INT8.encoderResource()));
    }

    private static Map<String, TensorProto> inits(ModelProto m) {
        return m.getGraph().getInitializerList().stream()
                .collect(Collectors.toMap(TensorProto::getName, Function.identity()));
    }

    private static EncoderPatch.Tensor tensor(ModelProto m, String name) {
        TensorProto t = inits(m).get(name);
        return new EncoderPatch.Tensor(
                t.getDimsList().stream().mapToLong(Long::longValue).toArray(), EncoderPatch.floats(t));
    }

    @Test
    void quantisingTheShippedFp32WeightsGivesTheShippedInt8Graph() {
        // the shipped int8 graph was quantised from the shipped fp32 one: the same scheme must reproduce it
        Map<String, EncoderPatch.Tensor> patch = new LinkedHashMap<>();
        patch.put(WEIGHT, tensor(fp32, WEIGHT));
        patch.put(BIAS, tensor(fp32, BIAS));
        Map<String, TensorProto> patched = inits(EncoderPatch.apply(int8, patch));
        Map<String, TensorProto> shipped = inits(int8);
        assertThat(EncoderPatch.floats(patched.get(WEIGHT + "_scale")))
                .isEqualTo(EncoderPatch.floats(shipped.get(WEIGHT + "_scale")));
        assertThat(raw(patched.get(WEIGHT + "_quantized"))).isEqualTo(raw(shipped.get(WEIGHT + "_quantized")));
        assertThat(EncoderPatch.floats(patched.get(BIAS))).isEqualTo(EncoderPatch.floats(shipped.get(BIAS)));
    }

    @Test
    void replacesFp32WeightsAndQuantisesInt8Ones() {
        EncoderPatch.Tensor w = tensor(fp32, WEIGHT);
        float[] doubled = w.data().clone();
        for (int i = 0; i < doubled.length; i++) {
            doubled[i] *= 2;
        }
        Map<String, EncoderPatch.Tensor> patch = Map.of(WEIGHT, new EncoderPatch.Tensor(w.dims(), doubled));

        assertThat(EncoderPatch.floats(inits(EncoderPatch.apply(fp32, patch)).get(WEIGHT)))
                .isEqualTo(doubled);
        Map<String, TensorProto> q = inits(EncoderPatch.apply(int8, patch));
        float[] scale = EncoderPatch.floats(q.get(WEIGHT + "_scale"));
        float[] shippedScale = EncoderPatch.floats(inits(int8).get(WEIGHT + "_scale"));
        for (int c = 0; c < scale.length; c++) {
            assertThat(scale[c]).isEqualTo(shippedScale[c] * 2);
        }
        // doubling the weights and the scale leaves the integers as they were
        assertThat(raw(q.get(WEIGHT + "_quantized"))).isEqualTo(raw(inits(int8).get(WEIGHT + "_quantized")));
        // tensors the patch does not name are unchanged
        assertThat(raw(q.get(BIAS))).isEqualTo(raw(inits(int8).get(BIAS)));
    }

    @Test
    void readsFloat16PatchFiles() {
        // 1.0, -2.5, 65504 (largest half), 2^-24 (smallest subnormal)
        short[] halves = {0x3c00, (short) 0xc100, 0x7bff, 0x0001};
        ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (short h : halves) {
            buf.putShort(h);
        }
        TensorProto t = TensorProto.newBuilder()
                .setName("x")
                .addDims(4)
                .setDataType(TensorProto.DataType.FLOAT16_VALUE)
                .setRawData(ByteString.copyFrom(buf.array()))
                .build();
        Map<String, EncoderPatch.Tensor> read = EncoderPatch.read(patchFile(t).toByteArray());
        assertThat(read.get("x").data()).containsExactly(1.0f, -2.5f, 65504f, 0x1p-24f);
    }

    @Test
    void rejectsPatchesThatDoNotFitTheGraph() {
        EncoderPatch.Tensor bias = tensor(fp32, BIAS);
        assertThatThrownBy(() -> EncoderPatch.apply(fp32, Map.of("encoder.layer.9.output.dense.bias", bias)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("encoder.layer.9.output.dense.bias")
                .hasMessageContaining("another encoder");
        EncoderPatch.Tensor wrong = new EncoderPatch.Tensor(new long[] {383}, new float[383]);
        assertThatThrownBy(() -> EncoderPatch.apply(int8, Map.of(BIAS, wrong)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shape [383]");
        assertThatThrownBy(() -> EncoderPatch.apply(
                        int8, Map.of(WEIGHT, new EncoderPatch.Tensor(new long[] {384, 1536}, new float[384 * 1536]))))
                .hasMessageContaining("shape [384, 1536]");
        TensorProto nan = TensorProto.newBuilder()
                .setName(BIAS)
                .addDims(1)
                .setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addFloatData(Float.NaN)
                .build();
        assertThatThrownBy(() -> EncoderPatch.read(patchFile(nan).toByteArray()))
                .hasMessageContaining("holds NaN");
        assertThatThrownBy(() -> EncoderPatch.read(ModelProto.newBuilder()
                        .setGraph(GraphProto.newBuilder())
                        .build()
                        .toByteArray()))
                .hasMessageContaining("no tensors");
    }

    @Test
    void theShippedPatchFitsBothBuiltInGraphs() {
        Map<String, EncoderPatch.Tensor> patch = EncoderPatch.read(Resources.read(EncoderPatch.BUILT_IN_RESOURCE));
        assertThat(patch).isNotEmpty();
        for (ModelProto g : new ModelProto[] {fp32, int8}) {
            Map<String, TensorProto> patched = inits(EncoderPatch.apply(g, patch));
            assertThat(patched).hasSameSizeAs(inits(g));
        }
        // it changes the weights it names in the fp32 graph
        String name = patch.keySet().iterator().next();
        assertThat(EncoderPatch.floats(inits(EncoderPatch.apply(fp32, patch)).get(name)))
                .isEqualTo(patch.get(name).data())
                .isNotEqualTo(EncoderPatch.floats(inits(fp32).get(name)));
    }

    private static byte[] raw(TensorProto t) {
        return t.getRawData().toByteArray();
    }

    private static ModelProto patchFile(TensorProto t) {
        return ModelProto.newBuilder()
                .setGraph(GraphProto.newBuilder().addInitializer(t))
                .build();
    }
}
