/**
 * The DataStream API for scoring a stream with a small language model: {@link SlmScoring} builds a micro-batching
 * operator over shared ONNX Runtime sessions and returns a {@link ScoredStream} of {@link Scored} results and
 * {@link ScoringFailure} dead letters, configured through {@link ScoringOptions} (validated into {@link
 * ScoringConfig}), a {@link TextExtractor}, a {@link FailurePolicy} and an {@link OutputMode}. {@link
 * FlinkFileSystemBundleFetcher} lets the runtime's bundle loader read from any Flink file system ({@code s3://},
 * {@code hdfs://}, ...) and is found through {@link java.util.ServiceLoader}. Part of the {@code
 * flink-slm-operators} artifact, which depends on the model runtime ({@code flink-slm-models}) and on Flink
 * (provided) only: a Maven enforcer rule keeps the compliance model, its MiniLM weights and its training libraries
 * out of it, and it knows no connector or screening type. The classes annotated {@code @PublicEvolving} are the
 * API; live model versions are in {@code dev.flinkslm.operators.versions}, and {@code
 * dev.flinkslm.operators.internal} is not API.
 */
package dev.flinkslm.operators;
