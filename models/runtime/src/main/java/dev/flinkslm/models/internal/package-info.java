/**
 * Implementation helpers of the model runtime: the protobuf-level check that an ONNX graph is self-contained
 * ({@link GraphCheck}), the {@code file:} bundle fetcher with bounded archive unpacking ({@link
 * LocalBundleFetcher}), and the choice of ONNX Runtime execution provider with its fallback to CPU ({@link
 * Providers}). Part of the {@code flink-slm-models} artifact; like the rest of that module it uses ONNX Runtime,
 * protobuf and SLF4J, and neither Flink, nor any domain type, nor any other flink-slm module. Not API, and used by
 * no other module (a layout test checks it): the classes may change or disappear without notice. Applications and
 * fetcher implementations use {@code dev.flinkslm.models}, which includes the {@code Digests} and {@code FileTrees}
 * helpers.
 */
package dev.flinkslm.models.internal;
