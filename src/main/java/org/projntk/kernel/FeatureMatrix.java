package org.projntk.kernel;

import java.lang.foreign.MemorySegment;

/**
 * A read-only float32 row-major [rows x dim] matrix of features (e.g. projected gradients), read in row blocks.
 * Implementations may be backed by a memory-mapped file region, which stays valid while its store is open. The
 * implementations in this library can be read from several threads at once.
 */
public interface FeatureMatrix {
    /** {@return the number of rows (examples), at least 0} */
    long rows();

    /** {@return the number of columns (the projection dimension), at least 1} */
    int dim();

    /**
     * Rows [start, start+count) as a float32 row-major [count x dim] segment, not copied. The segment is only
     * guaranteed to be valid until the next call on this matrix; copy what must outlive it.
     *
     * @param start the first row, in [0, rows()]
     * @param count the number of rows, with start + count at most rows()
     * @return a read-only view of the rows
     * @throws IndexOutOfBoundsException when the range leaves [0, rows())
     */
    MemorySegment rows(long start, int count);
}
