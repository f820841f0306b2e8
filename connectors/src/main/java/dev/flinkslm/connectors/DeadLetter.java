package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/**
 * A record that could not be processed, with the reason and where it came from.
 *
 * <p>Written as JSON by {@link JsonSchemas#deadLetters()}:
 *
 * <pre>{@code
 * {"reason":"MISSING_FIELD","message":"eventId is required",
 *  "source":{"system":"kafka","name":"events","partition":0,"offset":17},
 *  "deadLetteredAt":"2026-11-27T05:00:00Z","payloadSize":57,"payloadTruncated":false,
 *  "payloadBase64":"eyJhY2NvdW50SWQiOi..."}
 * }</pre>
 *
 * <p>{@link #payload} holds the original bytes, cut to the configured maximum (see
 * {@link ConnectorOptions#DEAD_LETTER_MAX_PAYLOAD}) so that a dead letter always fits in a Kafka
 * record; {@link #payloadSize} is the original size. {@link #message} never quotes the event text.
 *
 * <p>A Flink POJO. Threading: a mutable value object, confined to one thread at a time.
 */
@PublicEvolving
public class DeadLetter implements Serializable {

    private static final long serialVersionUID = 1L;

    public byte[] payload;
    /** Size in bytes of the original record. */
    public long payloadSize;

    public DeadLetterReason reason;
    /** Human-readable detail, e.g. {@code "eventId is required"}. */
    public String message;

    public SourcePosition source;
    /** Epoch milliseconds. */
    public long deadLetteredAt;

    public DeadLetter() {}

    public DeadLetter(
            byte[] payload,
            long payloadSize,
            DeadLetterReason reason,
            String message,
            SourcePosition source,
            long deadLetteredAt) {
        this.payload = payload;
        this.payloadSize = payloadSize;
        this.reason = reason;
        this.message = message;
        this.source = source;
        this.deadLetteredAt = deadLetteredAt;
    }

    /** True when {@link #payload} is a prefix of the original record. */
    public boolean isPayloadTruncated() {
        return payload == null ? payloadSize > 0 : payload.length < payloadSize;
    }

    /** {@code REASON: message}, the form used in logs and exceptions. */
    public String describe() {
        return reason + ": " + message;
    }

    @Override
    public String toString() {
        return "DeadLetter{" + describe() + " at " + source + "}";
    }
}
