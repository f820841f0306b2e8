package dev.flinkslm.connectors.internal;

import dev.flinkslm.connectors.RawEvent;
import dev.flinkslm.connectors.SourcePosition;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Wraps every Kafka record, whatever its bytes, into a {@link RawEvent}. It cannot fail, so a
 * poison record can never put the source into a restart loop; parsing happens downstream where
 * failures become dead letters.
 *
 * <p>Threading: called by the source reader's thread only.
 */
@Internal
public final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawEvent> {

    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawEvent> out) {
        out.collect(new RawEvent(
                record.value(),
                SourcePosition.kafka(record.topic(), record.partition(), record.offset()),
                System.currentTimeMillis()));
    }

    @Override
    public TypeInformation<RawEvent> getProducedType() {
        return TypeInformation.of(RawEvent.class);
    }
}
