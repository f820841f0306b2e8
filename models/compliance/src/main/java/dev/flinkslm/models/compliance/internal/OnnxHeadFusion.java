package dev.flinkslm.models.compliance.internal;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Appends sentence pooling and a softmax head to a BERT-style encoder graph by editing the ONNX protobuf.
 *
 * <p>Added after {@code last_hidden_state}: masked mean pooling over tokens, L2 normalisation
 * ({@code sentence_embedding} output), {@code Gemm} with the head weights, {@code Softmax}
 * ({@code probabilities} output). The encoder's own output is dropped from the graph outputs so ONNX Runtime
 * does not copy the [batch, seq, 384] tensor out. Ops are emitted in the form valid for the graph's
 * default-domain opset (axes as attributes below opset 13, as inputs from 13). Stateless.
 */
public final class OnnxHeadFusion {

    public static final String HIDDEN = "last_hidden_state";
    public static final String PROBABILITIES = "probabilities";
    public static final String EMBEDDING = "sentence_embedding";
    private static final String P = "slm_head/";

    private OnnxHeadFusion() {}

    /** Parses an ONNX model; the size limit is lifted because encoder graphs exceed protobuf's 64 MB default. */
    public static ModelProto parse(byte[] onnx) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(onnx);
            in.setSizeLimit(Integer.MAX_VALUE);
            return ModelProto.parseFrom(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Not a valid ONNX model: " + e.getMessage(), e);
        }
    }

    /** Returns the serialized fused model. */
    public static byte[] fuse(byte[] encoderOnnx, SoftmaxHead head) {
        return fuse(parse(encoderOnnx), head).toByteArray();
    }

    /** Fuses pooling, normalisation and the head into the encoder model. */
    public static ModelProto fuse(ModelProto encoder, SoftmaxHead head) {
        GraphProto g = encoder.getGraph();
        ValueInfoProto hidden = g.getOutputList().stream()
                .filter(o -> o.getName().equals(HIDDEN))
                .findFirst()
                .orElseThrow(
                        () -> new IllegalArgumentException("Encoder graph has no output '" + HIDDEN + "'; outputs are "
                                + g.getOutputList().stream()
                                        .map(ValueInfoProto::getName)
                                        .toList()));
        long hiddenDim = hidden.getType().getTensorType().getShape().getDim(2).getDimValue();
        if (hiddenDim != 0 && hiddenDim != head.dim()) {
            throw new IllegalArgumentException(
                    "Head expects " + head.dim() + "-d embeddings, encoder emits " + hiddenDim);
        }
        if (g.getInputList().stream().noneMatch(i -> i.getName().equals("attention_mask"))) {
            throw new IllegalArgumentException("Encoder graph has no 'attention_mask' input");
        }
        long opset = encoder.getOpsetImportList().stream()
                .filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToLong(OperatorSetIdProto::getVersion)
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("Encoder graph imports no default-domain opset"));
        boolean axesAsInput = opset >= 13;
        TensorShapeProto.Dimension batchDim =
                hidden.getType().getTensorType().getShape().getDim(0);

        int k = head.labels().size();
        int dim = head.dim();
        GraphProto.Builder gb = g.toBuilder();
        SoftmaxHead.Hidden hiddenLayer = head.hidden();
        int width = hiddenLayer == null ? dim : hiddenLayer.bias().length;
        gb.addInitializer(floatTensor(P + "W", new long[] {k, width}, flatten(head.weights(), width)));
        gb.addInitializer(floatTensor(P + "b", new long[] {k}, head.bias()));
        if (hiddenLayer != null) {
            gb.addInitializer(floatTensor(P + "W1", new long[] {width, dim}, flatten(hiddenLayer.weights(), dim)));
            gb.addInitializer(floatTensor(P + "b1", new long[] {width}, hiddenLayer.bias()));
        }
        gb.addInitializer(floatTensor(P + "count_floor", new long[] {}, new float[] {1e-9f}));
        gb.addInitializer(floatTensor(P + "norm_floor", new long[] {}, new float[] {1e-12f}));
        if (axesAsInput) {
            gb.addInitializer(longTensor(P + "axis1", new long[] {1}, new long[] {1}));
            gb.addInitializer(longTensor(P + "axis2", new long[] {1}, new long[] {2}));
        }

        gb.addNode(node("Cast", List.of("attention_mask"), P + "mask_f")
                .addAttribute(intAttr("to", TensorProto.DataType.FLOAT_VALUE)));
        gb.addNode(axesNode("Unsqueeze", P + "mask_f", P + "mask3", 2, axesAsInput, null));
        gb.addNode(node("Mul", List.of(HIDDEN, P + "mask3"), P + "masked"));
        gb.addNode(axesNode("ReduceSum", P + "masked", P + "sum", 1, axesAsInput, 0L));
        gb.addNode(axesNode("ReduceSum", P + "mask3", P + "count", 1, axesAsInput, 0L));
        gb.addNode(node("Max", List.of(P + "count", P + "count_floor"), P + "count_c"));
        gb.addNode(node("Div", List.of(P + "sum", P + "count_c"), P + "mean"));
        gb.addNode(node("Mul", List.of(P + "mean", P + "mean"), P + "sq"));
        gb.addNode(axesNode("ReduceSum", P + "sq", P + "sumsq", 1, axesAsInput, 1L));
        gb.addNode(node("Sqrt", List.of(P + "sumsq"), P + "norm"));
        gb.addNode(node("Max", List.of(P + "norm", P + "norm_floor"), P + "norm_c"));
        gb.addNode(node("Div", List.of(P + "mean", P + "norm_c"), EMBEDDING));
        String headInput = EMBEDDING;
        if (hiddenLayer != null) {
            gb.addNode(node("Gemm", List.of(EMBEDDING, P + "W1", P + "b1"), P + "hidden_pre")
                    .addAttribute(intAttr("transB", 1)));
            gb.addNode(node("Relu", List.of(P + "hidden_pre"), P + "hidden"));
            headInput = P + "hidden";
        }
        gb.addNode(
                node("Gemm", List.of(headInput, P + "W", P + "b"), P + "logits").addAttribute(intAttr("transB", 1)));
        gb.addNode(node("Softmax", List.of(P + "logits"), PROBABILITIES).addAttribute(intAttr("axis", 1)));

        gb.clearOutput();
        gb.addOutput(floatOutput(PROBABILITIES, batchDim, k));
        gb.addOutput(floatOutput(EMBEDDING, batchDim, dim));
        return encoder.toBuilder().setGraph(gb).setProducerName("flink-slm").build();
    }

    private static float[] flatten(float[][] rows, int width) {
        float[] out = new float[rows.length * width];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, out, r * width, width);
        }
        return out;
    }

    private static NodeProto.Builder node(String op, List<String> inputs, String output) {
        return NodeProto.newBuilder()
                .setOpType(op)
                .setName(output + "/" + op)
                .addAllInput(inputs)
                .addOutput(output);
    }

    private static NodeProto.Builder axesNode(
            String op, String input, String output, int axis, boolean axesAsInput, Long keepdims) {
        NodeProto.Builder n;
        if (axesAsInput) {
            n = node(op, List.of(input, P + "axis" + axis), output);
        } else {
            n = node(op, List.of(input), output)
                    .addAttribute(AttributeProto.newBuilder()
                            .setName("axes")
                            .setType(AttributeProto.AttributeType.INTS)
                            .addInts(axis));
        }
        if (keepdims != null) {
            n.addAttribute(intAttr("keepdims", keepdims));
        }
        return n;
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder()
                .setName(name)
                .setType(AttributeProto.AttributeType.INT)
                .setI(v)
                .build();
    }

    private static TensorProto floatTensor(String name, long[] dims, float[] data) {
        ByteBuffer buf = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            buf.putFloat(f);
        }
        buf.flip();
        TensorProto.Builder t = TensorProto.newBuilder()
                .setName(name)
                .setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(buf));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static TensorProto longTensor(String name, long[] dims, long[] data) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE);
        for (long d : dims) {
            t.addDims(d);
        }
        for (long v : data) {
            t.addInt64Data(v);
        }
        return t.build();
    }

    private static ValueInfoProto floatOutput(String name, TensorShapeProto.Dimension batch, int width) {
        TensorShapeProto shape = TensorShapeProto.newBuilder()
                .addDim(batch)
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(width))
                .build();
        return ValueInfoProto.newBuilder()
                .setName(name)
                .setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder()
                                .setElemType(TensorProto.DataType.FLOAT_VALUE)
                                .setShape(shape)))
                .build();
    }
}
