package dev.flinkslm.models;

import java.io.Serializable;
import java.util.Locale;

/**
 * How ONNX Runtime runs a model: execution provider, CUDA device, intra-op threads, graph
 * optimisation, and whether an unavailable provider is an error.
 *
 * <pre>{@code
 * RuntimeOptions cpu = RuntimeOptions.defaults().withIntraOpThreads(2);
 * RuntimeOptions gpu = RuntimeOptions.defaults().withProvider(ExecutionProvider.CUDA).withDeviceId(0).withStrict(true);
 * }</pre>
 *
 * <p>Part of the session cache key: sessions with different options are distinct. Immutable.
 *
 * @param provider requested execution provider (default AUTO)
 * @param deviceId CUDA device ordinal (default 0)
 * @param intraOpThreads threads ONNX Runtime uses inside one run (default 1; batches run
 *     concurrently on several caller threads instead, which measured faster here)
 * @param optimization graph optimisation level (default ALL)
 * @param strict fail instead of falling back to CPU when CUDA cannot be used (default false)
 */
public record RuntimeOptions(
        ExecutionProvider provider, int deviceId, int intraOpThreads, Optimization optimization, boolean strict)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Graph optimisation levels, mapped to ONNX Runtime's OptLevel. */
    public enum Optimization {
        NONE,
        BASIC,
        EXTENDED,
        ALL
    }

    public RuntimeOptions {
        if (provider == null) {
            throw new IllegalArgumentException("execution provider must be one of CPU, CUDA, AUTO");
        }
        if (deviceId < 0) {
            throw new IllegalArgumentException("CUDA device id must be >= 0, was " + deviceId);
        }
        if (intraOpThreads < 1 || intraOpThreads > 256) {
            throw new IllegalArgumentException("intra-op threads must be between 1 and 256, was " + intraOpThreads);
        }
        if (optimization == null) {
            throw new IllegalArgumentException("optimization must be one of NONE, BASIC, EXTENDED, ALL");
        }
    }

    public static RuntimeOptions defaults() {
        return new RuntimeOptions(ExecutionProvider.AUTO, 0, 1, Optimization.ALL, false);
    }

    public static RuntimeOptions cpu() {
        return defaults().withProvider(ExecutionProvider.CPU);
    }

    public RuntimeOptions withProvider(ExecutionProvider value) {
        return new RuntimeOptions(value, deviceId, intraOpThreads, optimization, strict);
    }

    public RuntimeOptions withDeviceId(int value) {
        return new RuntimeOptions(provider, value, intraOpThreads, optimization, strict);
    }

    public RuntimeOptions withIntraOpThreads(int value) {
        return new RuntimeOptions(provider, deviceId, value, optimization, strict);
    }

    public RuntimeOptions withOptimization(Optimization value) {
        return new RuntimeOptions(provider, deviceId, intraOpThreads, value, strict);
    }

    public RuntimeOptions withStrict(boolean value) {
        return new RuntimeOptions(provider, deviceId, intraOpThreads, optimization, value);
    }

    /** Parses a provider name case-insensitively, with a message listing the valid names. */
    public static ExecutionProvider parseProvider(String name) {
        try {
            return ExecutionProvider.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown execution provider '" + name + "'; use one of CPU, CUDA, AUTO");
        }
    }
}
