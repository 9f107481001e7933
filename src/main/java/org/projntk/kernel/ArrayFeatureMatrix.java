package org.projntk.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * An in-memory {@link FeatureMatrix} on an off-heap segment (so it can be handed to native BLAS). Immutable once made
 * (the segment's owner must not write it afterwards) and safe to read from any thread; {@link #rows(long, int)} returns
 * slices of the segment that stay valid as long as the segment does.
 */
public final class ArrayFeatureMatrix implements FeatureMatrix {
    private final long rows;
    private final int dim;
    private final MemorySegment data;

    /**
     * Wraps an existing float32 row-major [rows x dim] segment, not copied: its arena owns the memory and must stay
     * open while the matrix is used.
     *
     * @param data the values, at least rows * dim floats
     * @param rows the number of rows, at least 0
     * @param dim  the number of columns, at least 1
     * @throws IllegalArgumentException for a bad shape or a segment too small for it
     */
    public ArrayFeatureMatrix(MemorySegment data, long rows, int dim) {
        Objects.requireNonNull(data, "data");
        if (rows < 0 || dim < 1) {
            throw new IllegalArgumentException("feature matrix needs rows >= 0 and dim >= 1, got " + rows + " x " + dim);
        }
        if (data.byteSize() < rows * dim * Float.BYTES) {
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes is too small for "
                    + rows + " x " + dim + " floats");
        }
        this.rows = rows;
        this.dim = dim;
        this.data = data;
    }

    /**
     * Copies a rectangular float[rows][dim] array off-heap, into memory the garbage collector frees.
     *
     * @param values the rows, at least one, all of the same non-zero length
     * @return the matrix
     * @throws IllegalArgumentException for no rows or ragged rows
     */
    public static ArrayFeatureMatrix of(float[][] values) {
        Objects.requireNonNull(values, "values");
        if (values.length == 0) {
            throw new IllegalArgumentException("feature matrix has no rows");
        }
        int dim = values[0].length;
        MemorySegment seg = Arena.ofAuto().allocate((long) values.length * dim * Float.BYTES, 64);
        for (int i = 0; i < values.length; i++) {
            if (values[i].length != dim) {
                throw new IllegalArgumentException("ragged feature rows: row 0 has " + dim + " values, row " + i
                        + " has " + values[i].length);
            }
            MemorySegment.copy(values[i], 0, seg, ValueLayout.JAVA_FLOAT, (long) i * dim * Float.BYTES, dim);
        }
        return new ArrayFeatureMatrix(seg, values.length, dim);
    }

    @Override
    public long rows() {
        return rows;
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public MemorySegment rows(long start, int count) {
        if (start < 0 || count < 0 || start + count > rows) {
            throw new IndexOutOfBoundsException("rows [" + start + ", " + (start + count) + ") outside [0, " + rows + ")");
        }
        return data.asSlice(start * dim * Float.BYTES, (long) count * dim * Float.BYTES);
    }

    /**
     * One value, unchecked beyond the segment's bounds.
     *
     * @param row the row, in [0, rows())
     * @param col the column, in [0, dim())
     * @return the value at (row, col)
     */
    public float get(long row, int col) {
        return data.getAtIndex(ValueLayout.JAVA_FLOAT, row * dim + col);
    }
}
