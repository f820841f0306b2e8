package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.models.compliance.ComplianceLabels;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

class AlertPolicyTest {

    private static final String[] LABELS = ComplianceLabels.ALL.toArray(new String[0]);

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
        return ScoredEvents.of(e, LABELS, p, "m", "1", ScoredEvent.VARIANT_ACTIVE, 1, 2, 3);
    }

    private static ScoredEvent windowed(double[] aggregated, boolean truncated) {
        FinancialEvent e = new FinancialEvent();
        e.eventId = "e-2";
        e.accountId = "ACC-2";
        int best = 0;
        for (int i = 1; i < aggregated.length; i++) {
            if (aggregated[i] > aggregated[best]) {
                best = i;
            }
        }
        return ScoredEvent.of(e, LABELS, aggregated, best, "m", "1", ScoredEvent.VARIANT_ACTIVE, 3, truncated, 1, 2, 3);
    }

    /** A windowed text (aggregates do not sum to 1) alerts on a finding in any window, even if clear leads. */
    @Test
    void eachLabelIsJudgedOnItsOwnProbability() {
        AlertPolicy policy = AlertPolicy.defaults();
        ScoredEvent s = windowed(new double[] {0.99, 0.01, 0.9, 0.02, 0.01}, false);
        assertThat(s.label).isEqualTo("clear");
        Alert a = policy.evaluate(s, 7L);
        assertThat(a).isNotNull();
        assertThat(a.reason).isEqualTo(Alert.SCORE);
        assertThat(a.scored.label).isEqualTo("structuring");
        assertThat(a.scored.score).isEqualTo(0.9);
        assertThat(a.alertId()).isEqualTo("e-2:structuring");
        assertThat(s.label).as("the scored event itself is unchanged").isEqualTo("clear");
    }

    /** A text too long to be screened whole is never a silent clear. */
    @Test
    void aTruncatedTextAlertsForReview() {
        AlertPolicy policy = AlertPolicy.defaults();
        Alert a = policy.evaluate(windowed(new double[] {0.97, 0.01, 0.01, 0.01, 0.0}, true), 7L);
        assertThat(a).isNotNull();
        assertThat(a.reason).isEqualTo(Alert.TRUNCATED);
        assertThat(a.alertId()).isEqualTo("e-2:truncated");
        Alert both = policy.evaluate(windowed(new double[] {0.2, 0.01, 0.8, 0.01, 0.0}, true), 7L);
        assertThat(both.reason)
                .as("a score alert wins; the truncated flag stays on the event")
                .isEqualTo(Alert.SCORE);
        assertThat(both.scored.truncated).isTrue();
        assertThat(policy.evaluate(windowed(new double[] {0.97, 0.01, 0.01, 0.01, 0.0}, false), 7L))
                .isNull();
    }

    /** The operator's label is carried, never recomputed: an exact tie keeps the operator's choice. */
    @Test
    void theOperatorsLabelIsKeptOnATie() {
        FinancialEvent e = new FinancialEvent();
        e.eventId = "e-3";
        ScoredEvent s =
                ScoredEvent.of(e, LABELS, new double[] {0.5, 0.5, 0, 0, 0}, 1, "m", "1", "active", 1, false, 0, 0, 0);
        assertThat(s.label).isEqualTo("sanctions");
        assertThat(AlertPolicy.defaults().evaluate(s, 1L).scored.label).isEqualTo("sanctions");
    }

    /** NaN >= threshold is false: without the check a broken score would pass as "no alert". */
    @Test
    void nonFiniteScoreFailsInsteadOfPassingAsNoAlert() {
        AlertPolicy policy = AlertPolicy.defaults();
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
            ScoredEvent s = scored("fraud", 0.9);
            s.score = bad;
            assertThatThrownBy(() -> policy.shouldAlert(s))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("e-1");
        }
    }

    @Test
    void alertsOnNonClearLabelAtOrAboveThreshold() {
        AlertPolicy policy = AlertPolicy.builder()
                .defaultThreshold(0.6)
                .threshold("sanctions", 0.3)
                .build();
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
        assertThat(AlertPolicy.defaults().evaluate(scored("market_abuse", 0.4), 1L))
                .isNull();
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
                .hasMessageContaining(ScreeningOptions.ALERT_THRESHOLD.key());
        assertThatThrownBy(() -> AlertPolicy.builder().threshold("fraud", -0.1).build())
                .hasMessageContaining("threshold -0.1 of label 'fraud' is outside [0,1]");
        assertThatThrownBy(
                        () -> AlertPolicy.builder().defaultThreshold(Double.NaN).build())
                .hasMessageContaining("outside [0,1]");
    }

    @Test
    void rejectsUnknownLabelsAndClear() {
        assertThatThrownBy(() -> AlertPolicy.builder().threshold("frod", 0.5).build())
                .hasMessageContaining("unknown label 'frod'")
                .hasMessageContaining("market_abuse");
        assertThatThrownBy(() -> AlertPolicy.builder().threshold("clear", 0.5).build())
                .hasMessageContaining("'clear'");
        assertThatThrownBy(
                        () -> AlertPolicy.builder().labels(List.of("ok", "bad")).build())
                .hasMessageContaining("lack 'clear'");
    }

    @Test
    void acceptsCustomLabelSet() {
        AlertPolicy p = AlertPolicy.builder()
                .labels(List.of("clear", "bribery"))
                .threshold("bribery", 0.2)
                .build();
        assertThat(p.thresholdFor("bribery")).isEqualTo(0.2);
    }

    @Test
    void readsConfiguration() {
        Configuration conf = new Configuration();
        conf.set(ScreeningOptions.ALERT_THRESHOLD, 0.7);
        conf.set(ScreeningOptions.ALERT_LABEL_THRESHOLDS, Map.of("sanctions", "0.25", "fraud", "0.8"));
        AlertPolicy p = AlertPolicy.builder().configure(conf).build();
        assertThat(p.defaultThreshold()).isEqualTo(0.7);
        assertThat(p.thresholdFor("sanctions")).isEqualTo(0.25);
        assertThat(p.thresholdFor("fraud")).isEqualTo(0.8);

        conf.set(ScreeningOptions.ALERT_LABEL_THRESHOLDS, Map.of("fraud", "high"));
        assertThatThrownBy(() -> AlertPolicy.builder().configure(conf).build())
                .hasMessageContaining("'high', not a number");
    }

    private static ScoredEvent own(String[] labels, double[] p, String negative, double[] modelThresholds) {
        FinancialEvent e = new FinancialEvent();
        e.eventId = "e-9";
        e.accountId = "ACC-9";
        ScoredEvent s = ScoredEvents.of(e, labels, p, "triage", "1", ScoredEvent.VARIANT_ACTIVE, 1, 2, 3);
        s.negativeLabel = negative;
        s.modelThresholds = modelThresholds;
        return s;
    }

    @Test
    void aModelOfYourOwnAlertsOnEveryLabelButItsNegativeOne() {
        AlertPolicy policy = AlertPolicy.builder()
                .ownLabels(java.util.List.of("dismiss", "escalate"))
                .threshold("escalate", 0.7)
                .build();
        String[] labels = {"dismiss", "escalate"};
        assertThat(policy.alertingLabel(own(labels, new double[] {0.95, 0.05}, "dismiss", null)))
                .as("nothing found is never an alert")
                .isNull();
        assertThat(policy.alertingLabel(own(labels, new double[] {0.25, 0.75}, "dismiss", null)))
                .isEqualTo("escalate");
        assertThat(policy.alertingLabel(own(labels, new double[] {0.35, 0.65}, "dismiss", null)))
                .as("below its override")
                .isNull();
        assertThatThrownBy(
                        () -> AlertPolicy.builder().threshold("escalate", 0.7).build())
                .hasMessageContaining("unknown label 'escalate'")
                .hasMessageContaining(ScreeningOptions.ALERT_LABELS.key());
        org.apache.flink.configuration.Configuration c = new org.apache.flink.configuration.Configuration();
        c.set(ScreeningOptions.ALERT_LABELS, java.util.List.of("dismiss", "escalate"));
        c.set(ScreeningOptions.ALERT_LABEL_THRESHOLDS, java.util.Map.of("escalate", "0.7"));
        assertThat(AlertPolicy.builder().configure(c).build().thresholdFor("escalate"))
                .isEqualTo(0.7);
    }

    @Test
    void aMultiLabelModelsOwnThresholdsApplyUnlessOverridden() {
        String[] labels = {"clear", "sanctions", "fraud"};
        double[] model = {Double.NaN, 0.7, 0.4};
        AlertPolicy defaults = AlertPolicy.defaults(); // default threshold 0.5
        // fraud reached the model's 0.4, below the job's default 0.5: the model's threshold decides
        assertThat(defaults.alertingLabel(own(labels, new double[] {0.55, 0.1, 0.45}, "clear", model)))
                .isEqualTo("fraud");
        // sanctions above the default but below the model's 0.7: no alert
        assertThat(defaults.alertingLabel(own(labels, new double[] {0.4, 0.6, 0.1}, "clear", model)))
                .isNull();
        AlertPolicy override = AlertPolicy.builder().threshold("fraud", 0.5).build();
        assertThat(override.alertingLabel(own(labels, new double[] {0.55, 0.1, 0.45}, "clear", model)))
                .as("a per-label override wins over the model's threshold")
                .isNull();
        Alert a = defaults.evaluate(own(labels, new double[] {0.55, 0.1, 0.45}, "clear", model), 7);
        assertThat(a.threshold).isEqualTo(0.4);
        // a result without the label list (only its top label) is judged on that label with the job's rules
        ScoredEvent bare = own(labels, new double[] {0.05, 0.05, 0.9}, "clear", model);
        bare.labels = null;
        bare.probabilities = null;
        bare.label = "fraud";
        bare.score = 0.9;
        Alert b = defaults.evaluate(bare, 8);
        assertThat(b.scored.label).isEqualTo("fraud");
        assertThat(b.threshold).isEqualTo(0.5);
    }
}
