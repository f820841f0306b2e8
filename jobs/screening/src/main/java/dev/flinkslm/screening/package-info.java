/**
 * The compliance screening domain and its reusable Flink pipeline: validated {@link FinancialEvent}s and their
 * {@link EventKind}, the strict {@link EventParser} with its {@link ParseResult} and the {@link EventParsing} stage
 * that dead-letters bad records, {@link ScoredEvent}s and the {@link AlertPolicy} that turns them into {@link
 * Alert}s, the JSON layouts and sinks of the results ({@link ScreeningSchemas}, {@link ScreeningSinks}), the
 * deterministic {@link SyntheticEventGenerator} with its {@link SyntheticEventSource}, and {@link ScreeningJob},
 * which wires sources, parsing, scoring with live model versions, alerts and sinks from a {@link ScreeningConfig}
 * and {@link ScreeningOptions}. Part of the {@code flink-slm-screening} artifact, which depends on the operators,
 * the connectors and the compliance model's label set, with Flink provided by the cluster. It contains no
 * command-line code: the CLI's {@code screen} command and the benchmarks build on it, never the reverse. The
 * classes annotated {@code @PublicEvolving} are the API ({@link ScreeningStats}, the in-JVM counters of embedded
 * runs, is {@code @Internal}); {@code dev.flinkslm.screening.internal} is not API.
 */
package dev.flinkslm.screening;
