package org.projntk.store;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import org.projntk.data.Npy;

/**
 * A read-only [rows x dim] feature file, memory-mapped. float32 files are served straight from the mapping; float16
 * files are converted to float32 on read. Close to unmap; using it after close throws IllegalStateException.
 */
public final class StoredMatrix implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final long rows;
    private final int dim;
    private final Npy.Dtype dtype;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment data;

    StoredMatrix(Path file, long rows, int dim) {
        this.file = file;
        Npy.Header h = Npy.readCHeader(file);
        if (h.dtype() != Npy.Dtype.FLOAT32 && h.dtype() != Npy.Dtype.FLOAT16) {
            throw new IllegalStateException(file + " has dtype " + h.dtype().descr + ", expected <f4 or <f2");
        }
        if (!Arrays.equals(h.shape(), new long[] {rows, dim})) {
            throw new IllegalStateException(file + " has shape " + Arrays.toString(h.shape()) + ", manifest says [" + rows + ", " + dim + "]");
        }
        this.rows = rows;
        this.dim = dim;
        this.dtype = h.dtype();
        this.data = Npy.map(file, h, arena);
    }

    /** {@return the .npy file} */
    public Path file() {
        return file;
    }

    /** {@return the number of rows (examples)} */
    public long rows() {
        return rows;
    }

    /** {@return the features per row, K} */
    public int dim() {
        return dim;
    }

    /** {@return "float32" or "float16", as stored} */
    public String dtype() {
        return dtype == Npy.Dtype.FLOAT32 ? "float32" : "float16";
    }

    /**
     * Rows [start, start+count) as float32 little-endian [count x dim]: a slice of the read-only mapping for float32
     * files (valid until close), a converted copy for float16 files.
     *
     * @param start the first row
     * @param count the number of rows
     * @return the rows, count·dim floats
     * @throws IndexOutOfBoundsException if the rows are not all in [0, rows())
     */
    public MemorySegment rows(long start, int count) {
        check(start, count);
        if (dtype == Npy.Dtype.FLOAT32) return data.asSlice(start * dim * 4L, (long) count * dim * 4L);
        long n = (long) count * dim;
        MemorySegment out = Arena.ofAuto().allocate(n * 4, 64);
        long base = start * dim;
        for (long i = 0; i < n; i++) out.set(F32, i * 4, Float.float16ToFloat(data.get(F16, (base + i) * 2)));
        return out;
    }

    /**
     * One row, copied to the heap.
     *
     * @param i the row, in [0, rows())
     * @return its dim values as float32
     * @throws IndexOutOfBoundsException for a row out of range
     */
    public float[] row(long i) {
        check(i, 1);
        float[] out = new float[dim];
        long base = i * dim;
        if (dtype == Npy.Dtype.FLOAT32) {
            MemorySegment.copy(data, F32, base * 4, out, 0, dim);
        } else {
            for (int j = 0; j < dim; j++) out[j] = Float.float16ToFloat(data.get(F16, (base + j) * 2));
        }
        return out;
    }

    private void check(long start, int count) {
        if (start < 0 || count < 0 || start + count > rows) {
            throw new IndexOutOfBoundsException("rows [" + start + ", " + (start + count) + ") out of range for " + rows + " rows of " + file);
        }
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
