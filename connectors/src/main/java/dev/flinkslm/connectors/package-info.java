/**
 * Generic IO for flink-slm jobs: Kafka and JSON-lines file sources that emit unparsed {@link RawEvent}s with their
 * {@link SourcePosition} ({@link KafkaEventSource}, {@link KafkaCommandSource}, {@link EventFileSource}), Kafka
 * and file sinks for any record type ({@link KafkaResultSink}, {@link FileResultSink}), JSON serialization schemas
 * ({@link JsonSchemas}), the {@link DeadLetter} envelope with its {@link DeadLetterReason}, typed options ({@link
 * ConnectorOptions}, {@link StartingOffsets}, {@link KafkaClientProperties}), and the masking of secrets in
 * messages and logs ({@link Redaction}). Part of the {@code flink-slm-connectors} artifact, which depends on
 * Flink's file and Kafka connectors, the Kafka clients and Jackson, and on no other flink-slm module. It holds no
 * domain types: payloads stay bytes, and turning them into typed events is the job's parser's task (the screening
 * module's, for instance). The classes annotated {@code @PublicEvolving} are the API; {@code
 * dev.flinkslm.connectors.internal} is not.
 */
package dev.flinkslm.connectors;
