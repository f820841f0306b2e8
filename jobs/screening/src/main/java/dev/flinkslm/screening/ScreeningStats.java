package dev.flinkslm.screening;

import dev.flinkslm.connectors.DeadLetter;
import org.apache.flink.annotation.Internal;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * In-JVM counters of an embedded screening run, fed by lightweight tap functions and read by the
 * status reporter once a second.
 *
 * <p>Only meaningful when the job runs in this JVM (the embedded cluster of {@code screen}): the
 * taps write to static state, which on a real cluster would live in TaskManagers no one reads.
 * That is why {@link ScreeningJob} adds the taps only in embedded mode. Counters hold identifiers,
 * labels and timings only, never event text.
 *
 * <p>Threading: all methods are thread-safe (adders and atomic arrays); taps run on task threads,
 * the reporter on its own thread.
 */
@Internal
public final class ScreeningStats {

    /** Latency histogram: 1 ms buckets up to this bound, the last bucket collects everything above. */
    static final int MAX_LATENCY_MS = 30_000;

    /** Keys counted per version; beyond it the status line says "more than" (bounded memory in long runs). */
    static final int MAX_KEYS_COUNTED = 100_000;

    private static final LongAdder SCORED = new LongAdder();
    private static final LongAdder PARSE_DEAD = new LongAdder();
    private static final LongAdder SCORING_DEAD = new LongAdder();
    private static final Map<String, LongAdder> ALERTS = new ConcurrentHashMap<>();
    /** Scored events per served version ("id:version", with "/variant" for a canary). */
    private static final Map<String, LongAdder> VERSIONS = new ConcurrentHashMap<>();
    /** Distinct keys (accounts) each served version has scored, counted exactly up to {@link #MAX_KEYS_COUNTED}. */
    private static final Map<String, Set<String>> KEYS = new ConcurrentHashMap<>();
    /** Per shadow version: comparisons [0] and agreements [1]. */
    private static final Map<String, LongAdder[]> SHADOWS = new ConcurrentHashMap<>();

    /** Event age at scoring: now minus the record timestamp (Kafka: the record's; synthetic: its creation). */
    private static final AtomicLongArray LATENCY = new AtomicLongArray(MAX_LATENCY_MS + 1);
    /** Time in the scoring step: queue wait plus inference. */
    private static final AtomicLongArray PROCESSING = new AtomicLongArray(MAX_LATENCY_MS + 1);

    private static volatile String lastVersion = "-";
    private static volatile long startNanos = System.nanoTime();

    private ScreeningStats() {}

    /** Clears everything; call before a run. */
    public static void reset() {
        SCORED.reset();
        PARSE_DEAD.reset();
        SCORING_DEAD.reset();
        ALERTS.clear();
        VERSIONS.clear();
        KEYS.clear();
        SHADOWS.clear();
        for (int i = 0; i < LATENCY.length(); i++) {
            LATENCY.set(i, 0);
            PROCESSING.set(i, 0);
        }
        lastVersion = "-";
        startNanos = System.nanoTime();
    }

    /** One scored event: its age ({@code latencyMs}, -1 if unknown) and its time in the scoring step. */
    static void scored(ScoredEvent e, long latencyMs) {
        String version = e.modelId + ":" + e.modelVersion
                + (e.variant == null || ScoredEvent.VARIANT_ACTIVE.equals(e.variant) ? "" : "/" + e.variant);
        VERSIONS.computeIfAbsent(version, v -> new LongAdder()).increment();
        if (e.accountId != null) {
            Set<String> keys = KEYS.computeIfAbsent(version, v -> ConcurrentHashMap.newKeySet());
            if (keys.size() <= MAX_KEYS_COUNTED) {
                keys.add(e.accountId);
            }
        }
        PROCESSING.incrementAndGet((int) Math.max(0, Math.min(e.queueWaitMs + e.inferenceMs, MAX_LATENCY_MS)));
        // the version first: a reporter that sees the count (read first in snapshot) also sees its version
        lastVersion = version;
        SCORED.increment();
        if (latencyMs >= 0) {
            LATENCY.incrementAndGet((int) Math.min(latencyMs, MAX_LATENCY_MS));
        }
    }

    static void shadow(ShadowComparison c) {
        LongAdder[] counts =
                SHADOWS.computeIfAbsent(c.shadowModel, k -> new LongAdder[] {new LongAdder(), new LongAdder()});
        counts[0].increment();
        if (c.agree) {
            counts[1].increment();
        }
    }

    static void alert(Alert a) {
        ALERTS.computeIfAbsent(a.scored.label, l -> new LongAdder()).increment();
    }

    static void deadLetter(DeadLetter d, boolean fromScoring) {
        (fromScoring ? SCORING_DEAD : PARSE_DEAD).increment();
    }

    /** A consistent-enough copy of the counters for printing. */
    public static Snapshot snapshot() {
        long[] hist = new long[LATENCY.length()];
        long[] processing = new long[PROCESSING.length()];
        for (int i = 0; i < hist.length; i++) {
            hist[i] = LATENCY.get(i);
            processing[i] = PROCESSING.get(i);
        }
        Map<String, Long> alerts = new TreeMap<>();
        ALERTS.forEach((k, v) -> alerts.put(k, v.sum()));
        Map<String, Long> versions = new TreeMap<>();
        VERSIONS.forEach((k, v) -> versions.put(k, v.sum()));
        Map<String, Integer> keys = new TreeMap<>();
        KEYS.forEach((k, v) -> keys.put(k, v.size()));
        Map<String, long[]> shadows = new TreeMap<>();
        SHADOWS.forEach((k, v) -> shadows.put(k, new long[] {v[0].sum(), v[1].sum()}));
        return new Snapshot(
                System.nanoTime() - startNanos,
                SCORED.sum(),
                PARSE_DEAD.sum(),
                SCORING_DEAD.sum(),
                alerts,
                versions,
                keys,
                lastVersion,
                hist,
                processing,
                shadows);
    }

    /** Counters at one moment. */
    public record Snapshot(
            long elapsedNanos,
            long scored,
            long parseDeadLetters,
            long scoringDeadLetters,
            Map<String, Long> alerts,
            Map<String, Long> versions,
            Map<String, Integer> keys,
            String lastVersion,
            long[] latency,
            long[] processing,
            Map<String, long[]> shadows) {

        long inputs() {
            return scored + parseDeadLetters + scoringDeadLetters;
        }

        long alertTotal() {
            return alerts.values().stream().mapToLong(Long::longValue).sum();
        }

        /** The status line covering the time since {@code previous}. */
        public String statusLine(Snapshot previous) {
            if (inputs() == 0) {
                return String.format(
                        Locale.ROOT,
                        "[screen %s] starting: cluster, sources and model are coming up",
                        clock(elapsedNanos));
            }
            double seconds = Math.max(1e-3, (elapsedNanos - previous.elapsedNanos) / 1e9);
            return String.format(
                            Locale.ROOT,
                            "[screen %s] %6.0f events/s | scored %,d | dead letters %,d | processing %s | age %s"
                                    + " | alerts %s | models %s",
                            clock(elapsedNanos),
                            (inputs() - previous.inputs()) / seconds,
                            scored,
                            parseDeadLetters + scoringDeadLetters,
                            percentiles(since(processing, previous.processing)),
                            percentiles(since(latency, previous.latency)),
                            alertsText(),
                            versionsText(previous))
                    + shadowText();
        }

        private static String keysText(int keys) {
            return keys > MAX_KEYS_COUNTED
                    ? String.format(Locale.ROOT, ">%,d", MAX_KEYS_COUNTED)
                    : String.format(Locale.ROOT, "%,d", keys);
        }

        private static long[] since(long[] now, long[] before) {
            long[] window = new long[now.length];
            for (int i = 0; i < window.length; i++) {
                window[i] = now[i] - before[i];
            }
            return window;
        }

        /**
         * The events each version scored since {@code previous} (null: the whole run) and the keys it has served
         * so far, so that a canary's or a rollout's split shows: {@code "m:1=80 (12 keys), m:2/canary=20 (3
         * keys)"}; the last version when the window scored nothing.
         */
        private String versionsText(Snapshot previous) {
            StringBuilder b = new StringBuilder();
            versions.forEach((version, n) -> {
                long inWindow = n - (previous == null ? 0 : previous.versions.getOrDefault(version, 0L));
                if (inWindow > 0) {
                    b.append(b.length() == 0 ? "" : ", ")
                            .append(String.format(
                                    Locale.ROOT,
                                    "%s=%,d (%s keys)",
                                    version,
                                    inWindow,
                                    keysText(keys.getOrDefault(version, 0))));
                }
            });
            return b.length() == 0 ? lastVersion + " (idle)" : b.toString();
        }

        /** {@code " | shadow m:v agrees 97.1% of 1,234"} per shadow version seen, or nothing. */
        private String shadowText() {
            StringBuilder b = new StringBuilder();
            shadows.forEach((model, n) -> b.append(String.format(
                    Locale.ROOT, " | shadow %s agrees %.1f%% of %,d", model, 100.0 * n[1] / Math.max(1, n[0]), n[0])));
            return b.toString();
        }

        /** The multi-line summary of a whole run. */
        public void printSummary(PrintWriter out, String outcome) {
            double seconds = Math.max(1e-3, elapsedNanos / 1e9);
            out.println("== screening summary (" + outcome + ") ==");
            out.printf(Locale.ROOT, "elapsed:        %s%n", clock(elapsedNanos));
            out.printf(
                    Locale.ROOT,
                    "inputs:         %,d (scored %,d + dead letters %,d: parse %,d, scoring %,d)%n",
                    inputs(),
                    scored,
                    parseDeadLetters + scoringDeadLetters,
                    parseDeadLetters,
                    scoringDeadLetters);
            out.printf(Locale.ROOT, "throughput:     %.0f events/s%n", inputs() / seconds);
            out.printf(
                    Locale.ROOT,
                    "processing:     %s (in the scoring step: queue wait + inference)%n",
                    percentiles(processing));
            out.printf(
                    Locale.ROOT, "event age:      %s (from the record's timestamp to scored)%n", percentiles(latency));
            out.printf(Locale.ROOT, "alerts:         %,d %s%n", alertTotal(), alertsText());
            out.printf(Locale.ROOT, "model versions: %s%n", versions.isEmpty() ? "-" : versionsText(null));
            shadows.forEach((model, n) -> out.printf(
                    Locale.ROOT,
                    "shadow:         %s agreed with the served label on %.1f%% of %,d events%n",
                    model,
                    100.0 * n[1] / Math.max(1, n[0]),
                    n[0]));
            out.flush();
        }

        private String alertsText() {
            if (alerts.isEmpty()) {
                return "none";
            }
            StringBuilder b = new StringBuilder();
            alerts.forEach((label, n) -> b.append(b.length() == 0 ? "" : " ")
                    .append(label)
                    .append('=')
                    .append(n));
            return b.toString();
        }

        private static String percentiles(long[] hist) {
            long total = 0;
            for (long n : hist) {
                total += n;
            }
            if (total == 0) {
                return "p50 - p99 -";
            }
            return "p50 " + ms(percentile(hist, total, 0.50)) + " p99 " + ms(percentile(hist, total, 0.99));
        }

        static int percentile(long[] hist, long total, double q) {
            long rank = (long) Math.ceil(q * total);
            long seen = 0;
            for (int i = 0; i < hist.length; i++) {
                seen += hist[i];
                if (seen >= rank) {
                    return i;
                }
            }
            return hist.length - 1;
        }

        private static String ms(int bucket) {
            return bucket >= MAX_LATENCY_MS ? ">" + MAX_LATENCY_MS + " ms" : bucket + " ms";
        }

        private static String clock(long nanos) {
            long s = nanos / 1_000_000_000L;
            return String.format(Locale.ROOT, "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
        }
    }

    /**
     * Counts scored events; latency is now minus the record timestamp, which the sources set to the
     * time the event entered the job (Kafka: the record's timestamp).
     */
    static final class ScoredTap extends ProcessFunction<ScoredEvent, Void> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(ScoredEvent value, Context ctx, Collector<Void> out) {
            Long ts = ctx.timestamp();
            ScreeningStats.scored(value, ts == null ? -1 : System.currentTimeMillis() - ts);
        }
    }

    /** Counts shadow comparisons and agreements per shadow version. */
    static final class ShadowTap extends ProcessFunction<ShadowComparison, Void> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(ShadowComparison value, Context ctx, Collector<Void> out) {
            ScreeningStats.shadow(value);
        }
    }

    /** Counts alerts per label. */
    static final class AlertTap extends ProcessFunction<Alert, Void> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(Alert value, Context ctx, Collector<Void> out) {
            ScreeningStats.alert(value);
        }
    }

    /** Counts dead letters (parse or scoring). */
    static final class DeadLetterTap extends ProcessFunction<DeadLetter, Void> {
        private static final long serialVersionUID = 1L;
        private final boolean fromScoring;

        DeadLetterTap(boolean fromScoring) {
            this.fromScoring = fromScoring;
        }

        @Override
        public void processElement(DeadLetter value, Context ctx, Collector<Void> out) {
            ScreeningStats.deadLetter(value, fromScoring);
        }
    }
}
