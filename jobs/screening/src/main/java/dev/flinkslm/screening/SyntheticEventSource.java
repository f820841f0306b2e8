package dev.flinkslm.screening;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;

/**
 * A Flink source of {@link SyntheticEventGenerator} events for the embedded demo and load tests,
 * built on {@link DataGeneratorSource} (checkpointed by sequence number, so a restored job
 * continues with the next event and emits no duplicates).
 *
 * <pre>{@code
 * DataStream<FinancialEvent> events = env.fromSource(
 *         SyntheticEventSource.builder().seed(42).maxEvents(100_000).eventsPerSecond(500).build(),
 *         WatermarkStrategy.noWatermarks(), "synthetic-events");
 * }</pre>
 *
 * <p>Threading: the builder is not thread-safe; the built source is immutable.
 */
@PublicEvolving
public final class SyntheticEventSource {

    private SyntheticEventSource() {}

    public static Builder builder() {
        return new Builder();
    }

    /** Builder; {@link #build()} validates. */
    public static final class Builder {
        private SyntheticEventGenerator generator;
        private long seed = 42L;
        private long maxEvents = Long.MAX_VALUE;
        private double eventsPerSecond;

        private Builder() {}

        /** Uses a configured generator (otherwise a default one with {@link #seed}). */
        public Builder generator(SyntheticEventGenerator generator) {
            this.generator = generator;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Number of events before the source finishes; unbounded (Long.MAX_VALUE) by default. */
        public Builder maxEvents(long maxEvents) {
            this.maxEvents = maxEvents;
            return this;
        }

        /** Total rate over all subtasks; 0 (default) means as fast as possible. */
        public Builder eventsPerSecond(double eventsPerSecond) {
            this.eventsPerSecond = eventsPerSecond;
            return this;
        }

        public DataGeneratorSource<FinancialEvent> build() {
            if (maxEvents < 0) {
                throw new IllegalArgumentException("maxEvents must not be negative, got " + maxEvents);
            }
            if (!(eventsPerSecond >= 0) || Double.isInfinite(eventsPerSecond)) {
                throw new IllegalArgumentException(
                        "eventsPerSecond must be a finite number >= 0 (0 = unlimited), got " + eventsPerSecond);
            }
            SyntheticEventGenerator gen = generator != null
                    ? generator
                    : SyntheticEventGenerator.builder().seed(seed).build();
            GeneratorFunction<Long, FinancialEvent> fn = gen::generate;
            TypeInformation<FinancialEvent> type = TypeInformation.of(FinancialEvent.class);
            return eventsPerSecond > 0
                    ? new DataGeneratorSource<>(fn, maxEvents, RateLimiterStrategy.perSecond(eventsPerSecond), type)
                    : new DataGeneratorSource<>(fn, maxEvents, type);
        }
    }
}
