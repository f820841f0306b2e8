package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.connectors.DeadLetter;
import dev.flinkslm.connectors.RawEvent;
import dev.flinkslm.connectors.SourcePosition;
import dev.flinkslm.models.compliance.ComplianceLabels;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

class SyntheticEventGeneratorTest {

    private final SyntheticEventGenerator gen =
            SyntheticEventGenerator.builder().seed(3).suspiciousShare(0.2).build();

    @Test
    void isDeterministicPerSeedAndIndex() {
        SyntheticEventGenerator again =
                SyntheticEventGenerator.builder().seed(3).suspiciousShare(0.2).build();
        for (long i = 0; i < 200; i++) {
            assertThat(again.generate(i)).isEqualTo(gen.generate(i));
        }
        // order of generation must not matter (parallel subtasks generate disjoint ranges)
        assertThat(gen.generate(150)).isEqualTo(again.generate(150));
        FinancialEvent other = SyntheticEventGenerator.builder()
                .seed(4)
                .suspiciousShare(0.2)
                .build()
                .generate(5);
        assertThat(other.text + other.accountId).isNotEqualTo(gen.generate(5).text + gen.generate(5).accountId);
    }

    @Test
    void everyEventParsesAndIsValid(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("e.jsonl");
        gen.writeJsonLines(file, 2000);
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(2000);
        EventParser parser = EventParser.withDefaults();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            ParseResult r =
                    parser.parse(lines.get(i).getBytes(StandardCharsets.UTF_8), SourcePosition.file("e", i + 1), 0L);
            assertThat(r.isOk()).as("line %d: %s", i + 1, r).isTrue();
            assertThat(r.event()).isEqualTo(gen.generate(i));
            ids.add(r.event().eventId);
        }
        assertThat(ids).hasSize(2000);
    }

    @Test
    void mixesLabelsKindsAndPhrasings() {
        Map<String, Integer> labels = new HashMap<>();
        Map<String, Set<String>> textsPerLabel = new HashMap<>();
        Set<EventKind> kinds = new HashSet<>();
        Set<String> currencies = new HashSet<>();
        Set<String> accounts = new HashSet<>();
        int n = 5000;
        for (long i = 0; i < n; i++) {
            SyntheticEventGenerator.LabeledEvent le = gen.generateLabeled(i);
            labels.merge(le.label, 1, Integer::sum);
            // first four words identify the template well enough
            String[] words = le.event.text.split(" ");
            textsPerLabel
                    .computeIfAbsent(le.label, k -> new HashSet<>())
                    .add(String.join(" ", List.of(words).subList(0, Math.min(4, words.length))));
            kinds.add(le.event.kind);
            if (le.event.currency != null) {
                currencies.add(le.event.currency);
            }
            accounts.add(le.event.accountId);
        }
        assertThat(labels.keySet()).containsExactlyInAnyOrderElementsOf(ComplianceLabels.ALL);
        assertThat(labels.get("clear")).isBetween((int) (n * 0.75), (int) (n * 0.85));
        for (String label : ComplianceLabels.ALL) {
            assertThat(labels.get(label)).as(label).isGreaterThan(n / 40);
            assertThat(textsPerLabel.get(label)).as("phrasings of %s", label).hasSizeGreaterThanOrEqualTo(8);
        }
        assertThat(kinds).contains(EventKind.PAYMENT, EventKind.TRADE, EventKind.MESSAGE);
        assertThat(currencies).hasSizeGreaterThan(8);
        assertThat(accounts).hasSizeGreaterThan(1000);
    }

    @Test
    void structuringPaymentsSitJustBelowTheReportingThreshold() {
        int seen = 0;
        for (long i = 0; i < 3000; i++) {
            SyntheticEventGenerator.LabeledEvent le = gen.generateLabeled(i);
            if (le.label.equals("structuring")
                    && le.event.kind == EventKind.PAYMENT
                    && !"JPY".equals(le.event.currency)) {
                assertThat(le.event.amount.doubleValue()).isBetween(9000.0, 9999.99);
                seen++;
            }
        }
        assertThat(seen).isPositive();
    }

    @Test
    void iteratorMatchesGenerate() {
        var it = gen.iterator(10, 13);
        assertThat(it.next()).isEqualTo(gen.generate(10));
        assertThat(it.next()).isEqualTo(gen.generate(11));
        assertThat(it.next()).isEqualTo(gen.generate(12));
        assertThat(it.hasNext()).isFalse();
    }

    @Test
    void recordTypesAreFlinkPojos() {
        // No Kryo fallback for any record type that crosses the network.
        for (Class<?> c : List.of(
                FinancialEvent.class,
                RawEvent.class,
                DeadLetter.class,
                ScoredEvent.class,
                Alert.class,
                SourcePosition.class)) {
            TypeInformation<?> type = TypeInformation.of(c);
            assertThat(type).as(c.getSimpleName()).isInstanceOf(PojoTypeInfo.class);
            PojoTypeInfo<?> pojo = (PojoTypeInfo<?>) type;
            for (int i = 0; i < pojo.getArity(); i++) {
                assertThat(pojo.getPojoFieldAt(i).getTypeInformation())
                        .as(
                                "%s.%s",
                                c.getSimpleName(),
                                pojo.getPojoFieldAt(i).getField().getName())
                        .isNotInstanceOf(GenericTypeInfo.class);
            }
        }
    }

    @Test
    void validatesBuilder() {
        assertThatThrownBy(() ->
                        SyntheticEventGenerator.builder().suspiciousShare(1.5).build())
                .hasMessageContaining("[0,1]");
        assertThatThrownBy(
                        () -> SyntheticEventSource.builder().eventsPerSecond(-1).build())
                .hasMessageContaining("eventsPerSecond");
    }
}
