package dev.flinkslm.models;

/** Where ONNX Runtime executes a model. */
public enum ExecutionProvider {
    /** The CPU provider. Always available. */
    CPU,
    /**
     * NVIDIA CUDA on the configured device. Needs the {@code gpu} build (onnxruntime_gpu) plus CUDA 12
     * and cuDNN 9 on the host. When it cannot be initialised the session falls back to CPU with one
     * WARN, or fails when {@link RuntimeOptions#strict()} is set.
     */
    CUDA,
    /**
     * CUDA when this build has the CUDA provider and it initialises, else CPU. On a CPU build this is
     * CPU without a warning.
     */
    AUTO
}
