package org.projntk.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * One batched model input: a contiguous row-major array of {@code dtype} in native byte order, shape[0] = B. A model
 * takes a list of them, passed to forward in order.
 */
public record Input(MemorySegment data, DType dtype, long[] shape) {
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

    public static Input float32(MemorySegment data, long[] shape) {
        return new Input(data, DType.FLOAT32, shape);
    }

    public long rows() {
        return shape[0];
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return dtype.lowerName() + Arrays.toString(shape);
    }

    /** Checks a list of inputs: at least one, all with the same row count, and labels (if given) one per row. */
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
