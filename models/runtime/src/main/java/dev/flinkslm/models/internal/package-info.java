/**
 * Implementation helpers of the model runtime: SHA-256 digests ({@link Digests}), private cache directories and
 * recursive deletion ({@link FileTrees}), the protobuf-level check that an ONNX graph is self-contained ({@link
 * GraphCheck}), the {@code file:} bundle fetcher with bounded archive unpacking ({@link LocalBundleFetcher}), and
 * the choice of ONNX Runtime execution provider with its fallback to CPU ({@link Providers}). Part of the {@code
 * flink-slm-models} artifact; like the rest of that module it uses ONNX Runtime, protobuf and SLF4J, and neither
 * Flink, nor any domain type, nor any other flink-slm module. Not API: the classes are public only so that the
 * runtime and the other flink-slm modules (the compliance model, the operators' file-system fetcher, the
 * benchmarks) can share them, and they may change or disappear without notice. Applications use {@code
 * dev.flinkslm.models}.
 */
package dev.flinkslm.models.internal;
