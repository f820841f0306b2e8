package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/**
 * An unparsed input record: the bytes as read plus where and when they were read.
 *
 * <p>Sources emit {@code RawEvent}s without interpreting the bytes, so that a malformed record can
 * never fail a source; a parser downstream turns them into typed events or {@link DeadLetter}s
 * that keep the {@link SourcePosition}. A Flink POJO.
 *
 * <pre>{@code
 * RawEvent raw = new RawEvent(bytes, SourcePosition.kafka("events", 0, 42L), System.currentTimeMillis());
 * String where = raw.source.toString();                     // kafka:events/0@42
 * }</pre>
 *
 * <p>Threading: a mutable value object, confined to one thread at a time.
 */
@PublicEvolving
public class RawEvent implements Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * The record bytes; may be a prefix of the original when the source had to cut an oversized
     * record (then {@link #size} is larger than {@code value.length}). Null for a Kafka tombstone.
     */
    public byte[] value;
    /** Size in bytes of the original record, which the parser checks against its size limit. */
    public long size;
    /** Where the record was read. */
    public SourcePosition position;
    /** Wall-clock time (epoch ms) when the source read the record; the event time of last resort. */
    public long receivedAt;

    public RawEvent() {}

    public RawEvent(byte[] value, SourcePosition position, long receivedAt) {
        this(value, value == null ? 0 : value.length, position, receivedAt);
    }

    public RawEvent(byte[] value, long size, SourcePosition position, long receivedAt) {
        this.value = value;
        this.size = size;
        this.position = position;
        this.receivedAt = receivedAt;
    }

    @Override
    public String toString() {
        // Never the bytes: they are customer data.
        return "RawEvent{" + size + " bytes from " + position + "}";
    }
}
