package dev.flinkslm.models.compliance;

import dev.flinkslm.models.compliance.internal.EncoderPatch;
import dev.flinkslm.models.compliance.internal.Resources;

/**
 * Numeric precision of a default-model variant.
 *
 * <p>{@link #INT8} is the CPU default (dynamically quantised encoder, 2-3x faster on CPU);
 * {@link #FP32} is meant for GPUs, whose execution providers do not run the integer ops. Immutable.
 *
 * <pre>{@code
 * Path bundle = DefaultModel.bundleDirectory(Precision.INT8);
 * }</pre>
 */
public enum Precision {
    INT8("int8", "all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json"),
    FP32("fp32", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json");

    private final String tag;
    private final String encoderResource;
    private final String tokenizerResource;

    Precision(String tag, String encoderResource, String tokenizerResource) {
        this.tag = tag;
        this.encoderResource = encoderResource;
        this.tokenizerResource = tokenizerResource;
    }

    /** Lower-case tag used in versions and metadata, e.g. {@code int8}. */
    public String tag() {
        return tag;
    }

    /** Class-path resource (jar root) of the pretrained encoder graph. */
    public String encoderResource() {
        return encoderResource;
    }

    /**
     * The built-in model's encoder graph: the pretrained graph of {@link #encoderResource()} with the upper layers
     * tuned on the compliance corpus ({@link EncoderPatch#BUILT_IN_RESOURCE}) in place. Built on each call.
     */
    public byte[] encoderGraph() {
        return EncoderPatch.apply(Resources.read(encoderResource), Resources.read(EncoderPatch.BUILT_IN_RESOURCE));
    }

    /** Class-path resource (jar root) of the encoder's tokenizer.json. */
    public String tokenizerResource() {
        return tokenizerResource;
    }
}
