package dev.flinkslm.jobs;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Sends one model command to a command topic and waits until the brokers acknowledged it. Stateless. */
final class CommandPublisher {

    /** How long a send may take before it is reported as failed. */
    static final long TIMEOUT_SECONDS = 30;

    private CommandPublisher() {}

    /**
     * Sends {@code json} keyed by {@code key} with {@code acks=all} and idempotence.
     *
     * @return where it was written, {@code topic-partition@offset}
     * @throws Exception naming why the brokers did not take it within {@value #TIMEOUT_SECONDS} s
     */
    static String send(String bootstrap, String topic, String key, String json) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS)));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS)));
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            RecordMetadata m =
                    producer.send(new ProducerRecord<>(topic, key, json)).get(TIMEOUT_SECONDS + 5, TimeUnit.SECONDS);
            return m.topic() + "-" + m.partition() + "@" + m.offset();
        } catch (ExecutionException e) {
            throw new Exception(
                    e.getCause() == null ? e.toString() : e.getCause().toString(), e);
        } catch (TimeoutException e) {
            throw new Exception("no acknowledgement from " + bootstrap + " within " + TIMEOUT_SECONDS + " s", e);
        }
    }
}
