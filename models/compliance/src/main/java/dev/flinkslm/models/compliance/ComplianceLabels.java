package dev.flinkslm.models.compliance;

import java.util.List;

/**
 * The fixed label set of the default compliance model, in output order.
 *
 * <p>Index {@code i} of the model's {@code probabilities} output is the probability of
 * {@code ALL.get(i)}. Immutable; safe to use from any thread.
 */
public final class ComplianceLabels {

    /** Ordinary activity. */
    public static final String CLEAR = "clear";
    /** Exposure to or evasion of sanctions. */
    public static final String SANCTIONS = "sanctions";
    /** Splitting cash or transfers to stay under reporting thresholds. */
    public static final String STRUCTURING = "structuring";
    /** Scams, account takeover, impersonation, advance-fee and investment fraud. */
    public static final String FRAUD = "fraud";
    /** Insider dealing, front-running, spoofing/layering, collusion, benchmark manipulation. */
    public static final String MARKET_ABUSE = "market_abuse";

    /** All labels in model output order. */
    public static final List<String> ALL = List.of(CLEAR, SANCTIONS, STRUCTURING, FRAUD, MARKET_ABUSE);

    private ComplianceLabels() {}

    /** Index of a label in {@link #ALL}; throws with the valid set if unknown. */
    public static int indexOf(String label) {
        int i = ALL.indexOf(label);
        if (i < 0) {
            throw new IllegalArgumentException("Unknown compliance label '" + label + "'; expected one of " + ALL);
        }
        return i;
    }
}
