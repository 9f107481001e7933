package org.projntk.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/** A pair of {@code .npy} files: X [N, ...] (float32, float64, float16 or uint8) and y [N] (int64, int32 or uint8). */
public final class NpyPair implements Source {
    private final Path xFile, yFile;
    private final Npy.Header xh, yh;
    private final MemorySegment x, y;
    private final int[] shape;
    private final int exampleSize;
    private final int numClasses;

    private NpyPair(Path xFile, Path yFile) {
        this.xFile = xFile;
        this.yFile = yFile;
        xh = Npy.readCHeader(xFile);
        yh = Npy.readCHeader(yFile);
        switch (xh.dtype()) {
            case FLOAT32, FLOAT64, FLOAT16, UINT8 -> { }
            default -> throw new DataFormatException(xFile + " at byte 0: X dtype " + xh.dtype().descr
                    + " is not supported (use float32, float64, float16 or uint8)");
        }
        switch (yh.dtype()) {
            case INT64, INT32, UINT8 -> { }
            default -> throw new DataFormatException(yFile + " at byte 0: y dtype " + yh.dtype().descr
                    + " is not supported (use int64, int32 or uint8)");
        }
        if (xh.shape().length < 1) throw new DataFormatException(xFile + " at byte 0: X must have shape [N, ...], found a scalar");
        if (yh.shape().length != 1) {
            throw new DataFormatException(yFile + " at byte 0: y must have shape [N], found " + Arrays.toString(yh.shape()));
        }
        if (xh.shape()[0] != yh.shape()[0]) {
            throw new DataFormatException(yFile + " at byte 0: label count " + yh.shape()[0] + " != example count "
                    + xh.shape()[0] + " in " + xFile);
        }
        long[] s = xh.shape();
        shape = s.length == 1 ? new int[] {1} : new int[s.length - 1];
        long e = 1;
        for (int i = 1; i < s.length; i++) {
            shape[i - 1] = Math.toIntExact(s[i]);
            e *= s[i];
        }
        exampleSize = Math.toIntExact(e);
        Arena arena = Arena.ofAuto();
        x = Npy.map(xFile, xh, arena);
        y = Npy.map(yFile, yh, arena);
        long max = -1;
        for (long i = 0; i < yh.shape()[0]; i++) {
            long v = Npy.integer(y, yh.dtype(), i, yFile);
            if (v < 0) {
                throw new DataFormatException(yFile + " at byte " + (yh.dataOffset() + i * yh.dtype().size)
                        + ": negative label " + v + " at row " + i);
            }
            max = Math.max(max, v);
        }
        if (max >= Integer.MAX_VALUE) throw new DataFormatException(yFile + ": label " + max + " is too large");
        numClasses = (int) (max + 1);
    }

    /**
     * Maps the pair (no copy).
     *
     * @param xFile X [N, ...]
     * @param yFile y [N], each label 0 or more
     * @param norm how values become inputs
     * @return the dataset
     * @throws DataFormatException naming the file whose dtype or shape does not fit, or a negative label's byte offset
     */
    public static Dataset open(Path xFile, Path yFile, Normalization norm) {
        return new Dataset(new NpyPair(xFile, yFile), norm);
    }

    static Source source(Path xFile, Path yFile) {
        return new NpyPair(xFile, yFile);
    }

    @Override public String describe() { return "npy:" + xFile + "," + yFile; }
    @Override public long rows() { return xh.shape()[0]; }
    @Override public int[] exampleShape() { return shape.clone(); }
    @Override public boolean byteValued() { return false; }
    @Override public int numClasses() { return numClasses; }
    @Override public long label(long row) { return Npy.integer(y, yh.dtype(), row, yFile); }

    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public void raw(long row, float[] dst, int off) {
        long base = row * exampleSize;
        if (xh.dtype() == Npy.Dtype.FLOAT32) {
            MemorySegment.copy(x, FLOAT_LE, base * 4, dst, off, exampleSize);
            return;
        }
        for (int i = 0; i < exampleSize; i++) dst[off + i] = Npy.element(x, xh.dtype(), base + i, xFile);
    }
}
