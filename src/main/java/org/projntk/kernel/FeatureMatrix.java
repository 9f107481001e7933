package org.projntk.kernel;

import java.lang.foreign.MemorySegment;

/**
 * A read-only float32 row-major matrix of features (e.g. projected gradients), read in row blocks.
 * Implementations may be backed by a memory-mapped file region.
 */
public interface FeatureMatrix {
    /** Number of rows (examples). */
    long rows();

    /** Number of columns (the projection dimension). */
    int dim();

    /**
     * Rows [start, start+count) as a float32 row-major [count x dim] segment. The segment is only
     * guaranteed to be valid until the next call on this matrix.
     */
    MemorySegment rows(long start, int count);
}
