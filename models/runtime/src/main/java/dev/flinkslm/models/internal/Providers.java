package dev.flinkslm.models.internal;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.models.RuntimeOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds ONNX Runtime session options for the requested provider and decides what actually runs.
 *
 * <p>Initialising CUDA on a host without it costs seconds, so a failure is remembered per device for
 * the life of the JVM and reported with a single WARN.
 */
public final class Providers {

    private static final Logger LOG = LoggerFactory.getLogger(Providers.class);

    private static final Map<Integer, String> CUDA_FAILURES = new ConcurrentHashMap<>();

    private Providers() {}

    /** Session options plus the provider they select. Close the options after creating the session. */
    public record Selection(OrtSession.SessionOptions options, ExecutionProvider provider, String fallbackReason) {}

    /** Whether the ONNX Runtime build on the classpath includes the CUDA provider (not whether it works). */
    public static boolean cudaCompiledIn() {
        try {
            EnumSet<OrtProvider> available = ai.onnxruntime.OrtEnvironment.getAvailableProviders();
            return available.contains(OrtProvider.CUDA);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    public static Selection select(RuntimeOptions runtime) throws BundleException {
        ExecutionProvider requested = runtime.provider();
        boolean tryCuda =
                requested == ExecutionProvider.CUDA || requested == ExecutionProvider.AUTO && cudaCompiledIn();
        if (!tryCuda) {
            if (requested == ExecutionProvider.AUTO && runtime.strict()) {
                throw new BundleException(
                        BundleException.Reason.PROVIDER_UNAVAILABLE,
                        "provider AUTO with strict mode needs the CUDA provider, but this build has none;"
                                + " build with -Pgpu or use provider CPU");
            }
            return new Selection(base(runtime), ExecutionProvider.CPU, null);
        }
        String knownFailure = CUDA_FAILURES.get(runtime.deviceId());
        if (knownFailure == null) {
            OrtSession.SessionOptions options = base(runtime);
            try {
                options.addCUDA(runtime.deviceId());
                return new Selection(options, ExecutionProvider.CUDA, null);
            } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
                options.close();
                knownFailure = e.getClass().getSimpleName() + ": " + e.getMessage();
                if (CUDA_FAILURES.putIfAbsent(runtime.deviceId(), knownFailure) == null && !runtime.strict()) {
                    LOG.warn(
                            "CUDA device {} cannot be used ({}); falling back to the CPU execution provider."
                                    + " Install CUDA 12 + cuDNN 9 and build with -Pgpu, or set the provider to CPU.",
                            runtime.deviceId(),
                            knownFailure);
                }
            }
        }
        if (runtime.strict()) {
            throw new BundleException(
                    BundleException.Reason.PROVIDER_UNAVAILABLE,
                    "CUDA device " + runtime.deviceId() + " was requested in strict mode but cannot be used: "
                            + knownFailure);
        }
        return new Selection(base(runtime), ExecutionProvider.CPU, knownFailure);
    }

    private static OrtSession.SessionOptions base(RuntimeOptions runtime) throws BundleException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setIntraOpNumThreads(runtime.intraOpThreads());
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(
                    switch (runtime.optimization()) {
                        case NONE -> OrtSession.SessionOptions.OptLevel.NO_OPT;
                        case BASIC -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
                        case EXTENDED -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
                        case ALL -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
                    });
            return options;
        } catch (OrtException e) {
            options.close();
            throw new BundleException(BundleException.Reason.UNREADABLE_MODEL, "invalid session options: " + e, e);
        }
    }

    /** Forgets remembered CUDA failures (tests). */
    static void resetForTests() {
        CUDA_FAILURES.clear();
    }
}
