/** Internals of the {@code onnx-slm} model provider: the provider, its predict functions and their settings. */
package dev.flinkslm.table.internal;
