/**
 * The implementation of the scoring operators: {@link ScoringCore}, the data path both share (tokenisation,
 * micro-batching, inference with timeouts, retries and a circuit breaker, ordered or unordered output, pending
 * elements in checkpointed state); the thin operator shells {@link ScoringOperator} (one fixed model version) and
 * {@link VersionedScoringOperator} (live versions from a broadcast command input) with their factories; the {@link
 * ModelRouter} that picks the model slot of each element; and the thread pools, metrics and version loading they
 * use. Part of the {@code flink-slm-operators} artifact; it builds on Flink's stream operator runtime, the model
 * runtime's shared sessions and the version logic in {@code dev.flinkslm.operators.internal.versions}, and on no
 * connector or screening type. Not API: the public classes are annotated {@code @Internal} (the others are
 * package-private), are created only through {@code SlmScoring}, and may change without notice.
 */
package dev.flinkslm.operators.internal;
