/**
 * The built-in compliance model: the MiniLM-L6 encoder fused with a head trained by this project
 * (labels {@code clear}, {@code sanctions}, {@code structuring}, {@code fraud}, {@code market_abuse}),
 * built into the model cache on first use and served as the {@code default:int8} and {@code
 * default:fp32} bundles by {@link dev.flinkslm.models.compliance.DefaultBundleFetcher} (registered with
 * {@link java.util.ServiceLoader}); plus its corpus, training and evaluation tooling ({@code model
 * build}, {@code model eval}). Depends on the model runtime; nothing in the runtime or the operators
 * depends on it. {@code dev.flinkslm.models.compliance.internal} is not API.
 */
package dev.flinkslm.models.compliance;
