package dev.flinkslm.operators.versions;

import org.apache.flink.annotation.PublicEvolving;

/**
 * A shadow version's answer for an element, next to the answer of the version that served it.
 * Shadow results never change the primary output. A Flink POJO on the shadow side output.
 */
@PublicEvolving
public class ShadowResult<IN> {
    public IN element;
    public String servedModel;
    public String servedLabel;
    public float servedScore;
    public String shadowModel;
    public String shadowLabel;
    public float shadowScore;
    /** Whether both versions gave the same top label. */
    public boolean agree;
    /** Share of agreeing elements for this shadow version on this subtask so far. */
    public double agreementRate;
    /** Elements compared for this shadow version on this subtask so far. */
    public long compared;

    public ShadowResult() {}

    @Override
    public String toString() {
        return "ShadowResult{" + servedModel + "=" + servedLabel + " vs " + shadowModel + "=" + shadowLabel + " agree="
                + agree + " rate=" + agreementRate + "}";
    }
}
