package org.projntk.torch;

import java.lang.foreign.MemorySegment;

/**
 * Receives per-example gradients one block at a time: rows [rowOffset, rowOffset+rows) of the batch, parameter
 * coordinates [paramOffset, paramOffset+cols) of the selected-parameter vector, for output index {@code output}
 * (the class for PER_CLASS, else 0). The block is row-major float32 [rows x cols], valid only during the call.
 */
@FunctionalInterface
public interface GradientConsumer {
    /**
     * Takes one block. Called on the thread that asked for the gradients; an exception thrown here aborts the
     * computation and is rethrown by {@link Gradients#compute(Model, java.util.List, long[], OutputKind, GradStrategy,
     * long, boolean, GradientConsumer)}.
     *
     * @param output the class for PER_CLASS, else 0
     * @param rowOffset the batch row of the block's first row
     * @param rows the number of examples in the block
     * @param paramOffset the index of the block's first coordinate in the selected-parameter vector
     * @param cols the block's width in parameters
     * @param block [rows x cols] float32, row-major; copy what you keep, it is reused after the call
     */
    void accept(int output, long rowOffset, int rows, long paramOffset, int cols, MemorySegment block);
}
