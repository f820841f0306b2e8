package dev.flinkslm.connectors;

import static org.apache.flink.configuration.description.TextElement.text;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.DescribedEnum;
import org.apache.flink.configuration.description.InlineElement;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * Where a Kafka source starts reading when it has no checkpointed position.
 *
 * <p>Threading: immutable.
 */
@PublicEvolving
public enum StartingOffsets implements DescribedEnum {
    EARLIEST("The earliest offset of every partition."),
    LATEST("The end of every partition: only records produced after the job starts."),
    COMMITTED("The consumer group's committed offsets; partitions without one start at the earliest offset.");

    private final String description;

    StartingOffsets(String description) {
        this.description = description;
    }

    @Override
    public InlineElement getDescription() {
        return text(description);
    }

    @SuppressWarnings("deprecation") // OffsetResetStrategy is the type the connector's API takes
    OffsetsInitializer toInitializer() {
        switch (this) {
            case EARLIEST:
                return OffsetsInitializer.earliest();
            case LATEST:
                return OffsetsInitializer.latest();
            case COMMITTED:
            default:
                return OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        }
    }
}
