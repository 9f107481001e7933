package org.projntk.tensor;

/** Element types of model inputs. Codes mirror enum projntk_dtype; integer and bool inputs are never converted. */
public enum DType {
    FLOAT32(4), FLOAT64(8), INT64(8), INT32(4), BOOL(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int code() {
        return ordinal();
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloating() {
        return this == FLOAT32 || this == FLOAT64;
    }

    public String lowerName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
