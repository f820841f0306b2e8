/**
 * The machinery behind the built-in compliance model: generation of the labelled training corpus ({@link
 * CorpusGenerator}, {@link LabeledText}), MiniLM tokenization and batched ONNX Runtime scoring for the tooling
 * ({@link EncoderTokenizer}, {@link OrtTextModel}, {@link BundleClassifier}), deterministic training of the softmax
 * head ({@link ComplianceTraining}, {@link HeadTrainer}, {@link SoftmaxHead}), its fusion into the encoder graph
 * ({@link OnnxHeadFusion}), and the writing and checking of bundles ({@link BundleWriter}). Part of the {@code
 * flink-slm-compliance-model} artifact; it depends on the model runtime ({@code dev.flinkslm.models} and its
 * internal helpers), ONNX Runtime, the Hugging Face tokenizers, the MiniLM encoder artifacts and the ONNX
 * protobuf classes, and never on Flink. Not API: the classes serve {@code DefaultModel}, {@code ModelBuild} and
 * {@code ModelEval} in {@code dev.flinkslm.models.compliance} and may change without notice. Streaming jobs never
 * score through them; they use the runtime's {@code ScoringSession}.
 */
package dev.flinkslm.models.compliance.internal;
