/**
 * Implementation helpers of the connectors: the file format that reads JSON lines into {@code RawEvent}s carrying
 * path and line number ({@link JsonLinesFormat}), the Kafka deserializer that wraps every record, whatever its
 * bytes, into a {@code RawEvent} ({@link RawRecordDeserializer}), the connection settings and checks shared by the
 * Kafka builders ({@link KafkaSettings}), and the hand-written JSON layouts of the connector records ({@link
 * JsonWriters}). Part of the {@code flink-slm-connectors} artifact; it depends on {@code dev.flinkslm.connectors},
 * Flink's file and Kafka connectors and Jackson, and on no other flink-slm module. Not API: every class is
 * annotated {@code @Internal}, is reached through the builders and schemas of {@code dev.flinkslm.connectors}, and
 * may change without notice.
 */
package dev.flinkslm.connectors.internal;
