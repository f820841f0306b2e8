/**
 * The implementation of live model versions: the {@link RuleLog}, a replicated state machine of deployments kept
 * in broadcast state and written by {@link RuleLogSerializer}; the routing fold's answer per key ({@link Target},
 * cached in keyed state as a {@link KeyAssignment}); deployment scopes ({@link Scope}) and the bounds of the log
 * ({@link ControlLimits}); the admission stage that loads and checks a DEPLOY's bundle once before commands are
 * broadcast ({@link Admission}, {@link CommandAdmission}, {@link AdmittedCommand}); and the {@link
 * VersionedRouter}, which routes elements by the log and keeps the versions it needs loaded on each subtask. Part
 * of the {@code flink-slm-operators} artifact; it depends on the public command types of {@code
 * dev.flinkslm.operators.versions}, the operator internals of {@code dev.flinkslm.operators.internal}, the model
 * runtime and Flink's state and serializer APIs. Not API: every class is annotated {@code @Internal} and may
 * change without notice; jobs send {@code ModelCommand}s and read the outcome from {@code ModelAudit} records.
 */
package dev.flinkslm.operators.internal.versions;
