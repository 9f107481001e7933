package org.projntk.torch;

/** Where a model or projector runs. Values mirror enum projntk_device. */
public enum Device {
    CPU, CUDA;

    /** Mirrors PROJNTK_DEVICE_ORDINAL_SHIFT: a CUDA device's ordinal sits in the bits above the lowest 8. */
    static final int ORDINAL_SHIFT = 8;
    /** The largest GPU ordinal the native device argument can carry. */
    public static final int MAX_GPU = (1 << (31 - ORDINAL_SHIFT)) - 1;

    public int code() {
        return ordinal();
    }

    /**
     * The native device argument for GPU {@code gpu} of this kind (projntk.h's projntk_device_ordinal).
     *
     * @throws IllegalArgumentException for a negative or too large ordinal, or an ordinal other than 0 with the CPU
     */
    public int code(int gpu) {
        checkGpu(gpu);
        return ordinal() | (gpu << ORDINAL_SHIFT);
    }

    /** {@code cpu}, or {@code cuda:N} for GPU N: how messages and store manifests name a device. */
    public String label(int gpu) {
        checkGpu(gpu);
        return this == CPU ? "cpu" : "cuda:" + gpu;
    }

    /** Accepts the GPU ordinal for this kind or throws, naming it. */
    public void checkGpu(int gpu) {
        if (gpu < 0 || gpu > MAX_GPU) throw new IllegalArgumentException("GPU ordinal must be in [0, " + MAX_GPU + "], got " + gpu);
        if (this == CPU && gpu != 0) throw new IllegalArgumentException("a GPU ordinal (" + gpu + ") applies to device cuda only, not cpu");
    }

    public static Device parse(String text) {
        return switch (text.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new IllegalArgumentException("unknown device '" + text + "' (expected cpu or cuda)");
        };
    }
}
