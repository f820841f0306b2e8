package dev.flinkslm.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.versions.ModelCommand;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A keyed job on RocksDB under continuous load receives model commands while events flow: a canary
 * for 30% of keys, a shadow for all keys, then a promotion. Every event is scored exactly once, the
 * canary is sticky and hits its share, the shadow never changes a served result, and after the
 * promotion every key is served by the promoted version.
 */
class ModelVersionsITCase {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    static final ConcurrentLinkedQueue<String[]> RESULTS = new ConcurrentLinkedQueue<>();
    static final ConcurrentLinkedQueue<String[]> SHADOWS = new ConcurrentLinkedQueue<>();
    static final ConcurrentLinkedQueue<String> AUDIT = new ConcurrentLinkedQueue<>();

    @TempDir
    Path tmp;

    @Test
    void canaryShadowAndPromotionUnderLoad() throws Exception {
        Path roots = tmp.resolve("models");
        Path v1 = TinyBundles.write(
                roots.resolve("v1"), new TinyBundles.Spec().id("m").version("1").seed(7));
        Path v2 = TinyBundles.write(
                roots.resolve("v2"), new TinyBundles.Spec().id("m").version("2").seed(99));
        Path v3 = TinyBundles.write(
                roots.resolve("v3"), new TinyBundles.Spec().id("m").version("3").seed(5));
        int n = 3_000;
        int keys = 300;

        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(500);

        DataStream<String> events = env.fromSource(
                new DataGeneratorSource<>(
                        i -> "acct-" + (i % keys) + "|e" + i + " wire transfer " + (i * 7 % 5000) + " EUR",
                        n,
                        RateLimiterStrategy.perSecond(500),
                        Types.STRING),
                WatermarkStrategy.noWatermarks(),
                "events");
        List<ModelCommand> commands = List.of(
                ModelCommand.of("noop", ModelCommand.Action.RETIRE, "m", "9"),
                ModelCommand.deploy("canary", v2.toUri().toString(), ModelCommand.Role.CANARY)
                        .percent(30),
                ModelCommand.deploy("shadow", v3.toUri().toString(), ModelCommand.Role.SHADOW),
                ModelCommand.of("promote", ModelCommand.Action.PROMOTE, "m", "2"));
        DataStream<ModelCommand> control = env.fromSource(
                        new DataGeneratorSource<>(
                                i -> commands.get(i.intValue()),
                                commands.size(),
                                RateLimiterStrategy.perSecond(0.8),
                                SlmScoring.COMMAND_TYPE),
                        WatermarkStrategy.noWatermarks(),
                        "commands")
                .setParallelism(1);

        ScoredStream<String> scored = SlmScoring.<String>builder()
                .text(s -> s.substring(s.indexOf('|') + 1))
                .model(v1.toString())
                .modelRoots(roots.toString())
                .maxBatchSize(8)
                .maxWait(Duration.ofMillis(10))
                .controlStream(control)
                .build()
                .apply(events.keyBy(s -> s.substring(0, s.indexOf('|'))));

        RESULTS.clear();
        SHADOWS.clear();
        AUDIT.clear();
        scored.results()
                .map(r -> new String[] {r.element, r.modelVersion, r.variant, r.label})
                .returns(Types.OBJECT_ARRAY(Types.STRING))
                .sinkTo(new Collect(0));
        scored.shadowResults()
                .map(r -> new String[] {r.element, r.shadowModel, r.servedModel, r.servedLabel})
                .returns(Types.OBJECT_ARRAY(Types.STRING))
                .sinkTo(new Collect(1));
        scored.audit().map(a -> a.commandId + ":" + a.outcome).sinkTo(new CollectStrings());
        env.execute("model versions under load");

        // every event scored exactly once
        Map<String, Integer> counts = new HashMap<>();
        for (String[] r : RESULTS) {
            counts.merge(r[0], 1, Integer::sum);
        }
        assertThat(counts).hasSize(n);
        assertThat(counts.values()).containsOnly(1);
        // one decision per command; every subtask reports READY for each accepted one
        assertThat(AUDIT)
                .filteredOn(a -> a.endsWith(":ACCEPTED") || a.endsWith(":REJECTED"))
                .containsExactlyInAnyOrder("noop:REJECTED", "canary:ACCEPTED", "shadow:ACCEPTED", "promote:ACCEPTED");
        assertThat(AUDIT)
                .filteredOn(a -> a.endsWith(":READY"))
                .containsExactlyInAnyOrder(
                        "canary:READY",
                        "canary:READY",
                        "shadow:READY",
                        "shadow:READY",
                        "promote:READY",
                        "promote:READY");

        // per key, in the order the operator saw the key's events (ordered output, key-partitioned):
        // active v1 -> (canary v2 for its share) -> active v2, never back
        Map<String, List<String[]>> byKey = new HashMap<>();
        for (String[] r : RESULTS) {
            byKey.computeIfAbsent(r[0].substring(0, r[0].indexOf('|')), k -> new ArrayList<>())
                    .add(r);
        }
        Set<String> canaryKeys = new HashSet<>();
        for (Map.Entry<String, List<String[]>> e : byKey.entrySet()) {
            int stage = 0; // 0 = v1 active, 1 = v2 canary, 2 = v2 active
            for (String[] r : e.getValue()) {
                int s = r[1].equals("1") && r[2].equals("active")
                        ? 0
                        : r[1].equals("2") && r[2].equals("canary")
                                ? 1
                                : r[1].equals("2") && r[2].equals("active") ? 2 : -1;
                assertThat(s).as("%s scored by %s/%s", r[0], r[1], r[2]).isGreaterThanOrEqualTo(0);
                assertThat(s).as("versions never go back for " + e.getKey()).isGreaterThanOrEqualTo(stage);
                stage = s;
                if (s == 1) {
                    canaryKeys.add(e.getKey());
                }
            }
            List<String[]> results = e.getValue();
            assertThat(results.get(results.size() - 1)[1])
                    .as("after the promotion " + e.getKey())
                    .isEqualTo("2");
        }
        assertThat(canaryKeys.size()).isBetween((int) (keys * 0.2), (int) (keys * 0.4));

        // the shadow scored on the side and never served
        assertThat(SHADOWS).isNotEmpty();
        assertThat(SHADOWS).allSatisfy(s -> assertThat(s[1]).isEqualTo("m:3"));
        assertThat(RESULTS).noneSatisfy(r -> assertThat(r[1]).isEqualTo("3"));
        Map<String, String> served = new HashMap<>();
        for (String[] r : RESULTS) {
            served.put(r[0], "m:" + r[1] + "/" + r[3]);
        }
        for (String[] s : SHADOWS) {
            assertThat(served.get(s[0])).isEqualTo(s[2] + "/" + s[3]);
        }
    }

    /** Collects into the static queues of this test (same JVM as the MiniCluster). */
    static final class Collect implements Sink<String[]>, Serializable {
        private final int target;

        Collect(int target) {
            this.target = target;
        }

        @Override
        public SinkWriter<String[]> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(String[] element, Context ctx) {
                    (target == 0 ? RESULTS : SHADOWS).add(element);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }

    static final class CollectStrings implements Sink<String>, Serializable {
        @Override
        public SinkWriter<String> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(String element, Context ctx) {
                    AUDIT.add(element);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
