package org.projntk.data;

import java.lang.foreign.MemorySegment;

/**
 * A batch of examples: {@code inputs} is float32, [count, ...exampleShape] row-major contiguous, native byte order,
 * owned by the arena passed to {@link Dataset#batch}; {@code labels[i]} is the class of example i.
 */
public record Batch(long firstRow, int count, int[] exampleShape, MemorySegment inputs, long[] labels) {
    /** The full input shape, {count, ...exampleShape}, as the native engine takes it. */
    public long[] shape() {
        long[] shape = new long[exampleShape.length + 1];
        shape[0] = count;
        for (int i = 0; i < exampleShape.length; i++) shape[i + 1] = exampleShape[i];
        return shape;
    }

    public long exampleSize() {
        long n = 1;
        for (int d : exampleShape) n *= d;
        return n;
    }
}
