/**
 * The model runtime, plain Java without Flink or any domain: model bundles ({@link
 * dev.flinkslm.models.BundleLoader}, {@link dev.flinkslm.models.ModelManifest}) and their verification
 * (checksums on the bytes that run, strict manifests, roots, limits, a self-contained graph), ONNX
 * Runtime sessions on CPU or CUDA shared per JVM ({@link dev.flinkslm.models.SessionCache}),
 * tokenization with windows for long texts, output validation, and the {@link
 * dev.flinkslm.models.BundleFetcher} SPI through which other locations and built-in models plug in.
 * {@code dev.flinkslm.models.internal} is not API.
 */
package dev.flinkslm.models;
