package org.projntk.torch;

/** Where a model or projector runs. Values mirror enum projntk_device. */
public enum Device {
    CPU, CUDA;

    public int code() {
        return ordinal();
    }

    public static Device parse(String text) {
        return switch (text.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new IllegalArgumentException("unknown device '" + text + "' (expected cpu or cuda)");
        };
    }
}
