package org.projntk.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/** A dense float32 row-major [rows x cols] kernel held in memory (off-heap). */
public record KernelMatrix(int rows, int cols, MemorySegment data) {
    public KernelMatrix {
        Objects.requireNonNull(data, "data");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative kernel shape " + rows + " x " + cols);
        }
        if (data.byteSize() < (long) rows * cols * Float.BYTES) {
            throw new IllegalArgumentException("segment too small for a " + rows + " x " + cols + " kernel");
        }
    }

    /** A zero-filled matrix in an automatic arena. */
    public static KernelMatrix allocate(int rows, int cols) {
        long bytes = Math.max(1L, (long) rows * cols * Float.BYTES);
        return new KernelMatrix(rows, cols, Arena.ofAuto().allocate(bytes, 64));
    }

    public static KernelMatrix of(float[][] values) {
        int r = values.length;
        int c = r == 0 ? 0 : values[0].length;
        KernelMatrix m = allocate(r, c);
        for (int i = 0; i < r; i++) {
            if (values[i].length != c) {
                throw new IllegalArgumentException("ragged kernel rows: row 0 has " + c + ", row " + i + " has " + values[i].length);
            }
            MemorySegment.copy(values[i], 0, m.data, ValueLayout.JAVA_FLOAT, (long) i * c * Float.BYTES, c);
        }
        return m;
    }

    public static KernelMatrix of(double[][] values) {
        float[][] f = new float[values.length][];
        for (int i = 0; i < values.length; i++) {
            f[i] = new float[values[i].length];
            for (int j = 0; j < f[i].length; j++) {
                f[i][j] = (float) values[i][j];
            }
        }
        return of(f);
    }

    public float get(int i, int j) {
        return data.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * cols + j);
    }

    public void set(int i, int j, float v) {
        data.setAtIndex(ValueLayout.JAVA_FLOAT, (long) i * cols + j, v);
    }

    /** Row i copied into a new array. */
    public float[] row(int i) {
        float[] out = new float[cols];
        MemorySegment.copy(data, ValueLayout.JAVA_FLOAT, (long) i * cols * Float.BYTES, out, 0, cols);
        return out;
    }

    public float[][] toArray() {
        float[][] out = new float[rows][];
        for (int i = 0; i < rows; i++) {
            out[i] = row(i);
        }
        return out;
    }

    public boolean isSquare() {
        return rows == cols;
    }
}
