package org.projntk.tensor;

/** Element types of model inputs. Codes mirror enum projntk_dtype; integer and bool inputs are never converted. */
public enum DType {
    /** IEEE float32. */
    FLOAT32(4),
    /** IEEE float64. */
    FLOAT64(8),
    /** Signed 64-bit integers (token ids, labels). */
    INT64(8),
    /** Signed 32-bit integers. */
    INT32(4),
    /** One byte per element, 0 or 1. */
    BOOL(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** {@return the projntk_dtype code passed to the native engine} */
    public int code() {
        return ordinal();
    }

    /** {@return the size of one element in bytes} */
    public int bytes() {
        return bytes;
    }

    /** {@return true for FLOAT32 and FLOAT64, the types gradients can flow through} */
    public boolean isFloating() {
        return this == FLOAT32 || this == FLOAT64;
    }

    /** {@return the name in lower case, as messages and the CLI write it ("float32")} */
    public String lowerName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
