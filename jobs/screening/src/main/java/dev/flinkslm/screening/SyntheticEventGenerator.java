package dev.flinkslm.screening;

import dev.flinkslm.connectors.SourcePosition;
import dev.flinkslm.models.compliance.ComplianceLabels;
import dev.flinkslm.screening.internal.Phrasebook;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.SerializationSchema;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Currency;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Deterministic synthetic financial events for demos, tests and benchmarks: payment narratives,
 * customer messages and trader chat, mostly benign, with a configurable share of clearly
 * suspicious events of each label (sanctions, structuring, fraud, market_abuse).
 *
 * <p>Event {@code i} depends only on the seed and {@code i}, so parallel Flink subtasks, reruns
 * and plain-Java benchmarks see exactly the same events.
 *
 * <pre>{@code
 * SyntheticEventGenerator gen = SyntheticEventGenerator.builder().seed(42).suspiciousShare(0.1).build();
 * FinancialEvent e = gen.generate(17);
 * String label = gen.generateLabeled(17).label;            // the intended label, for evaluation
 * gen.writeJsonLines(Path.of("events.jsonl"), 10_000);     // input for file mode or Kafka tests
 * for (Iterator<FinancialEvent> it = gen.iterator(0, 1000); it.hasNext(); ) score(it.next());
 * env.fromSource(SyntheticEventSource.builder().generator(gen).eventsPerSecond(500).build(), ...);
 * }</pre>
 *
 * <p>Threading: immutable and serializable; {@link #generate} may be called from any thread.
 */
@PublicEvolving
public final class SyntheticEventGenerator implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Labels in the order of {@link ComplianceLabels#ALL}. */
    private static final String[] LABELS = ComplianceLabels.ALL.toArray(new String[0]);

    private final long seed;
    private final double suspiciousShare;
    private final int accounts;
    private final long startTime;
    private final long meanGapMs;

    private SyntheticEventGenerator(Builder b) {
        this.seed = b.seed;
        this.suspiciousShare = b.suspiciousShare;
        this.accounts = b.accounts;
        this.startTime = b.startTime;
        this.meanGapMs = b.meanGapMs;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** An event with the label it was generated to look like. */
    public static final class LabeledEvent implements Serializable {
        private static final long serialVersionUID = 1L;
        public final FinancialEvent event;
        /** One of clear, sanctions, structuring, fraud, market_abuse. */
        public final String label;

        LabeledEvent(FinancialEvent event, String label) {
            this.event = event;
            this.label = label;
        }
    }

    /** Event number {@code index} (0-based). */
    public FinancialEvent generate(long index) {
        return generateLabeled(index).event;
    }

    public LabeledEvent generateLabeled(long index) {
        SplittableRandom r = new SplittableRandom(mix(seed * 0x9E3779B97F4A7C15L + index));
        String label = pickLabel(r);
        int account = r.nextInt(accounts);
        String[] profile = profile(account);
        FinancialEvent e = new FinancialEvent();
        e.source = SourcePosition.generator("synthetic", index);
        e.eventId = "evt-" + seed + "-" + index;
        e.accountId = String.format("ACC-%06d", (mix(seed + account) & 0x7fffffffL) % 1_000_000L);
        e.eventTime = startTime + index * meanGapMs + r.nextLong(Math.max(1, meanGapMs));
        e.country = profile[0];
        Slots s = new Slots(r, profile, index);
        switch (label) {
            case ComplianceLabels.SANCTIONS:
                kind(e, r.nextInt(4) == 0 ? EventKind.MESSAGE : EventKind.PAYMENT);
                e.text = s.fill(pick(r, Phrasebook.SANCTIONS));
                if (e.kind == EventKind.PAYMENT) {
                    int shell = r.nextInt(Phrasebook.SHELLS.size());
                    e.counterparty = Phrasebook.SHELLS.get(shell);
                    e.country = Phrasebook.SHELL_COUNTRIES[shell % Phrasebook.SHELL_COUNTRIES.length][0];
                    e.currency = r.nextBoolean() ? "USD" : profile[1];
                    e.amount = amount(r, 20_000, 900_000, e.currency);
                }
                break;
            case ComplianceLabels.STRUCTURING:
                kind(e, r.nextInt(3) == 0 ? EventKind.MESSAGE : EventKind.PAYMENT);
                e.text = s.fill(pick(r, Phrasebook.STRUCTURING));
                if (e.kind == EventKind.PAYMENT) {
                    e.currency = profile[1];
                    e.amount = justBelowThreshold(r, e.currency);
                    e.counterparty = r.nextBoolean() ? "Cash deposit" : s.person();
                }
                break;
            case ComplianceLabels.FRAUD:
                kind(e, r.nextInt(3) == 0 ? EventKind.PAYMENT : EventKind.MESSAGE);
                e.text = s.fill(pick(r, Phrasebook.FRAUD));
                if (e.kind == EventKind.PAYMENT) {
                    e.currency = profile[1];
                    e.amount = amount(r, 900, 60_000, e.currency);
                    e.counterparty = r.nextBoolean() ? pick(r, Phrasebook.COMPANIES) : s.person();
                    e.country = pick(r, List.of("LT", "CY", "NG", "AE", "HK", "GB"));
                }
                break;
            case ComplianceLabels.MARKET_ABUSE:
                kind(e, r.nextInt(4) == 0 ? EventKind.MESSAGE : EventKind.TRADE);
                e.text = s.fill(pick(r, Phrasebook.MARKET_ABUSE));
                if (e.kind == EventKind.TRADE) {
                    e.currency = profile[1];
                    e.amount = amount(r, 50_000, 5_000_000, e.currency);
                    e.counterparty = pick(r, Phrasebook.COMPANIES);
                }
                break;
            default:
                int k = r.nextInt(10);
                if (k < 5) {
                    kind(e, EventKind.PAYMENT);
                    e.text = s.fill(pick(r, Phrasebook.BENIGN_PAYMENTS));
                    e.currency = r.nextInt(12) == 0 ? "EUR" : profile[1];
                    e.amount = amount(r, 5, 25_000, e.currency);
                    e.counterparty = r.nextBoolean() ? pick(r, Phrasebook.COMPANIES) : s.person();
                } else if (k < 8) {
                    kind(e, EventKind.MESSAGE);
                    e.text = s.fill(pick(r, Phrasebook.BENIGN_MESSAGES));
                } else {
                    kind(e, EventKind.TRADE);
                    e.text = s.fill(pick(r, Phrasebook.BENIGN_TRADES));
                    e.currency = profile[1];
                    e.amount = amount(r, 10_000, 3_000_000, e.currency);
                    e.counterparty = pick(r, Phrasebook.COMPANIES);
                }
        }
        return new LabeledEvent(e, label);
    }

    /** Events {@code from} (inclusive) to {@code to} (exclusive). */
    public Iterator<FinancialEvent> iterator(long from, long to) {
        return new Iterator<>() {
            private long next = from;

            @Override
            public boolean hasNext() {
                return next < to;
            }

            @Override
            public FinancialEvent next() {
                if (next >= to) {
                    throw new NoSuchElementException();
                }
                return generate(next++);
            }
        };
    }

    /** Writes events 0..count-1 as JSON lines (the input format of {@link EventParser}). */
    public void writeJsonLines(Path file, long count) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            writeJsonLines(out, 0, count);
        }
    }

    /** Writes events from..to-1 as JSON lines to {@code out} (not closed). */
    public void writeJsonLines(OutputStream out, long from, long to) throws IOException {
        SerializationSchema<FinancialEvent> schema = ScreeningSchemas.financialEvents();
        for (long i = from; i < to; i++) {
            out.write(schema.serialize(generate(i)));
            out.write('\n');
        }
        out.flush();
    }

    // ---- pieces ---------------------------------------------------------------------------------

    private String pickLabel(SplittableRandom r) {
        if (r.nextDouble() >= suspiciousShare) {
            return LABELS[0];
        }
        return LABELS[1 + r.nextInt(LABELS.length - 1)];
    }

    private String[] profile(int account) {
        long h = mix(seed ^ (account * 0xC2B2AE3D27D4EB4FL));
        return Phrasebook.PROFILES[(int) ((h & 0x7fffffffL) % Phrasebook.PROFILES.length)];
    }

    private static void kind(FinancialEvent e, EventKind kind) {
        e.kind = kind;
        e.kindName = kind.name();
    }

    /** Log-uniform amount between lo and hi (in units of EUR-like currencies), scaled for JPY-like ones. */
    private static BigDecimal amount(SplittableRandom r, double lo, double hi, String currency) {
        double v = Math.exp(Math.log(lo) + r.nextDouble() * (Math.log(hi) - Math.log(lo)));
        int digits = Currency.getInstance(currency).getDefaultFractionDigits();
        if (digits == 0) {
            v *= 150; // roughly yen per euro, so amounts stay plausible
        }
        if (r.nextInt(4) == 0) {
            v = Math.rint(v / 10) * 10; // humans like round numbers
        }
        return BigDecimal.valueOf(v).setScale(Math.max(digits, 0), RoundingMode.HALF_UP);
    }

    private static BigDecimal justBelowThreshold(SplittableRandom r, String currency) {
        int digits = Currency.getInstance(currency).getDefaultFractionDigits();
        double threshold = digits == 0 ? 1_000_000 : 10_000;
        double v = threshold * (0.9 + r.nextDouble() * 0.099);
        return BigDecimal.valueOf(v).setScale(Math.max(digits, 0), RoundingMode.DOWN);
    }

    private static <T> T pick(SplittableRandom r, List<T> list) {
        return list.get(r.nextInt(list.size()));
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Fills {@code {slot}} placeholders with values drawn from the event's random stream. */
    private static final class Slots {
        private final SplittableRandom r;
        private final String[] profile;
        private final long index;

        Slots(SplittableRandom r, String[] profile, long index) {
            this.r = r;
            this.profile = profile;
            this.index = index;
        }

        String person() {
            return pick(r, Phrasebook.FIRST_NAMES) + " " + pick(r, Phrasebook.LAST_NAMES);
        }

        String fill(String template) {
            StringBuilder out = new StringBuilder(template.length() + 32);
            int i = 0;
            while (i < template.length()) {
                int open = template.indexOf('{', i);
                if (open < 0) {
                    out.append(template, i, template.length());
                    break;
                }
                int close = template.indexOf('}', open);
                out.append(template, i, open);
                out.append(value(template.substring(open + 1, close)));
                i = close + 1;
            }
            String text = out.toString().trim();
            return text.isEmpty() ? "(no narrative)" : text;
        }

        private String value(String slot) {
            switch (slot) {
                case "inv":
                    return (r.nextBoolean() ? "INV-" : "") + (1000 + r.nextInt(9000));
                case "ord":
                    return String.valueOf(100_000 + r.nextInt(900_000));
                case "n":
                    return String.valueOf(1 + r.nextInt(250));
                case "k":
                    return String.valueOf(1 + r.nextInt(4));
                case "m":
                    return String.valueOf(5 + r.nextInt(4));
                case "month":
                    return pick(r, Phrasebook.MONTHS);
                case "year":
                    return String.valueOf(2024 + r.nextInt(3));
                case "company":
                    return pick(r, Phrasebook.COMPANIES);
                case "merchant":
                    return pick(r, Phrasebook.MERCHANTS);
                case "goods":
                    return pick(r, Phrasebook.GOODS);
                case "first":
                    return pick(r, Phrasebook.FIRST_NAMES);
                case "first2":
                    return pick(r, Phrasebook.FIRST_NAMES);
                case "city":
                    return profile[2];
                case "city2":
                    return Phrasebook.PROFILES[r.nextInt(Phrasebook.PROFILES.length)][2];
                case "ticker":
                    return pick(r, Phrasebook.TICKERS);
                case "bond":
                    return pick(r, Phrasebook.BONDS);
                case "qty":
                    return String.valueOf(5 * (1 + r.nextInt(60)));
                case "px":
                    return String.format(java.util.Locale.ROOT, "%.2f", 10 + r.nextDouble() * 190);
                case "px2":
                    return String.format(java.util.Locale.ROOT, "%.2f", 10 + r.nextDouble() * 190);
                case "shell":
                    return pick(r, Phrasebook.SHELLS);
                case "hub":
                    return pick(r, Phrasebook.HUBS);
                case "place":
                    return pick(r, Phrasebook.SANCTIONED_PLACES);
                case "designated":
                    return pick(r, Phrasebook.DESIGNATED);
                case "greet":
                    return pick(r, Phrasebook.GREETINGS);
                case "thanks":
                    return pick(r, Phrasebook.THANKS);
                case "small":
                    return String.format(java.util.Locale.ROOT, "%.2f %s", 1 + r.nextDouble() * 30, profile[1]);
                case "under":
                    return String.format(java.util.Locale.ROOT, "%,d %s", 9000 + r.nextInt(990), profile[1]);
                case "big":
                    return String.format(java.util.Locale.ROOT, "%,d %s", 12_000 + r.nextInt(80) * 1000, profile[1]);
                default:
                    return "#" + index;
            }
        }
    }

    /**
     * Builder of {@link SyntheticEventGenerator}. Threading: not thread-safe.
     */
    public static final class Builder {
        private long seed = 42L;
        private double suspiciousShare = 0.08;
        private int accounts = 2_000;
        private long startTime = Instant.parse("2026-01-05T08:00:00Z").toEpochMilli();
        private long meanGapMs = 100L;

        private Builder() {}

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Share of suspicious events, split evenly over the four suspicious labels (default 0.08). */
        public Builder suspiciousShare(double share) {
            this.suspiciousShare = share;
            return this;
        }

        /** Number of distinct accounts (default 2000). */
        public Builder accounts(int accounts) {
            this.accounts = accounts;
            return this;
        }

        /** Event time of event 0 (default 2026-01-05T08:00:00Z). */
        public Builder startTime(Instant start) {
            this.startTime = start.toEpochMilli();
            return this;
        }

        /** Mean event-time gap between consecutive events (default 100 ms). */
        public Builder meanGapMs(long gapMs) {
            this.meanGapMs = gapMs;
            return this;
        }

        public SyntheticEventGenerator build() {
            if (!(suspiciousShare >= 0 && suspiciousShare <= 1)) {
                throw new IllegalArgumentException(
                        "suspicious share " + suspiciousShare + " must be in [0,1], e.g. 0.08");
            }
            if (accounts < 1) {
                throw new IllegalArgumentException("accounts must be at least 1, got " + accounts);
            }
            if (meanGapMs < 0) {
                throw new IllegalArgumentException("meanGapMs must not be negative, got " + meanGapMs);
            }
            return new SyntheticEventGenerator(this);
        }
    }
}
