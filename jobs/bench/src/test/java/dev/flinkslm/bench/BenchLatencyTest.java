package dev.flinkslm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How {@code bench latency} reads one run's results, and its targets line. */
class BenchLatencyTest {

    private static final long T0 = 5_000_000_000L;

    /**
     * Samples {index, latency µs, result ns} of events created every {@code 1000 / rate} ms for
     * {@code seconds}, each with latency {@code latencyMs.at(i)}.
     */
    private static List<long[]> samples(int rate, int seconds, LatencyAt latencyMs) {
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < rate * seconds; i++) {
            long created = T0 + i * 1_000_000_000L / rate;
            long latency = latencyMs.at(i) * 1_000_000;
            out.add(new long[] {i, latency / 1000, created + latency});
        }
        return out;
    }

    interface LatencyAt {
        long at(int index);
    }

    @Test
    void aSteadyRunIsMeasuredAfterWarmUp() {
        // The first second (100 events) is slow warm-up; afterwards 10 ms, and 40 ms for 1 in 50.
        List<long[]> s = samples(100, 10, i -> i < 100 ? 500 : i % 50 == 0 ? 40 : 10);
        BenchLatency.LatencyRun run = BenchLatency.LatencyRun.of("op", 100, 1000, s, 1500);
        assertThat(run.scored()).isEqualTo(1000);
        assertThat(run.duplicated()).isZero();
        assertThat(run.measured()).isEqualTo(850);
        assertThat(run.p50Ms()).isEqualTo(10);
        assertThat(run.p99Ms()).isEqualTo(40);
        assertThat(run.achievedRate()).isBetween(99.0, 101.0);
        assertThat(run.queueing()).isFalse();
        assertThat(run.behindScheduleMs()).isLessThan(1.0);
    }

    @Test
    void aHeldBackSourceCountsTheWaitFromEachEventsScheduledTime() {
        // Offered 100/s, created at 80/s, 5 ms from creation each: event i was due at i x 10 ms but
        // created at i x 12.5 ms, so its latency from its due time is 5 ms + i x 2.5 ms.
        BenchLatency.LatencyRun run = BenchLatency.LatencyRun.of("naive", 100, 800, samples(80, 10, i -> 5), 0);
        assertThat(run.p50Ms()).isCloseTo(5 + 399 * 2.5, within(1.0));
        assertThat(run.p99Ms()).isCloseTo(5 + 791 * 2.5, within(1.0));
    }

    @Test
    void aRunWithoutResultsHasNoLatencyAndMeetsNoTarget() {
        BenchLatency.LatencyRun lost = BenchLatency.LatencyRun.of("operator", 100, 1000, List.of(), 1500);
        BenchLatency.LatencyRun naive = BenchLatency.LatencyRun.of("naive", 100, 1000, samples(100, 10, i -> 5), 1500);
        assertThat(lost.p99Ms()).isNaN();
        double ratio = Rounds.ratio(lost.p99Ms(), naive.p99Ms());
        Map<String, Rounds.Spread> last = new LinkedHashMap<>();
        last.put(BenchLatency.LOW_KEY, Rounds.Spread.of(List.of(0.9, ratio, 1.0)));
        last.put(BenchLatency.MID_KEY, Rounds.Spread.of(List.of(1.0, 1.0, 1.0)));
        last.put(BenchLatency.SATURATED_KEY, Rounds.Spread.of(List.of(1.0, 1.0, 1.0)));
        assertThat(BenchLatency.targets(last))
                .startsWith("targets: low_load_p99_vs_naive<=1.5 NOT MET (a round had no results),");
        assertThat(Rounds.lastLine(last, "%.3f")).startsWith("low_load_p99_vs_naive=NaN ");
    }

    @Test
    void deliveringBelowTheOfferedRateIsQueueing() {
        // Created at 80/s although 100/s were offered: the source was held back.
        BenchLatency.LatencyRun run = BenchLatency.LatencyRun.of("naive", 100, 800, samples(80, 10, i -> 5), 1500);
        assertThat(run.achievedRate()).isBetween(79.0, 81.0);
        // 799 gaps of 12.5 ms instead of 10 ms: the last event was created 2 s behind schedule.
        assertThat(run.behindScheduleMs()).isCloseTo(1997.5, within(0.01));
        assertThat(run.queueing()).isTrue();
        assertThat(run.queueReason()).isEqualTo("achieved 0.800 of the offered rate");
    }

    @Test
    void latencyGrowingThroughTheRunIsQueueing() {
        BenchLatency.LatencyRun growing =
                BenchLatency.LatencyRun.of("op", 100, 1000, samples(100, 10, i -> 5 + (long) i * i / 5000), 1500);
        assertThat(growing.queueing()).isTrue();
        assertThat(growing.queueReason()).startsWith("p50 grew from");
        // A doubling by a few ms is noise at these latencies, not a queue.
        BenchLatency.LatencyRun small =
                BenchLatency.LatencyRun.of("op", 100, 1000, samples(100, 10, i -> i < 500 ? 2 : 5), 1500);
        assertThat(small.queueing()).isFalse();
    }

    @Test
    void duplicatesAndLossesAreCounted() {
        List<long[]> s = new ArrayList<>(samples(100, 2, i -> 5));
        s.remove(10);
        s.add(s.get(20).clone());
        BenchLatency.LatencyRun run = BenchLatency.LatencyRun.of("op", 100, 200, s, 500);
        assertThat(run.offered()).isEqualTo(200);
        assertThat(run.scored()).isEqualTo(199);
        assertThat(run.duplicated()).isEqualTo(1);
    }

    @Test
    void theTargetsLineSaysWhichTargetWasMet() {
        Map<String, Rounds.Spread> last = new LinkedHashMap<>();
        last.put(BenchLatency.LOW_KEY, new Rounds.Spread(4.2, 3.9, 6.0, 3));
        last.put(BenchLatency.MID_KEY, new Rounds.Spread(1.9, 1.5, 2.3, 3));
        last.put(BenchLatency.SATURATED_KEY, new Rounds.Spread(0.95, 0.9, 1.1, 3));
        assertThat(BenchLatency.targets(last))
                .isEqualTo("targets: low_load_p99_vs_naive<=1.5 NOT MET, mid_load_p99_vs_naive<=2.0 met,"
                        + " saturated_vs_ceiling>=0.90 met");
        assertThat(Rounds.lastLine(last, "%.3f"))
                .isEqualTo("low_load_p99_vs_naive=4.200 mid_load_p99_vs_naive=1.900 saturated_vs_ceiling=0.950");
    }
}
