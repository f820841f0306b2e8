package dev.flinkslm.models.compliance.internal;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Replaces weights of an encoder graph with task-tuned ones: the built-in model's upper encoder layers are
 * fine-tuned on the compliance corpus and shipped as a small ONNX file that holds only those initializers
 * (same names as in the encoder graph, FLOAT16 or FLOAT).
 *
 * <p>In an fp32 graph each named initializer is replaced. In a dynamically quantised graph a {@code MatMul}
 * weight {@code W} exists as {@code W_quantized} (int8, [in, out]), {@code W_scale} (one per output column) and
 * {@code W_zero_point} (zero); the tuned weight is quantised the way the shipped graph was (symmetric per
 * column, scale = max|w| / 64, round half to even), so patched fp32 and int8 graphs differ only as the
 * shipped pair does. Every tensor of the patch must land in the graph with the shape it has there. Stateless.
 */
public final class EncoderPatch {

    /**
     * Class-path resource of the built-in model's tuned layers (the upper two of all-MiniLM-L6-v2), made by
     * {@code models/compliance/tools/tune_top_layers.py}.
     */
    public static final String BUILT_IN_RESOURCE = "dev/flinkslm/models/compliance/compliance-minilm-top-layers.onnx";

    /**
     * Version of the patching rules (quantisation, decoding); part of the default bundles' cache key, so a change
     * of the rules rebuilds cached bundles. Raise it when the rules change.
     */
    public static final String RULES_VERSION = "1";

    /** Largest quantised magnitude of the shipped int8 graphs (7-bit range, ONNX Runtime's reduce_range). */
    static final int QUANT_MAX = 64;

    private static final String QUANTIZED = "_quantized";
    private static final String SCALE = "_scale";
    private static final String ZERO_POINT = "_zero_point";

    private EncoderPatch() {}

    /** Returns the serialized encoder graph with the weights of {@code patchOnnx} in place. */
    public static byte[] apply(byte[] encoderOnnx, byte[] patchOnnx) {
        return apply(OnnxHeadFusion.parse(encoderOnnx), read(patchOnnx)).toByteArray();
    }

    /** Reads the tensors of a weights-only ONNX file, by name, as floats in row-major order. */
    public static Map<String, Tensor> read(byte[] patchOnnx) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (TensorProto t : OnnxHeadFusion.parse(patchOnnx).getGraph().getInitializerList()) {
            if (out.put(t.getName(), new Tensor(dims(t), floats(t))) != null) {
                throw new IllegalArgumentException("encoder patch holds tensor " + t.getName() + " twice");
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("encoder patch holds no tensors");
        }
        return out;
    }

    /** Returns {@code encoder} with the tensors of {@code patch} in place of its initializers. */
    public static ModelProto apply(ModelProto encoder, Map<String, Tensor> patch) {
        GraphProto.Builder g = encoder.getGraph().toBuilder();
        Map<String, Integer> index = new LinkedHashMap<>();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            index.put(g.getInitializer(i).getName(), i);
        }
        for (Map.Entry<String, Tensor> e : patch.entrySet()) {
            String name = e.getKey();
            Tensor w = e.getValue();
            Integer plain = index.get(name);
            Integer quantized = index.get(name + QUANTIZED);
            if (plain != null) {
                TensorProto old = g.getInitializer(plain);
                requireFloat(old);
                requireShape(name, dims(old), w.dims());
                g.setInitializer(plain, floatTensor(old, w.data()));
            } else if (quantized != null) {
                Integer scale = index.get(name + SCALE);
                Integer zero = index.get(name + ZERO_POINT);
                if (scale == null || zero == null) {
                    throw new IllegalArgumentException(
                            "encoder graph has " + name + QUANTIZED + " but no " + name + SCALE + "/" + ZERO_POINT);
                }
                TensorProto q = g.getInitializer(quantized);
                requireShape(name, dims(q), w.dims());
                if (w.dims().length != 2 || q.getDataType() != TensorProto.DataType.INT8_VALUE) {
                    throw new IllegalArgumentException("quantised weight " + name + " is not a 2-d int8 tensor");
                }
                requireZero(name, g.getInitializer(zero));
                int rows = (int) w.dims()[0];
                int cols = (int) w.dims()[1];
                float[] s = columnScales(w.data(), rows, cols);
                g.setInitializer(
                        quantized,
                        q.toBuilder()
                                .clearInt32Data()
                                .setRawData(ByteString.copyFrom(quantize(w.data(), s, rows, cols)))
                                .build());
                TensorProto oldScale = g.getInitializer(scale);
                requireShape(name + SCALE, dims(oldScale), new long[] {cols});
                g.setInitializer(scale, floatTensor(oldScale, s));
            } else {
                throw new IllegalArgumentException("encoder patch tensor " + name
                        + " is not an initializer of the encoder graph; the patch was made for another encoder");
            }
        }
        return encoder.toBuilder().setGraph(g).build();
    }

    /** Per output column: max |w| / {@link #QUANT_MAX} (1 for an all-zero column). */
    static float[] columnScales(float[] w, int rows, int cols) {
        float[] max = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                max[c] = Math.max(max[c], Math.abs(w[r * cols + c]));
            }
        }
        float[] s = new float[cols];
        for (int c = 0; c < cols; c++) {
            s[c] = max[c] == 0f ? 1f : max[c] / QUANT_MAX;
        }
        return s;
    }

    static byte[] quantize(float[] w, float[] scale, int rows, int cols) {
        byte[] q = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = (float) Math.rint(w[r * cols + c] / scale[c]);
                q[r * cols + c] = (byte) Math.max(-QUANT_MAX, Math.min(QUANT_MAX, v));
            }
        }
        return q;
    }

    private static void requireFloat(TensorProto t) {
        if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
            throw new IllegalArgumentException("encoder initializer " + t.getName() + " is not FLOAT");
        }
    }

    private static void requireShape(String name, long[] have, long[] patch) {
        if (!Arrays.equals(have, patch)) {
            throw new IllegalArgumentException("encoder patch tensor " + name + " has shape " + Arrays.toString(patch)
                    + ", the graph's has " + Arrays.toString(have));
        }
    }

    private static void requireZero(String name, TensorProto zero) {
        byte[] raw = zero.getRawData().toByteArray();
        boolean allZero = zero.getInt32DataList().stream().allMatch(v -> v == 0);
        for (byte b : raw) {
            allZero &= b == 0;
        }
        if (!allZero) {
            throw new IllegalArgumentException("quantised weight " + name + " has a non-zero zero point; only "
                    + "symmetric per-column quantisation is supported");
        }
    }

    private static TensorProto floatTensor(TensorProto like, float[] data) {
        ByteBuffer buf = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(data);
        return like.toBuilder()
                .clearFloatData()
                .setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(buf.array()))
                .build();
    }

    private static long[] dims(TensorProto t) {
        return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    static float[] floats(TensorProto t) {
        int n = Math.toIntExact(Arrays.stream(dims(t)).reduce(1, (a, b) -> a * b));
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        switch (t.getDataType()) {
            case TensorProto.DataType.FLOAT_VALUE -> {
                if (t.getFloatDataCount() == n) {
                    for (int i = 0; i < n; i++) {
                        out[i] = t.getFloatData(i);
                    }
                } else {
                    requireBytes(t, raw, n * 4);
                    raw.asFloatBuffer().get(out);
                }
            }
            case TensorProto.DataType.FLOAT16_VALUE -> {
                // int32_data holds one half per element when raw_data is not used
                if (t.getInt32DataCount() == n) {
                    for (int i = 0; i < n; i++) {
                        out[i] = halfToFloat((short) t.getInt32Data(i));
                    }
                } else {
                    requireBytes(t, raw, n * 2);
                    for (int i = 0; i < n; i++) {
                        out[i] = halfToFloat(raw.getShort());
                    }
                }
            }
            default ->
                throw new IllegalArgumentException("encoder patch tensor " + t.getName()
                        + " must be FLOAT or FLOAT16, not type " + t.getDataType());
        }
        for (float v : out) {
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("encoder patch tensor " + t.getName() + " holds " + v);
            }
        }
        return out;
    }

    private static void requireBytes(TensorProto t, ByteBuffer raw, int bytes) {
        if (raw.remaining() != bytes) {
            throw new IllegalArgumentException("encoder patch tensor " + t.getName() + " has " + raw.remaining()
                    + " bytes of data for " + bytes + " expected");
        }
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero)
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** A patch tensor: shape and row-major values. */
    public record Tensor(long[] dims, float[] data) {
        public Tensor {
            dims = dims.clone();
        }

        @Override
        public long[] dims() {
            return dims.clone();
        }
    }
}
