/**
 * The public types of live model versions on a scoring operator: {@link ModelCommand}, the strictly parsed JSON
 * command of the control stream (deploy as active, canary or shadow, promote, roll back, retire); {@link
 * ModelAudit}, one record of the audit trail; {@link ShadowResult}, a shadow version's answer next to the served
 * one; {@link VersionsConfig}, the validated bounds of the rule log and the loader; and {@link
 * MissingArtifactPolicy}, for versions named by restored state that can no longer be loaded; and {@link
 * KeyShares}, which keys a percent deployment covers, as the operator decides it. A job enables them
 * with {@code SlmScoring.Builder#controlStream}; what each command does is defined in {@code
 * docs/model-versions.md}. Part of the {@code flink-slm-operators} artifact; the types depend on Flink's
 * annotations and configuration, on Jackson and (KeyShares) on the routing code they expose, and hold no model bytes, connector or screening types. All of
 * them are {@code @PublicEvolving}; the rule log, admission and routing behind them are in {@code
 * dev.flinkslm.operators.internal.versions}, which is not API.
 */
package dev.flinkslm.operators.versions;
