package org.projntk.torch;

import java.lang.foreign.MemorySegment;

/**
 * Receives per-example gradients one block at a time: rows [rowOffset, rowOffset+rows) of the batch, parameter
 * coordinates [paramOffset, paramOffset+cols) of the selected-parameter vector, for output index {@code output}
 * (the class for PER_CLASS, else 0). The block is row-major float32 [rows x cols], valid only during the call.
 */
@FunctionalInterface
public interface GradientConsumer {
    void accept(int output, long rowOffset, int rows, long paramOffset, int cols, MemorySegment block);
}
