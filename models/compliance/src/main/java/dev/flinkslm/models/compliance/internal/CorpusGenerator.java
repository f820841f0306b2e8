package dev.flinkslm.models.compliance.internal;

import dev.flinkslm.models.compliance.ComplianceLabels;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Deterministic generator of the labelled compliance training corpus.
 *
 * <p>Composes hand-written fragments (class-path {@code corpus/*.txt}, sections {@code [label/channel]}) with
 * slot values, optional second sentences and label-neutral fillers, then applies a channel style (SWIFT-like
 * remittance field, chat with abbreviations and typos, e-mail greeting/sign-off, customer message, case note).
 *
 * <p>Splits: 15% of the templates are held out as a whole for {@code val} (model selection then favours heads
 * that generalise to unseen wording); texts of the other templates are split by a hash of the text into
 * {@code train} and {@code test}, so the test split shares templates with training and measures in-distribution
 * quality. Generalisation to independently written text is measured on the separate evaluation set
 * (see docs/model-card.md). Same seed, same fragments: byte-identical output. Not thread-safe; create one per run.
 *
 * <pre>{@code
 * List<LabeledText> corpus = new CorpusGenerator(CorpusGenerator.DEFAULT_SEED).generate(DEFAULT_PER_LABEL);
 * }</pre>
 */
public final class CorpusGenerator {

    public static final long DEFAULT_SEED = 20261127L;
    public static final int DEFAULT_PER_LABEL = 1600;
    static final String BASE = "dev/flinkslm/models/compliance/corpus/";
    private static final List<String> FILES = List.of(
            "slots.txt",
            "fillers.txt",
            "clear.txt",
            "sanctions.txt",
            "structuring.txt",
            "fraud.txt",
            "market_abuse.txt");
    private static final Pattern SLOT = Pattern.compile("\\{([a-z_]+)}");

    private record Template(String label, String channel, String text) {}

    private final Random rnd;
    private final Map<String, List<String>> slots = new LinkedHashMap<>();
    private final Map<String, List<String>> fillers = new LinkedHashMap<>();
    private final Map<String, List<Template>> byLabel = new LinkedHashMap<>();

    public CorpusGenerator(long seed) {
        this.rnd = new Random(seed);
        for (String f : FILES) {
            load(f);
        }
        for (String label : ComplianceLabels.ALL) {
            if (byLabel.getOrDefault(label, List.of()).isEmpty()) {
                throw new IllegalStateException("No corpus fragments for label " + label);
            }
        }
    }

    private void load(String file) {
        try (BufferedReader r =
                new BufferedReader(new InputStreamReader(Resources.open(BASE + file), StandardCharsets.UTF_8))) {
            String section = null;
            String line;
            while ((line = r.readLine()) != null) {
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                if (line.startsWith("[") && line.endsWith("]")) {
                    section = line.substring(1, line.length() - 1);
                    continue;
                }
                if (section == null) {
                    throw new IllegalStateException(file + ": text before the first [section]");
                }
                String[] parts = section.split("/", 2);
                if (parts[0].equals("slot")) {
                    slots.computeIfAbsent(parts[1], k -> new ArrayList<>()).add(line);
                } else if (parts[0].equals("filler")) {
                    fillers.computeIfAbsent(parts[1], k -> new ArrayList<>()).add(line);
                } else {
                    ComplianceLabels.indexOf(parts[0]);
                    byLabel.computeIfAbsent(parts[0], k -> new ArrayList<>())
                            .add(new Template(parts[0], parts[1], line));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read corpus fragments " + file, e);
        }
    }

    /**
     * Split of a text made from {@code template}: templates whose hash falls in the first 15% go to {@code val}
     * as a whole (so model selection rewards generalisation to unseen wording); texts of all other templates
     * are split 82/18 into {@code train}/{@code test} by a hash of the text itself.
     */
    static String splitOf(String template, String text) {
        if (isValTemplate(template)) {
            return "val";
        }
        return bucket(text) < 82 ? "train" : "test";
    }

    static boolean isValTemplate(String template) {
        return bucket("template:" + template) < 15;
    }

    private static int bucket(String text) {
        int h = 0x811c9dc5;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x01000193;
        }
        return Math.floorMod(h, 100);
    }

    /** Number of hand-written templates per label (for the model card). */
    public Map<String, Integer> templateCounts() {
        Map<String, Integer> m = new LinkedHashMap<>();
        byLabel.forEach((k, v) -> m.put(k, v.size()));
        return m;
    }

    /** Generates {@code perLabel} unique texts per label, in label order. */
    public List<LabeledText> generate(int perLabel) {
        List<LabeledText> out = new ArrayList<>();
        for (String label : ComplianceLabels.ALL) {
            List<Template> ts = byLabel.get(label);
            Set<String> seen = new LinkedHashSet<>();
            int attempts = 0;
            int i = 0;
            while (seen.size() < perLabel) {
                if (++attempts > perLabel * 50) {
                    throw new IllegalStateException("Cannot make " + perLabel + " unique texts for " + label + " from "
                            + ts.size() + " templates; add fragments or lower the count");
                }
                // cycle through templates so every one is used about equally often
                Template t = ts.get(i++ % ts.size());
                String text = compose(t, ts);
                if (seen.add(text)) {
                    out.add(new LabeledText(text, label, splitOf(t.text(), text)));
                }
            }
        }
        return out;
    }

    private String compose(Template t, List<Template> sameLabel) {
        String body = fill(t.text());
        double roll = rnd.nextDouble();
        if (roll < 0.18) {
            // a second sentence from the same label and channel (and the same side of the val/train template divide)
            List<Template> mates = sameLabel.stream()
                    .filter(o -> o.channel().equals(t.channel())
                            && o != t
                            && isValTemplate(o.text()) == isValTemplate(t.text()))
                    .toList();
            if (!mates.isEmpty()) {
                String second = fill(mates.get(rnd.nextInt(mates.size())).text());
                body = join(t.channel(), body, second);
            }
        } else if (roll < 0.40) {
            List<String> f = fillers.get(fillerChannel(t.channel()));
            body = join(t.channel(), body, f.get(rnd.nextInt(f.size())));
        }
        return style(t.channel(), body);
    }

    private static String fillerChannel(String channel) {
        return switch (channel) {
            case "chat" -> "chat";
            case "remit" -> "remit";
            case "msg" -> "msg";
            default -> "email";
        };
    }

    private static String join(String channel, String a, String b) {
        if (channel.equals("remit")) {
            return a + " / " + b;
        }
        if (channel.equals("chat")) {
            return a + (a.endsWith("?") || a.endsWith("!") ? " " : ", ") + b;
        }
        return a + (a.endsWith(".") || a.endsWith("?") || a.endsWith(",") ? " " : ". ") + b;
    }

    private String fill(String template) {
        Matcher m = SLOT.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            List<String> values = slots.get(m.group(1));
            if (values == null) {
                throw new IllegalStateException("Unknown slot {" + m.group(1) + "} in fragment: " + template);
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(values.get(rnd.nextInt(values.size()))));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private String pick(String... options) {
        return options[rnd.nextInt(options.length)];
    }

    private String style(String channel, String s) {
        switch (channel) {
            case "remit" -> {
                String prefix = pick("", "", "/RFB/", "RF ", "/BNF/", "REMIT: ", "PMT ", "");
                s = prefix + s;
                if (rnd.nextDouble() < 0.6) {
                    s = s.toUpperCase(Locale.ROOT).replace(",", "").replace("'", "");
                }
                // SWIFT remittance information is limited to 4 x 35 characters
                return s.length() > 140 ? s.substring(0, 140).strip() : s;
            }
            case "chat" -> {
                if (rnd.nextDouble() < 0.5) {
                    s = s.toLowerCase(Locale.ROOT);
                }
                s = abbreviate(s);
                if (rnd.nextDouble() < 0.25) {
                    s = typo(s);
                }
                double r = rnd.nextDouble();
                if (r < 0.2) {
                    s = "[" + (8 + rnd.nextInt(10)) + ":" + String.format(Locale.ROOT, "%02d", rnd.nextInt(60)) + "] "
                            + fill("{first}") + ": " + s;
                } else if (r < 0.3) {
                    s = fill("{first}") + ": " + s;
                }
                return s;
            }
            case "email" -> {
                double r = rnd.nextDouble();
                if (r < 0.25) {
                    s = pick("Hi ", "Dear ", "Hello ") + fill("{first}") + ", " + s;
                } else if (r < 0.35) {
                    s = pick("Hi all, ", "Dear colleagues, ", "Team, ") + s;
                } else if (r < 0.45) {
                    s = "Subject: " + pick("RE: ", "FW: ", "")
                            + pick("payment", "update", "next steps", "follow-up", "urgent", "your request") + " - "
                            + s;
                }
                if (rnd.nextDouble() < 0.15) {
                    s = s + " " + fill("{first}");
                }
                return s;
            }
            case "note" -> {
                return pick(
                                "",
                                "",
                                "Case note: ",
                                "Alert review: ",
                                "Analyst: ",
                                "Investigation summary: ",
                                "Comment: ")
                        + s;
            }
            default -> {
                if (rnd.nextDouble() < 0.15) {
                    s = s.toLowerCase(Locale.ROOT);
                }
                if (rnd.nextDouble() < 0.1) {
                    s = typo(s);
                }
                return s;
            }
        }
    }

    private static final String[][] ABBREVIATIONS = {
        {"you ", "u "}, {"please", "pls"}, {"thanks", "thx"}, {"tomorrow", "tmrw"}, {"because", "bc"},
        {"your ", "ur "}, {"before", "b4"}, {"tonight", "2nite"}, {"people", "ppl"}, {"about", "abt"}
    };

    private String abbreviate(String s) {
        for (String[] a : ABBREVIATIONS) {
            if (s.contains(a[0]) && rnd.nextDouble() < 0.5) {
                s = s.replace(a[0], a[1]);
            }
        }
        return s;
    }

    private String typo(String s) {
        if (s.length() < 8) {
            return s;
        }
        int i = 1 + rnd.nextInt(s.length() - 3);
        char a = s.charAt(i);
        char b = s.charAt(i + 1);
        if (!Character.isLetter(a) || !Character.isLetter(b)) {
            return s;
        }
        return rnd.nextBoolean()
                ? s.substring(0, i) + b + a + s.substring(i + 2) // swapped letters
                : s.substring(0, i) + s.substring(i + 1); // dropped letter
    }

    /** Writes JSON lines. */
    public static void write(List<LabeledText> corpus, Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                for (LabeledText t : corpus) {
                    w.write(t.toJsonLine());
                    w.write('\n');
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write corpus " + file, e);
        }
    }

    /** Regenerates the committed corpus: {@code CorpusGenerator <out.jsonl> [perLabel] [seed]}. */
    public static void main(String[] args) {
        Path out = Path.of(
                args.length > 0
                        ? args[0]
                        : "models/compliance/src/main/resources/dev/flinkslm/models/compliance/compliance-corpus.jsonl");
        int perLabel = args.length > 1 ? Integer.parseInt(args[1]) : DEFAULT_PER_LABEL;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : DEFAULT_SEED;
        CorpusGenerator g = new CorpusGenerator(seed);
        List<LabeledText> corpus = g.generate(perLabel);
        write(corpus, out);
        System.out.println("templates per label: " + g.templateCounts());
        Map<String, Integer> counts = new LinkedHashMap<>();
        corpus.forEach(t -> counts.merge(t.label() + "/" + t.split(), 1, Integer::sum));
        System.out.println("wrote " + corpus.size() + " examples to " + out + ": " + counts);
    }
}
