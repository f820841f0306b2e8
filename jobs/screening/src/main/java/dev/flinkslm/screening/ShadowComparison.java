package dev.flinkslm.screening;

import org.apache.flink.annotation.PublicEvolving;

/**
 * A shadow version's answer for one event next to the served answer: what the screening job writes to
 * {@link ScreeningOptions#SHADOW_TOPIC} (or {@code DIR/shadow/}) while a {@code SHADOW} deployment runs, so that
 * a candidate model can be compared on live traffic before it serves anyone. Holds identifiers, labels and
 * scores, never the event's text. A Flink POJO; not thread-safe.
 *
 * <p>JSON layout: {@code {"eventId":"e-1","accountId":"ACC-1","servedModel":"triage:1.0.0-int8",
 * "servedLabel":"clear","servedScore":0.93,"shadowModel":"triage:1.1.0-int8","shadowLabel":"clear",
 * "shadowScore":0.88,"agree":true,"agreementRate":0.971,"compared":1234}}; {@code agreementRate} and
 * {@code compared} count this shadow version's comparisons on the subtask that wrote the record.
 */
@PublicEvolving
public class ShadowComparison {
    public String eventId;
    public String accountId;
    public String servedModel;
    public String servedLabel;
    public float servedScore;
    public String shadowModel;
    public String shadowLabel;
    public float shadowScore;
    public boolean agree;
    public double agreementRate;
    public long compared;

    public ShadowComparison() {}

    @Override
    public String toString() {
        return "ShadowComparison{" + eventId + " " + servedModel + "=" + servedLabel + " vs " + shadowModel + "="
                + shadowLabel + "}";
    }
}
