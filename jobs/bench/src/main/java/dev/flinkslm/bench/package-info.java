/**
 * The benchmarks of {@code flink-slm bench}: {@link BenchCommand} is the picocli {@code bench} command and its
 * {@code throughput} benchmark, which compares the scoring operator in a Flink job with the plain-Java ceiling of
 * tokenizer and session and with a naive per-record map, all on the same texts and model in one run; {@link
 * BenchLatency} ({@code bench latency}) compares the end-to-end latency of the operator at its default settings
 * with the naive map at 10, 50 and 90 % of the operator's sustainable rate; {@link BenchSwap} ({@code bench swap})
 * changes live model versions under a sustained load and checks every result against the semantics in {@code
 * docs/model-versions.md}. {@link Approaches} holds the ceiling, operator and naive jobs that throughput and latency
 * share, and {@link Rounds} the interleaved rounds every benchmark measures in (median and range of each figure).
 * They run embedded Flink jobs one at a time in the current JVM and are not meant to run inside a Flink cluster. Part of the {@code flink-slm-bench} artifact, which
 * depends on the screening module (and through it on the operators, the connectors and the model runtime) and on
 * picocli, with Flink provided; only the CLI module depends on it. The classes are tooling, not API: {@link
 * BenchCommand} is annotated {@code @Internal}, the other classes are package-private, and all may change without
 * notice.
 */
package dev.flinkslm.bench;
