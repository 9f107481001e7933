package org.projntk.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A dense float32 row-major [rows x cols] kernel held in memory (off-heap). Mutable through {@link #set} and
 * {@link #data}; reads from several threads are safe, writes need the caller's own synchronisation.
 *
 * @param rows the number of rows, at least 0
 * @param cols the number of columns, at least 0
 * @param data the values, at least rows * cols floats; not copied, its arena owns the memory
 */
public record KernelMatrix(int rows, int cols, MemorySegment data) {
    /**
     * Checks the shape against the segment.
     *
     * @throws IllegalArgumentException for a negative shape or a segment too small for it
     */
    public KernelMatrix {
        Objects.requireNonNull(data, "data");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative kernel shape " + rows + " x " + cols);
        }
        if (data.byteSize() < (long) rows * cols * Float.BYTES) {
            throw new IllegalArgumentException("segment too small for a " + rows + " x " + cols + " kernel");
        }
    }

    /**
     * A zero-filled matrix in an automatic arena (freed by the garbage collector), 64-byte aligned.
     *
     * @param rows the number of rows, at least 0
     * @param cols the number of columns, at least 0
     * @return the matrix
     */
    public static KernelMatrix allocate(int rows, int cols) {
        long bytes = Math.max(1L, (long) rows * cols * Float.BYTES);
        return new KernelMatrix(rows, cols, Arena.ofAuto().allocate(bytes, 64));
    }

    /**
     * Copies a rectangular array into a new matrix.
     *
     * @param values the rows, all of the same length (none gives a [0 x 0] matrix)
     * @return the matrix
     * @throws IllegalArgumentException for ragged rows
     */
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

    /**
     * Copies a rectangular array into a new matrix, rounding each value to float32.
     *
     * @param values the rows, all of the same length (none gives a [0 x 0] matrix)
     * @return the matrix
     * @throws IllegalArgumentException for ragged rows
     */
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

    /**
     * One entry, unchecked beyond the segment's bounds.
     *
     * @param i the row, in [0, rows)
     * @param j the column, in [0, cols)
     * @return K[i, j]
     */
    public float get(int i, int j) {
        return data.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * cols + j);
    }

    /**
     * Overwrites one entry, unchecked beyond the segment's bounds.
     *
     * @param i the row, in [0, rows)
     * @param j the column, in [0, cols)
     * @param v the new value of K[i, j]
     */
    public void set(int i, int j, float v) {
        data.setAtIndex(ValueLayout.JAVA_FLOAT, (long) i * cols + j, v);
    }

    /**
     * Row i copied into a new array.
     *
     * @param i the row, in [0, rows)
     * @return its cols values
     */
    public float[] row(int i) {
        float[] out = new float[cols];
        MemorySegment.copy(data, ValueLayout.JAVA_FLOAT, (long) i * cols * Float.BYTES, out, 0, cols);
        return out;
    }

    /** {@return the whole matrix copied to the heap, [rows][cols]} */
    public float[][] toArray() {
        float[][] out = new float[rows][];
        for (int i = 0; i < rows; i++) {
            out[i] = row(i);
        }
        return out;
    }

    /** {@return whether rows equals cols} */
    public boolean isSquare() {
        return rows == cols;
    }
}
