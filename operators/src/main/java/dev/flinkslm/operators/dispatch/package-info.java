/**
 * The per-TaskManager {@link BatchDispatcher}: joins the micro-batches (or single rows) that scoring operators
 * and SQL model functions of one JVM submit for the same session into joint session runs. Part of the {@code
 * flink-slm-operators} artifact; it uses the model runtime's sessions and the operators' inference runtime.
 */
package dev.flinkslm.operators.dispatch;
