package org.projntk.kernel;

import java.lang.foreign.MemorySegment;

/** Receives the kernel one tile at a time, in row-major tile order. */
@FunctionalInterface
public interface TileSink {
    /**
     * Takes one tile. Tiles arrive from the calling thread only, one at a time; an exception thrown here stops the
     * computation and propagates to its caller.
     *
     * @param rowStart first kernel row of the tile
     * @param colStart first kernel column of the tile
     * @param rows     tile height
     * @param cols     tile width
     * @param tile     float32 row-major [rows x cols] (leading dimension = cols), valid only during the call
     */
    void accept(long rowStart, long colStart, int rows, int cols, MemorySegment tile);
}
