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
            ScreeningStats.scored(scored("e" + i, "fraud", "1"), i); // latencies 1..100 ms
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
                        "p50 50 ms p99 99 ms",
                        "alerts fraud=1 sanctions=1",
                        "model m:1");

        // The next interval only sees its own latencies.
        ScreeningStats.scored(scored("late", "clear", "2"), 5_000);
        ScreeningStats.Snapshot second = ScreeningStats.snapshot();
        assertThat(second.statusLine(first)).contains("p50 5000 ms p99 5000 ms", "model m:2", "scored 101");

        StringWriter text = new StringWriter();
        second.printSummary(new PrintWriter(text), "finished");
        assertThat(text.toString())
                .contains(
                        "inputs:         103 (scored 101 + dead letters 2: parse 1, scoring 1)",
                        "alerts:         2 fraud=1 sanctions=1",
                        "model versions: {m:1=100, m:2=1}");
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
