package org.projntk.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * One batched model input: a contiguous row-major array of {@code dtype} in native byte order, shape[0] = B. A model
 * takes a list of them, passed to forward in order. The segment is not copied: it must stay alive (its arena open)
 * until the call that reads the input returns.
 *
 * @param data at least {@code product(shape) * dtype.bytes()} bytes
 * @param dtype the element type
 * @param shape the dimensions, every one at least 1 (copied)
 */
public record Input(MemorySegment data, DType dtype, long[] shape) {
    /**
     * Checks the input.
     *
     * @throws IllegalArgumentException if the dtype is null, the shape is empty or has a dimension below 1, or the
     *     segment is shorter than the shape needs
     */
    public Input {
        if (dtype == null) throw new IllegalArgumentException("input dtype is null");
        if (shape == null || shape.length == 0) throw new IllegalArgumentException("input shape is empty");
        shape = shape.clone();
        long count = 1;
        for (long d : shape) {
            if (d < 1) throw new IllegalArgumentException("input shape " + Arrays.toString(shape) + " has a dimension < 1");
            count = Math.multiplyExact(count, d);
        }
        long need = Math.multiplyExact(count, (long) dtype.bytes());
        if (data == null || data.byteSize() < need) {
            throw new IllegalArgumentException("input of shape " + Arrays.toString(shape) + " needs " + need + " bytes of "
                    + dtype.lowerName() + ", the segment holds " + (data == null ? 0 : data.byteSize()));
        }
    }

    /**
     * A float32 input.
     *
     * @param data at least {@code product(shape) * 4} bytes
     * @param shape the dimensions, shape[0] = B
     * @return the input
     */
    public static Input float32(MemorySegment data, long[] shape) {
        return new Input(data, DType.FLOAT32, shape);
    }

    /** {@return the batch size B, shape[0]} */
    public long rows() {
        return shape[0];
    }

    /** {@return a copy of the dimensions} */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return dtype.lowerName() + Arrays.toString(shape);
    }

    /**
     * Checks a list of inputs: at least one, all with the same row count, and labels (if given) one per row.
     *
     * @param inputs the model's inputs
     * @param labels one per row, or null
     * @return the common row count B
     * @throws IllegalArgumentException naming the input or labels that do not fit
     */
    public static long checkBatch(List<Input> inputs, long[] labels) {
        if (inputs == null || inputs.isEmpty()) throw new IllegalArgumentException("no model inputs given");
        long rows = inputs.get(0).rows();
        for (int i = 1; i < inputs.size(); i++) {
            if (inputs.get(i).rows() != rows) {
                throw new IllegalArgumentException("input " + i + " has " + inputs.get(i).rows() + " rows but input 0 has " + rows);
            }
        }
        if (labels != null && labels.length != rows) throw new IllegalArgumentException(labels.length + " labels for a batch of " + rows);
        return rows;
    }
}
