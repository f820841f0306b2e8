package dev.flinkslm.connectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

class AlertPolicyTest {

    private static final String[] LABELS = AlertPolicy.DEFAULT_LABELS.toArray(new String[0]);

    private static ScoredEvent scored(String label, double score) {
        double[] p = new double[LABELS.length];
        double rest = (1 - score) / (LABELS.length - 1);
        for (int i = 0; i < LABELS.length; i++) {
            p[i] = LABELS[i].equals(label) ? score : rest;
        }
        FinancialEvent e = new FinancialEvent();
        e.eventId = "e-1";
        e.accountId = "ACC-1";
        e.kind = EventKind.PAYMENT;
        e.kindName = "PAYMENT";
        return ScoredEvent.of(e, LABELS, p, "m", "1", ScoredEvent.VARIANT_ACTIVE, 1, 2, 3);
    }

    /** NaN >= threshold is false: without the check a broken score would pass as "no alert". */
    @Test
    void nonFiniteScoreFailsInsteadOfPassingAsNoAlert() {
        AlertPolicy policy = AlertPolicy.defaults();
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
            ScoredEvent s = scored("fraud", 0.9);
            s.score = bad;
            assertThatThrownBy(() -> policy.shouldAlert(s)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("e-1");
        }
    }

    @Test
    void alertsOnNonClearLabelAtOrAboveThreshold() {
        AlertPolicy policy = AlertPolicy.builder().defaultThreshold(0.6).threshold("sanctions", 0.3).build();
        assertThat(policy.shouldAlert(scored("fraud", 0.6))).isTrue();
        assertThat(policy.shouldAlert(scored("fraud", 0.59))).isFalse();
        assertThat(policy.shouldAlert(scored("sanctions", 0.31))).isTrue();
        assertThat(policy.shouldAlert(scored("clear", 0.99))).isFalse();
        assertThat(policy.thresholdFor("structuring")).isEqualTo(0.6);
        assertThat(policy.thresholdFor("sanctions")).isEqualTo(0.3);
    }

    @Test
    void evaluateBuildsAlertWithThresholdAndId() {
        Alert a = AlertPolicy.defaults().evaluate(scored("market_abuse", 0.8), 1234L);
        assertThat(a).isNotNull();
        assertThat(a.threshold).isEqualTo(0.5);
        assertThat(a.raisedAt).isEqualTo(1234L);
        assertThat(a.alertId()).isEqualTo("e-1:market_abuse");
        assertThat(AlertPolicy.defaults().evaluate(scored("market_abuse", 0.4), 1L)).isNull();
    }

    @Test
    void unknownLabelFromNewerModelUsesDefault() {
        ScoredEvent s = scored("fraud", 0.7);
        s.label = "insider_trading";
        assertThat(AlertPolicy.defaults().shouldAlert(s)).isTrue();
    }

    @Test
    void functionEmitsOnlyAlerts() throws Exception {
        List<Alert> out = new ArrayList<>();
        Collector<Alert> c = new Collector<>() {
            @Override
            public void collect(Alert record) {
                out.add(record);
            }

            @Override
            public void close() {}
        };
        var fn = AlertPolicy.defaults().asFunction();
        fn.flatMap(scored("clear", 0.9), c);
        fn.flatMap(scored("fraud", 0.9), c);
        fn.flatMap(scored("fraud", 0.2), c);
        assertThat(out).extracting(a -> a.scored.label).containsExactly("fraud");
    }

    @Test
    void rejectsThresholdsOutsideUnitInterval() {
        assertThatThrownBy(() -> AlertPolicy.builder().defaultThreshold(1.5).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("default threshold 1.5 is outside [0,1]")
                .hasMessageContaining(ConnectorOptions.ALERT_THRESHOLD.key());
        assertThatThrownBy(() -> AlertPolicy.builder().threshold("fraud", -0.1).build())
                .hasMessageContaining("threshold -0.1 of label 'fraud' is outside [0,1]");
        assertThatThrownBy(() -> AlertPolicy.builder().defaultThreshold(Double.NaN).build())
                .hasMessageContaining("outside [0,1]");
    }

    @Test
    void rejectsUnknownLabelsAndClear() {
        assertThatThrownBy(() -> AlertPolicy.builder().threshold("frod", 0.5).build())
                .hasMessageContaining("unknown label 'frod'")
                .hasMessageContaining("market_abuse");
        assertThatThrownBy(() -> AlertPolicy.builder().threshold("clear", 0.5).build())
                .hasMessageContaining("'clear'");
        assertThatThrownBy(() -> AlertPolicy.builder().labels(List.of("ok", "bad")).build())
                .hasMessageContaining("lack 'clear'");
    }

    @Test
    void acceptsCustomLabelSet() {
        AlertPolicy p = AlertPolicy.builder().labels(List.of("clear", "bribery")).threshold("bribery", 0.2).build();
        assertThat(p.thresholdFor("bribery")).isEqualTo(0.2);
    }

    @Test
    void readsConfiguration() {
        Configuration conf = new Configuration();
        conf.set(ConnectorOptions.ALERT_THRESHOLD, 0.7);
        conf.set(ConnectorOptions.ALERT_LABEL_THRESHOLDS, Map.of("sanctions", "0.25", "fraud", "0.8"));
        AlertPolicy p = AlertPolicy.builder().configure(conf).build();
        assertThat(p.defaultThreshold()).isEqualTo(0.7);
        assertThat(p.thresholdFor("sanctions")).isEqualTo(0.25);
        assertThat(p.thresholdFor("fraud")).isEqualTo(0.8);

        conf.set(ConnectorOptions.ALERT_LABEL_THRESHOLDS, Map.of("fraud", "high"));
        assertThatThrownBy(() -> AlertPolicy.builder().configure(conf).build())
                .hasMessageContaining("'high', not a number");
    }
}
