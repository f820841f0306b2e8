package dev.flinkslm.operators;

import dev.flinkslm.models.BundleLimits;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelRoots;
import dev.flinkslm.models.RuntimeOptions;
import dev.flinkslm.models.WindowOptions;
import dev.flinkslm.operators.versions.VersionsConfig;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * The validated settings of one scoring operator. Built by {@link SlmScoring.Builder}; see
 * {@link ScoringOptions} for meanings and defaults. Immutable.
 */
@PublicEvolving
public record ScoringConfig(
        int maxBatchSize,
        int maxBatchTokens,
        Duration maxWait,
        DispatchPolicy dispatch,
        Duration latencyBudget,
        int maxInFlight,
        DispatcherConfig dispatcher,
        boolean groupByLength,
        OutputMode outputMode,
        RuntimeOptions runtime,
        Duration inferenceTimeout,
        int maxRetries,
        Duration retryBackoff,
        FailurePolicy failurePolicy,
        List<String> modelRoots,
        WindowOptions windows,
        int maxConsecutiveTimeouts,
        VersionsConfig versions,
        BundleLimits bundleLimits)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    public ScoringConfig {
        modelRoots = modelRoots == null ? List.of() : List.copyOf(modelRoots);
    }

    /**
     * The token-length bucket a text joins when {@link #groupByLength()} is on: 8 tokens wide up to
     * 64 tokens, then powers of two, so a batch pads each text by at most 7 tokens where most texts
     * are. Texts of different buckets never share a batch.
     */
    public static int lengthBucket(int tokens) {
        return tokens <= 64 ? (tokens + 7) / 8 : 8 + (32 - Integer.numberOfLeadingZeros(tokens - 1));
    }

    /** Reads every {@link ScoringOptions} option (defaults for those not set). */
    public static ScoringConfig from(ReadableConfig c) {
        return new ScoringConfig(
                c.get(ScoringOptions.MAX_BATCH_SIZE),
                c.get(ScoringOptions.MAX_BATCH_TOKENS),
                c.get(ScoringOptions.MAX_WAIT),
                c.get(ScoringOptions.DISPATCH),
                c.getOptional(ScoringOptions.LATENCY_BUDGET).orElse(null),
                c.get(ScoringOptions.MAX_IN_FLIGHT),
                new DispatcherConfig(
                        c.getOptional(ScoringOptions.COALESCE).orElse(null),
                        c.get(ScoringOptions.DISPATCHER_THREADS),
                        c.get(ScoringOptions.DISPATCHER_MAX_BATCH_SIZE),
                        c.get(ScoringOptions.DISPATCHER_MAX_BATCH_TOKENS)),
                c.get(ScoringOptions.GROUP_BY_LENGTH),
                c.get(ScoringOptions.OUTPUT_MODE),
                new RuntimeOptions(
                        c.get(ScoringOptions.PROVIDER),
                        c.get(ScoringOptions.CUDA_DEVICE),
                        c.get(ScoringOptions.INTRA_OP_THREADS),
                        c.get(ScoringOptions.OPTIMIZATION),
                        c.get(ScoringOptions.STRICT_PROVIDER)),
                c.get(ScoringOptions.INFERENCE_TIMEOUT),
                c.get(ScoringOptions.MAX_RETRIES),
                c.get(ScoringOptions.RETRY_BACKOFF),
                c.get(ScoringOptions.FAILURE_POLICY),
                c.getOptional(ScoringOptions.MODEL_ROOTS).orElse(List.of()),
                new WindowOptions(c.get(ScoringOptions.WINDOW_STRIDE), c.get(ScoringOptions.MAX_WINDOWS)),
                c.get(ScoringOptions.MAX_CONSECUTIVE_TIMEOUTS),
                VersionsConfig.from(c),
                bundleLimits(c));
    }

    private static BundleLimits bundleLimits(ReadableConfig c) {
        try {
            return new BundleLimits(
                    c.get(ScoringOptions.BUNDLE_MAX_MANIFEST_SIZE).getBytes(),
                    c.get(ScoringOptions.BUNDLE_MAX_GOLDEN_EXAMPLES),
                    c.get(ScoringOptions.BUNDLE_MAX_SIZE).getBytes(),
                    c.get(ScoringOptions.BUNDLE_MAX_ARCHIVE_ENTRIES),
                    c.get(ScoringOptions.BUNDLE_MAX_ARCHIVE_ENTRY_SIZE).getBytes(),
                    c.get(ScoringOptions.BUNDLE_MAX_ARCHIVE_SIZE).getBytes());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid slm.bundle.* limit: " + e.getMessage(), e);
        }
    }

    /** A loader of bundles under the model roots, within the bundle limits. */
    public BundleLoader bundleLoader() {
        return BundleLoader.builder().roots(roots()).limits(bundleLimits).build();
    }

    public static ScoringConfig defaults() {
        return from(new Configuration());
    }

    public ModelRoots roots() {
        return ModelRoots.of(modelRoots);
    }

    /** Most rows in one batch or joint run ({@code slm.batch.max-size}, {@code slm.dispatcher.max-batch-size}). */
    public static final int MAX_BATCH_ROWS = 65_536;

    /** Fewest padded tokens a batch cap may allow ({@code slm.batch.max-tokens} and the dispatcher's). */
    public static final int MIN_BATCH_TOKENS = 2;

    /** Most batch dispatcher threads per TaskManager ({@code slm.dispatcher.threads}). */
    public static final int MAX_DISPATCHER_THREADS = 64;

    /** Most windows scored per text ({@code slm.text.max-windows}). */
    public static final int MAX_WINDOWS_PER_TEXT = 1024;

    /** Fails fast with a message naming the option to fix. */
    public ScoringConfig validate() {
        check(
                maxBatchSize >= 1 && maxBatchSize <= MAX_BATCH_ROWS,
                ScoringOptions.MAX_BATCH_SIZE.key() + " must be between 1 and " + MAX_BATCH_ROWS + ", was "
                        + maxBatchSize);
        check(
                maxBatchTokens >= MIN_BATCH_TOKENS,
                ScoringOptions.MAX_BATCH_TOKENS.key() + " must be at least " + MIN_BATCH_TOKENS + ", was "
                        + maxBatchTokens);
        check(
                maxWait != null && !maxWait.isNegative() && maxWait.toMillis() >= 1,
                ScoringOptions.MAX_WAIT.key() + " must be at least 1 ms, was " + maxWait);
        check(dispatch != null, ScoringOptions.DISPATCH.key() + " must be ADAPTIVE or FILL");
        check(
                latencyBudget == null || latencyBudget.toMillis() >= 1,
                ScoringOptions.LATENCY_BUDGET.key() + " must be at least 1 ms (or unset), was " + latencyBudget);
        check(
                maxInFlight >= 1 && maxInFlight <= 256,
                ScoringOptions.MAX_IN_FLIGHT.key() + " must be between 1 and 256, was " + maxInFlight);
        check(dispatcher != null, "dispatcher settings are required");
        dispatcher.validate();
        check(
                inferenceTimeout != null && inferenceTimeout.toMillis() >= 1,
                ScoringOptions.INFERENCE_TIMEOUT.key() + " must be at least 1 ms, was " + inferenceTimeout);
        check(
                maxRetries >= 0 && maxRetries <= 100,
                ScoringOptions.MAX_RETRIES.key() + " must be between 0 and 100, was " + maxRetries);
        check(
                retryBackoff != null && !retryBackoff.isNegative(),
                ScoringOptions.RETRY_BACKOFF.key() + " must not be negative, was " + retryBackoff);
        check(outputMode != null, ScoringOptions.OUTPUT_MODE.key() + " must be ORDERED or UNORDERED");
        check(failurePolicy != null, ScoringOptions.FAILURE_POLICY.key() + " must be DEAD_LETTER or FAIL");
        check(runtime != null, "runtime options are required");
        check(
                windows != null && windows.maxWindows() >= 1 && windows.maxWindows() <= MAX_WINDOWS_PER_TEXT,
                ScoringOptions.MAX_WINDOWS.key() + " must be between 1 and " + MAX_WINDOWS_PER_TEXT + ", was "
                        + (windows == null ? null : windows.maxWindows()));
        check(
                windows.stride() >= 0,
                ScoringOptions.WINDOW_STRIDE.key() + " must not be negative, was " + windows.stride());
        check(
                maxConsecutiveTimeouts >= 1,
                ScoringOptions.MAX_CONSECUTIVE_TIMEOUTS.key() + " must be at least 1, was " + maxConsecutiveTimeouts);
        check(bundleLimits != null, "bundle limits are required");
        check(versions != null, "versions settings are required");
        versions.validate();
        return this;
    }

    /**
     * The TaskManager-wide batch dispatcher ({@code slm.dispatcher.*}). {@code enabled} null means on
     * for sessions that run on CUDA only.
     */
    public record DispatcherConfig(Boolean enabled, int threads, int maxBatchSize, int maxBatchTokens)
            implements Serializable {

        private static final long serialVersionUID = 1L;

        void validate() {
            check(
                    threads >= 1 && threads <= MAX_DISPATCHER_THREADS,
                    ScoringOptions.DISPATCHER_THREADS.key() + " must be between 1 and " + MAX_DISPATCHER_THREADS
                            + ", was " + threads);
            check(
                    maxBatchSize >= 1 && maxBatchSize <= MAX_BATCH_ROWS,
                    ScoringOptions.DISPATCHER_MAX_BATCH_SIZE.key() + " must be between 1 and " + MAX_BATCH_ROWS
                            + ", was " + maxBatchSize);
            check(
                    maxBatchTokens >= MIN_BATCH_TOKENS,
                    ScoringOptions.DISPATCHER_MAX_BATCH_TOKENS.key() + " must be at least " + MIN_BATCH_TOKENS
                            + ", was " + maxBatchTokens);
        }
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
