package org.projntk.data;

import java.lang.foreign.MemorySegment;
import java.util.List;

import org.projntk.tensor.Input;

/**
 * A batch of examples, owned by the arena passed to {@link Dataset#batch}; {@code labels[i]} is the class of example i.
 * {@code modelInputs} are what forward takes, in order: one float32 array for image data, or several arrays of their
 * own dtypes (npy:A.npy,B.npy,...,Y.npy). {@code inputs} and {@code exampleShape} describe the first of them.
 *
 * @param firstRow the dataset row of the batch's first example
 * @param count the number of examples B
 * @param exampleShape the shape of one example of the first input, without the batch dimension
 * @param inputs the first input [count, ...exampleShape], valid while the arena is open
 * @param labels the count class labels
 * @param modelInputs every input forward takes, in order
 */
public record Batch(long firstRow, int count, int[] exampleShape, MemorySegment inputs, long[] labels, List<Input> modelInputs) {
    /**
     * A batch with one float32 input [count, ...exampleShape], row-major contiguous, native byte order.
     *
     * @param firstRow the dataset row of the first example
     * @param count B
     * @param exampleShape the shape of one example
     * @param inputs the float32 values
     * @param labels the count class labels
     */
    public Batch(long firstRow, int count, int[] exampleShape, MemorySegment inputs, long[] labels) {
        this(firstRow, count, exampleShape, inputs, labels, List.of(Input.float32(inputs, shape(count, exampleShape))));
    }

    /** {@return the full shape of the first input, {count, ...exampleShape}} */
    public long[] shape() {
        return shape(count, exampleShape);
    }

    private static long[] shape(int count, int[] exampleShape) {
        long[] shape = new long[exampleShape.length + 1];
        shape[0] = count;
        for (int i = 0; i < exampleShape.length; i++) shape[i + 1] = exampleShape[i];
        return shape;
    }

    /** {@return the number of values in one example of the first input} */
    public long exampleSize() {
        long n = 1;
        for (int d : exampleShape) n *= d;
        return n;
    }
}
