package dev.flinkslm.operators.versions;

import dev.flinkslm.operators.internal.versions.Scope;
import org.apache.flink.annotation.PublicEvolving;

/**
 * Which keys a percent deployment ({@code DEPLOY ... "percent": p}) covers, as the operator decides
 * it: a stable hash of the key's string form, salted with the command id, in hundredths of a
 * percent. The same command covers the same keys on every subtask, after restarts and rescaling;
 * two canaries of the same size cover different keys. For analysis outside the job, such as
 * splitting a backtest into the keys a canary will and will not see.
 *
 * <pre>{@code
 * boolean seesCanary = KeyShares.covers("canary-2026-12-01", 10.0, "ACC-000417");
 * }</pre>
 *
 * <p>Threading: stateless.
 */
@PublicEvolving
public final class KeyShares {

    private KeyShares() {}

    /**
     * Whether a deployment of {@code percent} percent of the keys by command {@code commandId}
     * covers {@code key}; {@code percent} is rounded to hundredths (at least one hundredth), and 100
     * covers every key.
     *
     * @throws IllegalArgumentException when {@code percent} is not in (0, 100], which no DEPLOY may
     *     carry
     */
    public static boolean covers(String commandId, double percent, String key) {
        if (!(percent > 0 && percent <= 100)) {
            throw new IllegalArgumentException("percent must be in (0, 100], was " + percent);
        }
        return Scope.percent(percent, commandId).contains(key, Scope.hash(key));
    }
}
