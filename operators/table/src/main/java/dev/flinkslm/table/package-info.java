/**
 * Flink SQL support: the {@code onnx-slm} model provider for {@code CREATE MODEL} and {@code ML_PREDICT}.
 *
 * <pre>{@code
 * CREATE MODEL compliance
 *   INPUT (text STRING)
 *   OUTPUT (label STRING, score DOUBLE, model_version STRING)
 *   WITH ('provider' = 'onnx-slm', 'model' = 'default:int8');
 *
 * SELECT id, label, score
 * FROM ML_PREDICT(TABLE events, MODEL compliance, DESCRIPTOR(text),
 *                 MAP['async', 'true', 'max-concurrent-operations', '64']);
 * }</pre>
 */
package dev.flinkslm.table;
