package dev.flinkslm.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.models.compliance.ComplianceLabels;
import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.screening.AlertPolicy;
import dev.flinkslm.screening.FinancialEvent;
import dev.flinkslm.screening.ScreeningSchemas;
import dev.flinkslm.screening.SyntheticEventGenerator;
import dev.flinkslm.tests.kafka.KafkaBroker;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Helpers for tests that run the real screening pipeline ({@code ScreeningJob}) with tiny
 * generated models: bundles, scoring options that suit a 2-core machine, JSON reading, polling.
 */
public final class ScreeningTests {

    public static final ObjectMapper JSON = new ObjectMapper();

    private ScreeningTests() {}

    /** Writes a tiny bundle {@code tiny:version} under {@code root/version}. */
    public static Path tinyBundle(Path root, String version, int seed) throws IOException {
        return TinyBundles.write(
                root.resolve("v" + version),
                new TinyBundles.Spec().id("tiny").version(version).seed(seed));
    }

    /** Scoring options for a tiny bundle under {@code root}: CPU, small batches, short waits. */
    public static org.apache.flink.configuration.Configuration scoring(Path bundle, Path root) {
        org.apache.flink.configuration.Configuration c = new org.apache.flink.configuration.Configuration();
        c.set(ScoringOptions.MODEL, bundle.toString());
        c.set(ScoringOptions.MODEL_ROOTS, List.of(root.toString()));
        c.set(ScoringOptions.PROVIDER, ExecutionProvider.CPU);
        c.set(ScoringOptions.MAX_BATCH_SIZE, 16);
        c.set(ScoringOptions.MAX_WAIT, Duration.ofMillis(10));
        return c;
    }

    public static JsonNode json(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The JSON values of every committed record of {@code topic}. */
    public static List<JsonNode> committed(KafkaBroker kafka, String topic) {
        List<JsonNode> nodes = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted(topic, Duration.ofSeconds(30))) {
            nodes.add(json(r.value()));
        }
        return nodes;
    }

    /**
     * Reads {@code topic} (read_committed) until {@code done} holds for its records; fails with what
     * was read when {@code timeout} passes.
     */
    public static List<JsonNode> awaitCommitted(
            KafkaBroker kafka, String topic, Predicate<List<JsonNode>> done, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<JsonNode> nodes = committed(kafka, topic);
        while (!done.test(nodes)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what + " on " + topic
                        + "; have " + nodes.size() + " records");
            }
            Thread.sleep(250);
            nodes = committed(kafka, topic);
        }
        return nodes;
    }

    /** Events {@code from} (inclusive) to {@code to} of the generator, produced to {@code topic}; returns their ids. */
    public static List<String> produceEvents(
            KafkaBroker kafka, String topic, SyntheticEventGenerator generator, int from, int to) {
        List<String> ids = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        for (long i = from; i < to; i++) {
            FinancialEvent e = generator.generate(i);
            ids.add(e.eventId);
            values.add(ScreeningSchemas.financialEvents().serialize(e));
        }
        kafka.produce(topic, values);
        return ids;
    }

    /** Whether the policy alerts on a scored-event JSON record. */
    public static boolean alerts(AlertPolicy policy, JsonNode scored) {
        String label = scored.get("label").asText();
        return !ComplianceLabels.CLEAR.equals(label) && scored.get("score").asDouble() >= policy.thresholdFor(label);
    }
}
