package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.Objects;

/**
 * Where a record came from: a Kafka topic/partition/offset or a file path/line number.
 *
 * <p>Carried by {@link RawEvent} and {@link DeadLetter} so that a rejected record can be found
 * again at its source. It is a Flink POJO (public no-arg constructor, public fields).
 *
 * <pre>{@code
 * SourcePosition p = SourcePosition.kafka("payments", 3, 1042L);
 * SourcePosition f = SourcePosition.file("/data/events.jsonl", 17L);
 * }</pre>
 *
 * <p>Threading: a mutable value object; do not share an instance between threads while mutating it.
 */
@PublicEvolving
public class SourcePosition implements Serializable {

    private static final long serialVersionUID = 1L;

    /** {@link #system} of a Kafka record. */
    public static final String KAFKA = "kafka";
    /** {@link #system} of a line of a file. */
    public static final String FILE = "file";
    /** {@link #system} of a generated record (the synthetic demo source). */
    public static final String GENERATOR = "generator";

    /** One of {@link #KAFKA}, {@link #FILE}, {@link #GENERATOR}. */
    public String system;
    /** Topic name, file path or generator name. */
    public String name;
    /** Kafka partition; -1 for files and generators. */
    public int partition = -1;
    /** Kafka offset, 1-based line number of a file, or the generator's sequence number. */
    public long offset = -1L;

    public SourcePosition() {}

    public SourcePosition(String system, String name, int partition, long offset) {
        this.system = system;
        this.name = name;
        this.partition = partition;
        this.offset = offset;
    }

    public static SourcePosition kafka(String topic, int partition, long offset) {
        return new SourcePosition(KAFKA, topic, partition, offset);
    }

    public static SourcePosition file(String path, long lineNumber) {
        return new SourcePosition(FILE, path, -1, lineNumber);
    }

    public static SourcePosition generator(String name, long sequence) {
        return new SourcePosition(GENERATOR, name, -1, sequence);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof SourcePosition)) {
            return false;
        }
        SourcePosition that = (SourcePosition) o;
        return partition == that.partition
                && offset == that.offset
                && Objects.equals(system, that.system)
                && Objects.equals(name, that.name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(system, name, partition, offset);
    }

    @Override
    public String toString() {
        if (FILE.equals(system)) {
            return "file " + name + " line " + offset;
        }
        if (KAFKA.equals(system)) {
            return "kafka " + name + "-" + partition + "@" + offset;
        }
        return system + " " + name + "#" + offset;
    }
}
