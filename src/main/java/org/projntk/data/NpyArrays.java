package org.projntk.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.projntk.tensor.DType;
import org.projntk.tensor.Input;

/**
 * {@code npy:A.npy,B.npy,...,Y.npy}: every file but the last is one model input, in forward's order, all with the same
 * row count; they keep their dtype (float32, float64, int64, int32, bool). The last holds integer labels [N].
 */
public final class NpyArrays implements Source {
    private final List<Path> files;
    private final List<Npy.Header> headers = new ArrayList<>();
    private final List<MemorySegment> data = new ArrayList<>();
    private final List<DType> dtypes = new ArrayList<>();
    private final Path labelFile;
    private final Npy.Header labelHeader;
    private final MemorySegment labels;
    private final int numClasses;

    private NpyArrays(List<Path> inputFiles, Path labelFile) {
        if (inputFiles.isEmpty()) throw new IllegalArgumentException("npy: needs at least one input file before the labels");
        this.files = List.copyOf(inputFiles);
        this.labelFile = labelFile;
        Arena arena = Arena.ofAuto();
        long rows = -1;
        for (Path f : files) {
            Npy.Header h = Npy.readCHeader(f);
            DType t = switch (h.dtype()) {
                case FLOAT32 -> DType.FLOAT32;
                case FLOAT64 -> DType.FLOAT64;
                case INT64 -> DType.INT64;
                case INT32 -> DType.INT32;
                case BOOL -> DType.BOOL;
                default -> throw new DataFormatException(f + " at byte 0: dtype " + h.dtype().descr
                        + " is not a model input type (use float32, float64, int64, int32 or bool)");
            };
            if (h.shape().length < 1) throw new DataFormatException(f + " at byte 0: expected shape [N, ...], found a scalar");
            if (rows < 0) rows = h.shape()[0];
            if (h.shape()[0] != rows) {
                throw new DataFormatException(f + " at byte 0: " + h.shape()[0] + " rows, but " + files.get(0) + " has " + rows
                        + " (every input needs the same row count)");
            }
            headers.add(h);
            dtypes.add(t);
            data.add(Npy.map(f, h, arena));
        }
        labelHeader = Npy.readCHeader(labelFile);
        switch (labelHeader.dtype()) {
            case INT64, INT32, UINT8 -> { }
            default -> throw new DataFormatException(labelFile + " at byte 0: label dtype " + labelHeader.dtype().descr
                    + " is not supported (use int64, int32 or uint8)");
        }
        if (labelHeader.shape().length != 1) {
            throw new DataFormatException(labelFile + " at byte 0: labels must have shape [N], found " + Arrays.toString(labelHeader.shape()));
        }
        if (labelHeader.shape()[0] != rows) {
            throw new DataFormatException(labelFile + " at byte 0: " + labelHeader.shape()[0] + " labels, but " + files.get(0)
                    + " has " + rows + " rows");
        }
        labels = Npy.map(labelFile, labelHeader, arena);
        long max = -1;
        for (long i = 0; i < rows; i++) {
            long v = Npy.integer(labels, labelHeader.dtype(), i, labelFile);
            if (v < 0) throw new DataFormatException(labelFile + ": negative label " + v + " at row " + i);
            max = Math.max(max, v);
        }
        if (max >= Integer.MAX_VALUE) throw new DataFormatException(labelFile + ": label " + max + " is too large");
        numClasses = (int) (max + 1);
    }

    static Source source(List<Path> inputFiles, Path labelFile) {
        return new NpyArrays(inputFiles, labelFile);
    }

    /**
     * Maps the arrays (no copy) without a row range.
     *
     * @param inputFiles one .npy per model input, in forward's order, all with N rows
     * @param labelFile integer labels [N] (int64, int32 or uint8), each 0 or more
     * @return the dataset
     * @throws DataFormatException naming the file whose dtype, shape or row count does not fit
     */
    public static Dataset open(List<Path> inputFiles, Path labelFile) {
        return new Dataset(new NpyArrays(inputFiles, labelFile), Normalization.DEFAULT);
    }

    /** {@return the dtype of each input, in order} */
    public List<DType> dtypes() {
        return List.copyOf(dtypes);
    }

    @Override
    public String describe() {
        StringBuilder s = new StringBuilder("npy:");
        for (Path f : files) s.append(f).append(',');
        return s.append(labelFile).toString();
    }

    @Override public long rows() { return labelHeader.shape()[0]; }
    @Override public boolean byteValued() { return false; }
    @Override public int numClasses() { return numClasses; }
    @Override public long label(long row) { return Npy.integer(labels, labelHeader.dtype(), row, labelFile); }

    @Override
    public int[] exampleShape() {
        long[] s = headers.get(0).shape();
        if (s.length == 1) return new int[] {1};
        int[] out = new int[s.length - 1];
        for (int i = 1; i < s.length; i++) out[i - 1] = Math.toIntExact(s[i]);
        return out;
    }

    private static long rowElements(Npy.Header h) {
        long n = 1;
        for (int i = 1; i < h.shape().length; i++) n *= h.shape()[i];
        return n;
    }

    /** Input 0's values as float (for summaries and images); the model gets {@link #typedRows}. */
    @Override
    public void raw(long row, float[] dst, int off) {
        Npy.Header h = headers.get(0);
        long n = rowElements(h);
        for (int i = 0; i < n; i++) dst[off + i] = Npy.element(data.get(0), h.dtype(), row * n + i, files.get(0));
    }

    @Override
    public List<Input> typedRows(long row, int count, Arena arena) {
        List<Input> out = new ArrayList<>();
        for (int k = 0; k < files.size(); k++) {
            Npy.Header h = headers.get(k);
            long rowBytes = rowElements(h) * h.dtype().size;
            MemorySegment seg = arena.allocate(rowBytes * count, 64);
            // .npy data is little-endian, as is every platform projntk runs on.
            MemorySegment.copy(data.get(k), row * rowBytes, seg, 0, rowBytes * count);
            long[] shape = h.shape().clone();
            shape[0] = count;
            if (shape.length == 1) shape = new long[] {count};
            out.add(new Input(seg, dtypes.get(k), shape));
        }
        return out;
    }
}
