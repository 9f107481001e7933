package org.projntk.torch;

/** Where a model or projector runs. Values mirror enum projntk_device. */
public enum Device {
    /** The host's CPUs. */
    CPU,
    /** An NVIDIA GPU, chosen by its ordinal. */
    CUDA;

    /** Mirrors PROJNTK_DEVICE_ORDINAL_SHIFT: a CUDA device's ordinal sits in the bits above the lowest 8. */
    static final int ORDINAL_SHIFT = 8;
    /** The largest GPU ordinal the native device argument can carry. */
    public static final int MAX_GPU = (1 << (31 - ORDINAL_SHIFT)) - 1;

    /** {@return the projntk_device value (GPU 0 for CUDA)} */
    public int code() {
        return ordinal();
    }

    /**
     * The native device argument for GPU {@code gpu} of this kind (projntk.h's projntk_device_ordinal).
     *
     * @param gpu the CUDA ordinal, in [0, {@link #MAX_GPU}]; 0 for the CPU
     * @return the kind in the low 8 bits, the ordinal above them
     * @throws IllegalArgumentException for a negative or too large ordinal, or an ordinal other than 0 with the CPU
     */
    public int code(int gpu) {
        checkGpu(gpu);
        return ordinal() | (gpu << ORDINAL_SHIFT);
    }

    /**
     * How messages and store manifests name a device.
     *
     * @param gpu the CUDA ordinal; 0 for the CPU
     * @return {@code cpu}, or {@code cuda:N} for GPU N
     * @throws IllegalArgumentException for an ordinal that does not suit the kind
     */
    public String label(int gpu) {
        checkGpu(gpu);
        return this == CPU ? "cpu" : "cuda:" + gpu;
    }

    /**
     * Accepts the GPU ordinal for this kind or throws, naming it.
     *
     * @param gpu the ordinal
     * @throws IllegalArgumentException for a negative or too large ordinal, or one other than 0 with the CPU
     */
    public void checkGpu(int gpu) {
        if (gpu < 0 || gpu > MAX_GPU) throw new IllegalArgumentException("GPU ordinal must be in [0, " + MAX_GPU + "], got " + gpu);
        if (this == CPU && gpu != 0) throw new IllegalArgumentException("a GPU ordinal (" + gpu + ") applies to device cuda only, not cpu");
    }

    /**
     * Parses a command-line name, case-insensitively.
     *
     * @param text {@code cpu}, {@code cuda} or {@code gpu}
     * @return the device
     * @throws IllegalArgumentException for another name
     */
    public static Device parse(String text) {
        return switch (text.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new IllegalArgumentException("unknown device '" + text + "' (expected cpu or cuda)");
        };
    }
}
