package dev.flinkslm.models;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Generates tiny but real ONNX classification bundles for tests of the runtime and the operators.
 *
 * <p>The graph computes two features per text, the mean token id / 1000 and the token count / 16
 * (both masked), applies a dense layer and a Softmax. {@link #reference} computes the same in plain
 * Java. With {@code slowFactor > 0} the graph also runs a chain of 1024x1024 matrix products whose
 * result is multiplied by zero and added to the logits, so that a batch takes long enough to be
 * observed in flight.
 */
public final class TinyBundles {

    public static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-q-tokenizer.json";

    private TinyBundles() {}

    /** How a generated graph corrupts its probabilities output (after the Softmax). */
    public enum BadOutput {
        /** A valid distribution. */
        NONE,
        /** Every value NaN. */
        NAN,
        /** Every value +infinity. */
        INFINITY,
        /** Every value negated (negative probabilities). */
        NEGATIVE,
        /** Every value plus one (probabilities above 1). */
        ABOVE_ONE,
        /** Every value halved (rows sum to 0.5). */
        UNNORMALISED,
        /** One extra column at run time (the declared width is left dynamic). */
        WIDE
    }

    /** Options for a generated bundle; the defaults give a valid bundle. */
    public static final class Spec {
        public String id = "tiny";
        public String version = "1";
        public List<String> labels = List.of("clear", "sanctions", "structuring", "fraud", "market_abuse");
        /** Output width of the graph; differs from labels.size() to provoke a label mismatch. */
        public Integer outputWidth;

        public String inputIdsName = "input_ids";
        public boolean floatInputIds;
        public boolean softmax = true;
        public boolean logits = false;
        public int slowFactor;
        public int seed = 7;
        public int maxSequenceLength = 64;
        public int manifestVersion = 1;
        public List<ModelManifest.GoldenExample> golden = List.of();
        /** The manifest's negativeLabel (null: none). */
        public String negativeLabel;
        /** How the output is corrupted (default: not at all). */
        public BadOutput badOutput = BadOutput.NONE;
        /** Corrupt only batches padded to more than this many tokens (0: every batch). */
        public int badAboveTokens;
        /** Corrupt only batches in which some text has this token id (-1: no trigger). */
        public long badOnTokenId = -1;

        public Spec id(String v) {
            id = v;
            return this;
        }

        public Spec version(String v) {
            version = v;
            return this;
        }

        public Spec labels(List<String> v) {
            labels = v;
            return this;
        }

        public Spec outputWidth(int v) {
            outputWidth = v;
            return this;
        }

        public Spec seed(int v) {
            seed = v;
            return this;
        }

        public Spec slow(int v) {
            slowFactor = v;
            return this;
        }

        /**
         * A graph without the Softmax whose output, named {@code logits}, the manifest declares as
         * logits (the shape of a Hugging Face / Optimum sequence-classification export).
         */
        public Spec logits(boolean v) {
            logits = v;
            softmax = !v;
            return this;
        }

        String outputName() {
            return logits ? "logits" : "probabilities";
        }

        public Spec softmax(boolean v) {
            softmax = v;
            return this;
        }

        public Spec maxSequenceLength(int v) {
            maxSequenceLength = v;
            return this;
        }

        public Spec golden(List<ModelManifest.GoldenExample> v) {
            golden = v;
            return this;
        }

        public Spec negativeLabel(String v) {
            negativeLabel = v;
            return this;
        }

        public Spec badOutput(BadOutput v) {
            badOutput = v;
            return this;
        }

        public Spec badAboveTokens(int v) {
            badAboveTokens = v;
            return this;
        }

        public Spec badOnTokenId(long v) {
            badOnTokenId = v;
            return this;
        }

        int width() {
            return outputWidth != null ? outputWidth : labels.size();
        }

        /** Dense-layer weights [2][width] and bias [width], derived from the seed. */
        float[][] weights() {
            Random r = new Random(seed);
            float[][] w = new float[2][width()];
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < width(); j++) {
                    w[i][j] = (float) (r.nextGaussian() * 3);
                }
            }
            return w;
        }

        float[] bias() {
            Random r = new Random(seed * 31L + 1);
            float[] b = new float[width()];
            for (int j = 0; j < b.length; j++) {
                b[j] = (float) r.nextGaussian();
            }
            return b;
        }
    }

    /** Writes a bundle into {@code dir} (created) and returns it. */
    public static Path write(Path dir, Spec spec) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.onnx"), graph(spec).toByteArray());
        try (InputStream in = TinyBundles.class.getClassLoader().getResourceAsStream(TOKENIZER_RESOURCE)) {
            if (in == null) {
                throw new IOException(TOKENIZER_RESOURCE + " not on the classpath");
            }
            Files.copy(in, dir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        writeManifest(dir, spec);
        return dir;
    }

    /** Rewrites the manifest with fresh checksums of the files now in {@code dir}. */
    public static void writeManifest(Path dir, Spec spec) throws IOException {
        Map<String, String> sha = new LinkedHashMap<>();
        sha.put("model.onnx", Digests.sha256(dir.resolve("model.onnx")));
        sha.put("tokenizer.json", Digests.sha256(dir.resolve("tokenizer.json")));
        ModelManifest manifest = new ModelManifest(
                spec.manifestVersion,
                spec.id,
                spec.version,
                ModelManifest.TASK_TEXT_CLASSIFICATION,
                "generated test model",
                spec.labels,
                spec.negativeLabel,
                "model.onnx",
                "tokenizer.json",
                spec.maxSequenceLength,
                new ModelManifest.Inputs("input_ids", "attention_mask", "token_type_ids"),
                spec.logits
                        ? new ModelManifest.Outputs(null, spec.outputName(), null)
                        : new ModelManifest.Outputs(spec.outputName(), null),
                sha,
                spec.golden,
                Map.of("precision", "fp32"));
        manifest.write(dir);
    }

    /** The logits (before any Softmax) the generated graph computes for one encoded text. */
    public static double[] referenceLogits(Spec spec, EncodedText text) {
        double sum = 0;
        for (long id : text.ids()) {
            sum += id;
        }
        double f1 = sum / text.length() / 1000.0;
        double f2 = text.length() / 16.0;
        float[][] w = spec.weights();
        float[] b = spec.bias();
        double[] logits = new double[spec.width()];
        for (int j = 0; j < logits.length; j++) {
            logits[j] = f1 * w[0][j] + f2 * w[1][j] + b[j];
        }
        return logits;
    }

    /** The probabilities the generated graph computes for one encoded text. */
    public static float[] reference(Spec spec, EncodedText text) {
        double[] logits = referenceLogits(spec, text);
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double total = 0;
        for (int j = 0; j < logits.length; j++) {
            logits[j] = Math.exp(logits[j] - max);
            total += logits[j];
        }
        float[] p = new float[logits.length];
        for (int j = 0; j < p.length; j++) {
            p[j] = (float) (logits[j] / total);
        }
        return p;
    }

    static OnnxMl.ModelProto graph(Spec spec) {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("tiny");
        int idsType = spec.floatInputIds
                ? OnnxMl.TensorProto.DataType.FLOAT.getNumber()
                : OnnxMl.TensorProto.DataType.INT64.getNumber();
        g.addInput(valueInfo(spec.inputIdsName, idsType, "batch", "seq"));
        g.addInput(valueInfo("attention_mask", OnnxMl.TensorProto.DataType.INT64.getNumber(), "batch", "seq"));
        g.addInput(valueInfo("token_type_ids", OnnxMl.TensorProto.DataType.INT64.getNumber(), "batch", "seq"));

        g.addInitializer(floatTensor("k1000", new long[] {}, new float[] {1000f}));
        g.addInitializer(floatTensor("k16", new long[] {}, new float[] {16f}));
        float[][] w = spec.weights();
        float[] flat = new float[2 * spec.width()];
        for (int i = 0; i < 2; i++) {
            System.arraycopy(w[i], 0, flat, i * spec.width(), spec.width());
        }
        g.addInitializer(floatTensor("W", new long[] {2, spec.width()}, flat));
        g.addInitializer(floatTensor("B", new long[] {spec.width()}, spec.bias()));

        g.addNode(node("Cast", List.of(spec.inputIdsName), "ids_f").addAttribute(intAttr("to", 1)));
        g.addNode(node("Cast", List.of("attention_mask"), "mask_f").addAttribute(intAttr("to", 1)));
        g.addNode(node("Mul", List.of("ids_f", "mask_f"), "ids_masked"));
        g.addNode(reduceSum("ids_masked", "ids_sum"));
        g.addNode(reduceSum("mask_f", "count"));
        g.addNode(node("Div", List.of("ids_sum", "count"), "mean_id"));
        g.addNode(node("Div", List.of("mean_id", "k1000"), "f1"));
        g.addNode(node("Div", List.of("count", "k16"), "f2"));
        g.addNode(node("Concat", List.of("f1", "f2"), "features").addAttribute(intAttr("axis", 1)));
        g.addNode(node("Gemm", List.of("features", "W", "B"), "logits0"));
        String logits = "logits0";
        if (spec.slowFactor > 0) {
            logits = addSlowChain(g, spec.slowFactor, "logits0");
        }
        String good = spec.badOutput == BadOutput.NONE ? spec.outputName() : "good_probabilities";
        if (spec.softmax) {
            g.addNode(node("Softmax", List.of(logits), good).addAttribute(intAttr("axis", 1)));
        } else {
            g.addNode(node("Identity", List.of(logits), good));
        }
        if (spec.badOutput != BadOutput.NONE) {
            addBadOutput(g, spec, good);
        }
        if (spec.badOutput == BadOutput.WIDE) {
            g.addOutput(valueInfo(spec.outputName(), OnnxMl.TensorProto.DataType.FLOAT.getNumber(), "batch", "width"));
        } else {
            g.addOutput(valueInfo(
                    spec.outputName(), OnnxMl.TensorProto.DataType.FLOAT.getNumber(), "batch", null, spec.width()));
        }
        return OnnxMl.ModelProto.newBuilder()
                .setIrVersion(7)
                .setProducerName("flink-slm-tests")
                .addOpsetImport(
                        OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(11))
                .setGraph(g)
                .build();
    }

    /** Computes "probabilities" from {@code good}: corrupted always, or only when the batch triggers it. */
    private static void addBadOutput(OnnxMl.GraphProto.Builder g, Spec spec, String good) {
        String bad = "bad_probabilities";
        switch (spec.badOutput) {
            case NAN -> {
                g.addInitializer(floatTensor("kNaN", new long[] {}, new float[] {Float.NaN}));
                g.addNode(node("Mul", List.of(good, "kNaN"), bad));
            }
            case INFINITY -> {
                g.addInitializer(floatTensor("kInf", new long[] {}, new float[] {Float.POSITIVE_INFINITY}));
                g.addNode(node("Add", List.of(good, "kInf"), bad));
            }
            case NEGATIVE -> g.addNode(node("Neg", List.of(good), bad));
            case ABOVE_ONE -> {
                g.addInitializer(floatTensor("kOne", new long[] {}, new float[] {1f}));
                g.addNode(node("Add", List.of(good, "kOne"), bad));
            }
            case UNNORMALISED -> {
                g.addInitializer(floatTensor("kHalf", new long[] {}, new float[] {0.5f}));
                g.addNode(node("Mul", List.of(good, "kHalf"), bad));
            }
            case WIDE -> {
                // zeros of shape [batch, n] where n = (seq_len > 0) = 1, computed from data so that
                // shape inference cannot see the width: the graph declares no fixed width
                g.addInitializer(longTensor("kZeroLong", 0));
                g.addInitializer(longTensor("kAxis0", 0));
                g.addInitializer(longTensor("kAxis1", 1));
                g.addNode(node("Shape", List.of(spec.inputIdsName), "wide_shape"));
                g.addNode(node("Gather", List.of("wide_shape", "kAxis0"), "wide_batch")
                        .addAttribute(intAttr("axis", 0)));
                g.addNode(node("Gather", List.of("wide_shape", "kAxis1"), "wide_seq")
                        .addAttribute(intAttr("axis", 0)));
                g.addNode(node("Greater", List.of("wide_seq", "kZeroLong"), "wide_any"));
                g.addNode(node("Cast", List.of("wide_any"), "wide_n").addAttribute(intAttr("to", 7)));
                g.addNode(
                        node("Unsqueeze", List.of("wide_batch"), "wide_batch1").addAttribute(intsAttr("axes", 0)));
                g.addNode(node("Unsqueeze", List.of("wide_n"), "wide_n1").addAttribute(intsAttr("axes", 0)));
                g.addNode(node("Concat", List.of("wide_batch1", "wide_n1"), "wide_dims")
                        .addAttribute(intAttr("axis", 0)));
                g.addNode(node("ConstantOfShape", List.of("wide_dims"), "zero_col"));
                g.addNode(node("Concat", List.of(good, "zero_col"), bad).addAttribute(intAttr("axis", 1)));
            }
            default -> throw new IllegalArgumentException(spec.badOutput.toString());
        }
        String condition = null;
        if (spec.badAboveTokens > 0) {
            g.addInitializer(longTensor("kBadAbove", spec.badAboveTokens));
            g.addInitializer(longTensor("kSeqAxis", 1));
            g.addNode(node("Shape", List.of(spec.inputIdsName), "ids_shape"));
            g.addNode(
                    node("Gather", List.of("ids_shape", "kSeqAxis"), "seq_len").addAttribute(intAttr("axis", 0)));
            g.addNode(node("Greater", List.of("seq_len", "kBadAbove"), "too_long"));
            condition = "too_long";
        }
        if (spec.badOnTokenId >= 0) {
            g.addInitializer(longTensor("kTrigger", spec.badOnTokenId));
            g.addInitializer(floatTensor("kHalfTrigger", new long[] {}, new float[] {0.5f}));
            g.addNode(node("Equal", List.of(spec.inputIdsName, "kTrigger"), "is_trigger"));
            g.addNode(node("Cast", List.of("is_trigger"), "is_trigger_f").addAttribute(intAttr("to", 1)));
            g.addNode(node("ReduceMax", List.of("is_trigger_f"), "any_trigger").addAttribute(intAttr("keepdims", 0)));
            g.addNode(node("Greater", List.of("any_trigger", "kHalfTrigger"), "triggered"));
            if (condition == null) {
                condition = "triggered";
            } else {
                g.addNode(node("And", List.of(condition, "triggered"), "both"));
                condition = "both";
            }
        }
        if (condition == null) {
            g.addNode(node("Identity", List.of(bad), spec.outputName()));
        } else {
            if (spec.badOutput == BadOutput.WIDE) {
                throw new IllegalArgumentException("a WIDE output cannot be conditional (Where needs equal widths)");
            }
            g.addNode(node("Where", List.of(condition, bad, good), spec.outputName()));
        }
    }

    private static OnnxMl.TensorProto longTensor(String name, long value) {
        ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(value);
        return OnnxMl.TensorProto.newBuilder()
                .setName(name)
                .setDataType(OnnxMl.TensorProto.DataType.INT64.getNumber())
                .setRawData(ByteString.copyFrom(buf.array()))
                .build();
    }

    /** Adds 0 * sum(tanh chain of 1024x1024 products) to the logits: costly but value-neutral. */
    private static String addSlowChain(OnnxMl.GraphProto.Builder g, int depth, String logits) {
        int n = 1024;
        float[] weights = new float[n * n];
        Random r = new Random(3);
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) (r.nextGaussian() / 32);
        }
        g.addInitializer(floatTensor("slowW", new long[] {n, n}, weights));
        g.addInitializer(floatTensor("slowSeed", new long[] {1, n}, new float[n]));
        g.addInitializer(floatTensor("zero", new long[] {}, new float[] {0f}));
        // [batch, 1] * [1, n] -> [batch, n]: the chain's size grows with the batch.
        g.addNode(node("ReduceSum", List.of("logits0"), "rowsum")
                .addAttribute(intsAttr("axes", 1))
                .addAttribute(intAttr("keepdims", 1)));
        g.addNode(node("Add", List.of("rowsum", "slowSeed"), "slow0"));
        String x = "slow0";
        for (int i = 1; i <= depth; i++) {
            g.addNode(node("MatMul", List.of(x, "slowW"), "mm" + i));
            g.addNode(node("Tanh", List.of("mm" + i), "slow" + i));
            x = "slow" + i;
        }
        g.addNode(node("ReduceSum", List.of(x), "slowsum")
                .addAttribute(intsAttr("axes", 1))
                .addAttribute(intAttr("keepdims", 1)));
        g.addNode(node("Mul", List.of("slowsum", "zero"), "slowzero"));
        g.addNode(node("Add", List.of(logits, "slowzero"), "logits_slow"));
        return "logits_slow";
    }

    private static OnnxMl.NodeProto.Builder reduceSum(String in, String out) {
        return node("ReduceSum", List.of(in), out)
                .addAttribute(intsAttr("axes", 1))
                .addAttribute(intAttr("keepdims", 1));
    }

    private static OnnxMl.NodeProto.Builder node(String op, List<String> inputs, String output) {
        return OnnxMl.NodeProto.newBuilder()
                .setOpType(op)
                .setName(output + "_node")
                .addAllInput(inputs)
                .addOutput(output);
    }

    private static OnnxMl.AttributeProto intAttr(String name, long v) {
        return OnnxMl.AttributeProto.newBuilder()
                .setName(name)
                .setType(OnnxMl.AttributeProto.AttributeType.INT)
                .setI(v)
                .build();
    }

    private static OnnxMl.AttributeProto intsAttr(String name, long... v) {
        OnnxMl.AttributeProto.Builder b =
                OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.INTS);
        for (long x : v) {
            b.addInts(x);
        }
        return b.build();
    }

    private static OnnxMl.TensorProto floatTensor(String name, long[] dims, float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putFloat(v);
        }
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder()
                .setName(name)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber())
                .setRawData(ByteString.copyFrom(buf.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, int elemType, String dim0, String dim1) {
        return valueInfo(name, elemType, dim0, dim1, -1);
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, int elemType, String dim0, String dim1, long fixed1) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(dim0));
        if (dim1 != null) {
            shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(dim1));
        } else {
            shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(fixed1));
        }
        return OnnxMl.ValueInfoProto.newBuilder()
                .setName(name)
                .setType(OnnxMl.TypeProto.newBuilder()
                        .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                                .setElemType(elemType)
                                .setShape(shape)))
                .build();
    }

    /** Convenience: a list of varied texts for tests. */
    public static List<String> sampleTexts(int n) {
        String[] words = {
            "wire",
            "transfer",
            "invoice",
            "payment",
            "shipment",
            "account",
            "cash",
            "deposit",
            "trade",
            "order",
            "client",
            "urgent",
            "refund",
            "crypto",
            "vessel",
            "bonus",
            "salary",
            "rent",
            "loan",
            "fee"
        };
        Random r = new Random(11);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int len = 1 + r.nextInt(40);
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < len; k++) {
                sb.append(words[r.nextInt(words.length)]).append(k % 7 == 6 ? ". " : " ");
            }
            sb.append(i);
            out.add(sb.toString());
        }
        return out;
    }
}
