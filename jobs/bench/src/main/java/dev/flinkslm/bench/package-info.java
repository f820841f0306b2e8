/**
 * The benchmarks of {@code flink-slm bench}: {@link BenchCommand} is the picocli {@code bench} command and its
 * {@code throughput} benchmark, which compares the scoring operator in a Flink job with the plain-Java ceiling of
 * tokenizer and session and with a naive per-record map, all on the same texts and model in one run; {@link
 * BenchSwap} ({@code bench swap}) changes live model versions under a sustained load and checks every result
 * against the semantics in {@code docs/model-versions.md}. Both run embedded Flink jobs one at a time in the
 * current JVM and are not meant to run inside a Flink cluster. Part of the {@code flink-slm-bench} artifact, which
 * depends on the screening module (and through it on the operators, the connectors and the model runtime) and on
 * picocli, with Flink provided; only the CLI module depends on it. The classes are tooling, not API: {@link
 * BenchCommand} is annotated {@code @Internal}, {@link BenchSwap} is package-private, and both may change without
 * notice.
 */
package dev.flinkslm.bench;
