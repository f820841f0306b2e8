package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.connectors.DeadLetter;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Counters, interval percentiles, the status line and the summary of embedded runs. */
class ScreeningStatsTest {

    @Test
    void statusLineCoversTheIntervalAndTheSummaryAddsUp() {
        ScreeningStats.reset();
        ScreeningStats.Snapshot start = ScreeningStats.snapshot();
        assertThat(start.statusLine(start)).contains("starting");

        for (int i = 1; i <= 100; i++) {
            ScoredEvent e = scored("e" + i, "fraud", "1");
            e.accountId = "a" + (i % 10);
            e.queueWaitMs = 2;
            e.inferenceMs = i % 2 == 0 ? 3 : 4; // 5 or 6 ms in the scoring step
            ScreeningStats.scored(e, i); // ages 1..100 ms
        }
        ScreeningStats.alert(new Alert(scored("e1", "fraud", "1"), 0.5, 0));
        ScreeningStats.alert(new Alert(scored("e2", "sanctions", "1"), 0.5, 0));
        ScreeningStats.deadLetter(new DeadLetter(), false);
        ScreeningStats.deadLetter(new DeadLetter(), true);
        ScreeningStats.Snapshot first = ScreeningStats.snapshot();
        String line = first.statusLine(start);
        assertThat(line)
                .contains(
                        "scored 100",
                        "dead letters 2",
                        "processing p50 5 ms p99 6 ms",
                        "age p50 50 ms p99 99 ms",
                        "alerts fraud=1 sanctions=1",
                        "models m:1=100 (10 keys)");

        // The next interval only sees its own latencies and versions: a canary's split shows.
        ScoredEvent canary = scored("late", "clear", "2");
        canary.variant = ScoredEvent.VARIANT_CANARY;
        canary.accountId = "a1";
        ScreeningStats.scored(canary, 5_000);
        ScoredEvent active = scored("late2", "clear", "1");
        active.accountId = "a2";
        ScreeningStats.scored(active, 5_000);
        ScreeningStats.Snapshot second = ScreeningStats.snapshot();
        assertThat(second.statusLine(first))
                .contains(
                        "age p50 5000 ms p99 5000 ms",
                        "processing p50 0 ms p99 0 ms",
                        "models m:1=1 (10 keys), m:2/canary=1 (1 keys)",
                        "scored 102");
        assertThat(ScreeningStats.snapshot().statusLine(second)).contains("models m:1 (idle)");

        StringWriter text = new StringWriter();
        second.printSummary(new PrintWriter(text), "finished");
        assertThat(text.toString())
                .contains(
                        "inputs:         104 (scored 102 + dead letters 2: parse 1, scoring 1)",
                        "alerts:         2 fraud=1 sanctions=1",
                        "processing:     p50 5 ms p99 6 ms (in the scoring step: queue wait + inference)",
                        "event age:      p50 51 ms p99 5000 ms (from the record's timestamp to scored)",
                        "model versions: m:1=101 (10 keys), m:2/canary=1 (1 keys)");
    }

    @Test
    void latencyAboveTheHistogramIsReportedAsOverflow() {
        ScreeningStats.reset();
        ScreeningStats.Snapshot start = ScreeningStats.snapshot();
        ScreeningStats.scored(scored("slow", "clear", "1"), 10 * ScreeningStats.MAX_LATENCY_MS);
        assertThat(ScreeningStats.snapshot().statusLine(start))
                .contains("p99 >" + ScreeningStats.MAX_LATENCY_MS + " ms");
    }

    private static ScoredEvent scored(String id, String label, String version) {
        ScoredEvent e = new ScoredEvent();
        e.eventId = id;
        e.label = label;
        e.modelId = "m";
        e.modelVersion = version;
        return e;
    }
}
