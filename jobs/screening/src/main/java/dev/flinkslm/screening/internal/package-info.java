/**
 * Implementation pieces of the screening module: {@link ParseEventsFunction}, the stateless process function
 * behind {@code EventParsing} that sends valid events to the main output and the rest to the dead-letter side
 * output, and {@link Phrasebook}, the invented vocabulary and templates from which {@code SyntheticEventGenerator}
 * composes its texts. Part of the {@code flink-slm-screening} artifact; it depends on the public screening types,
 * the connectors' {@code RawEvent} and {@code DeadLetter}, and Flink's DataStream API. Not API: both classes are
 * annotated {@code @Internal} and may change without notice; use {@code EventParsing} and {@code
 * SyntheticEventGenerator} instead.
 */
package dev.flinkslm.screening.internal;
