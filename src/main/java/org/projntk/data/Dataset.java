package org.projntk.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A labelled dataset restricted to a row range, with a normalisation. Row indices are relative to the range.
 * Thread-safe for concurrent reads.
 */
public final class Dataset {
    private final Source src;
    private final long offset;
    private final long size;
    private final Normalization norm;
    private final int exampleSize;
    private final int channels;
    // normalised value = raw * scale[c] + shift[c]
    private final float[] scale;
    private final float[] shift;

    Dataset(Source src, Normalization norm) {
        this(src, 0, src.rows(), norm, null, null);
    }

    Dataset(Source src, long offset, long size, Normalization norm) {
        this(src, offset, size, norm, null, null);
    }

    private Dataset(Source src, long offset, long size, Normalization norm, float[] scale, float[] shift) {
        this.src = src;
        this.offset = offset;
        this.size = size;
        this.norm = norm;
        int[] shape = src.exampleShape();
        long e = 1;
        for (int d : shape) e *= d;
        this.exampleSize = Math.toIntExact(e);
        this.channels = shape.length >= 2 ? shape[0] : 1;
        if (scale == null) {
            scale = new float[channels];
            shift = new float[channels];
            computeAffine(scale, shift);
        }
        this.scale = scale;
        this.shift = shift;
    }

    private void computeAffine(float[] scale, float[] shift) {
        if (src instanceof NpyArrays && norm.kind() != Normalization.Kind.NONE && norm.kind() != Normalization.Kind.DEFAULT) {
            throw new IllegalArgumentException(src.describe() + " holds several model inputs, which keep their values: "
                    + "normalisation " + norm + " does not apply");
        }
        double base = switch (norm.kind()) {
            case NONE -> 1.0;
            case UNIT -> 1.0 / 255.0;
            case DEFAULT, STANDARD -> src.byteValued() ? 1.0 / 255.0 : 1.0;
        };
        if (norm.kind() != Normalization.Kind.STANDARD) {
            Arrays.fill(scale, (float) base);
            return;
        }
        double[] mean = new double[channels], std = new double[channels];
        if (norm.mean() != null) {
            if (norm.mean().length != channels) {
                throw new IllegalArgumentException("standard normalisation has " + norm.mean().length + " channel(s) but "
                        + src.describe() + " has " + channels + " (example shape " + Arrays.toString(src.exampleShape()) + ")");
            }
            for (int c = 0; c < channels; c++) {
                mean[c] = norm.mean()[c];
                std[c] = norm.std()[c];
            }
        } else {
            channelStats(base, mean, std);
        }
        for (int c = 0; c < channels; c++) {
            scale[c] = (float) (base / std[c]);
            shift[c] = (float) (-mean[c] / std[c]);
        }
    }

    /** Per-channel mean and population std (fp64) of the base-scaled values over this range. */
    private void channelStats(double base, double[] mean, double[] std) {
        if (size == 0) throw new IllegalArgumentException("cannot compute standardisation statistics of an empty dataset");
        int per = exampleSize / channels;
        double[] sum = new double[channels], sq = new double[channels];
        float[] row = new float[exampleSize];
        for (long i = 0; i < size; i++) {
            src.raw(offset + i, row, 0);
            for (int c = 0; c < channels; c++) {
                for (int j = c * per; j < (c + 1) * per; j++) {
                    double v = row[j] * base;
                    sum[c] += v;
                    sq[c] += v * v;
                }
            }
        }
        double n = (double) size * per;
        for (int c = 0; c < channels; c++) {
            mean[c] = sum[c] / n;
            double var = Math.max(0, sq[c] / n - mean[c] * mean[c]);
            std[c] = Math.sqrt(var);
            if (!(std[c] > 0)) {
                throw new IllegalArgumentException("channel " + c + " of " + src.describe() + " is constant; cannot standardise");
            }
        }
    }

    /** {@return the number of rows in the range} */
    public long size() { return size; }

    /** {@return the shape of one example without the batch dimension, e.g. [1, 28, 28]} */
    public int[] exampleShape() { return src.exampleShape(); }

    /** {@return the number of values in one example} */
    public int exampleSize() { return exampleSize; }

    /** {@return the number of classes: 10 for IDX and CIFAR files, else the largest label in the whole file plus 1} */
    public int numClasses() { return src.numClasses(); }

    /** {@return the normalisation it was opened with} */
    public Normalization normalization() { return norm; }

    /** {@return the number of channels normalisation works on (first example dimension for rank >= 2 examples, else 1)} */
    public int channels() { return channels; }

    /** {@return the per-channel factor of the effective affine map normalised = raw * scale[c] + shift[c] (a copy)} */
    public float[] scale() { return scale.clone(); }

    /** {@return the per-channel offset of the map in {@link #scale()} (a copy)} */
    public float[] shift() { return shift.clone(); }

    /**
     * The class of a row.
     *
     * @param i the row, in [0, size())
     * @return its label, 0 or more
     * @throws IndexOutOfBoundsException for a row outside the range
     */
    public long label(long i) {
        return src.label(offset + check(i));
    }

    /** {@return every row's label, as class indices} */
    public int[] labels() {
        int[] out = new int[Math.toIntExact(size)];
        for (int i = 0; i < out.length; i++) out[i] = (int) label(i);
        return out;
    }

    /** {@return the index, in the whole source file, of this dataset's row 0 (the start of a spec's row range)} */
    public long firstSourceRow() {
        return offset;
    }

    /**
     * Some of the rows, with the same normalisation (statistics are not recomputed).
     *
     * @param start the first row, in [0, size()]
     * @param end one past the last, in [start, size()]
     * @return rows [start, end) as a dataset over the same source (no copy)
     * @throws IndexOutOfBoundsException for a range outside [0, size()]
     */
    public Dataset slice(long start, long end) {
        if (start < 0 || start > end || end > size) {
            throw new IndexOutOfBoundsException("slice [" + start + ":" + end + ") out of range for " + size + " rows");
        }
        return new Dataset(src, offset + start, end - start, norm, scale, shift);
    }

    /**
     * One normalised example.
     *
     * @param i the row, in [0, size())
     * @return its exampleSize() values in C order
     * @throws IndexOutOfBoundsException for a row outside the range
     */
    public float[] example(long i) {
        float[] out = new float[exampleSize];
        fill(i, out, 0);
        return out;
    }

    private void fill(long i, float[] dst, int off) {
        src.raw(offset + check(i), dst, off);
        int per = exampleSize / channels;
        for (int c = 0; c < channels; c++) {
            float a = scale[c], b = shift[c];
            for (int j = off + c * per, e = off + (c + 1) * per; j < e; j++) dst[j] = dst[j] * a + b;
        }
    }

    /**
     * Some consecutive examples, as the model takes them.
     *
     * @param start the first row
     * @param count the number of rows, 0 or more
     * @param arena owns the batch's memory; the batch is valid while it is open
     * @return float32 [count, ...exampleShape] (or the typed inputs of an npy:A,B,...,Y dataset) with the labels
     * @throws IndexOutOfBoundsException if the rows are not all in [0, size())
     */
    public Batch batch(long start, int count, Arena arena) {
        if (count < 0 || start < 0 || start + count > size) {
            throw new IndexOutOfBoundsException("batch [" + start + ", " + (start + count) + ") out of range for " + size + " rows");
        }
        var typed = src.typedRows(offset + start, count, arena);
        if (typed != null) {
            long[] labels = new long[count];
            for (int r = 0; r < count; r++) labels[r] = src.label(offset + start + r);
            return new Batch(start, count, exampleShape(), typed.get(0).data(), labels, typed);
        }
        MemorySegment seg = arena.allocate((long) count * exampleSize * Float.BYTES, 64);
        float[] row = new float[exampleSize];
        long[] labels = new long[count];
        for (int r = 0; r < count; r++) {
            fill(start + r, row, 0);
            MemorySegment.copy(row, 0, seg, ValueLayout.JAVA_FLOAT, (long) r * exampleSize * Float.BYTES, exampleSize);
            labels[r] = src.label(offset + start + r);
        }
        return new Batch(start, count, exampleShape(), seg, labels);
    }

    /** {@return true when examples are images ([C,H,W] with C = 1 or 3, or [H,W]) so {@link #imageHWC} works} */
    public boolean isImage() {
        int[] s = exampleShape();
        return (s.length == 3 && (s[0] == 1 || s[0] == 3)) || s.length == 2;
    }

    /**
     * The image dimensions.
     *
     * @return {H, W, C}
     * @throws UnsupportedOperationException if examples are not images
     */
    public int[] imageDims() {
        if (!isImage()) throw new UnsupportedOperationException("examples of shape " + Arrays.toString(exampleShape()) + " are not images");
        int[] s = exampleShape();
        return s.length == 2 ? new int[] {s[0], s[1], 1} : new int[] {s[1], s[2], s[0]};
    }

    /**
     * Example i as 8-bit pixels in HWC order (length H*W*C, values 0..255), for image grids. Byte data is returned as
     * stored; float data already within [0,1] is scaled by 255, other float data is min-max scaled per image.
     *
     * @param i the row, in [0, size())
     * @return H*W*C pixel values in 0..255
     * @throws UnsupportedOperationException if examples are not images
     */
    public int[] imageHWC(long i) {
        int[] d = imageDims();
        int h = d[0], w = d[1], c = d[2];
        float[] raw = new float[exampleSize];
        src.raw(offset + check(i), raw, 0);
        float a = 1, b = 0;
        if (!src.byteValued()) {
            float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
            for (float v : raw) {
                if (Float.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            if (lo >= 0 && hi <= 1) {
                a = 255;
            } else if (lo <= hi && hi > lo) {
                a = 255 / (hi - lo);
                b = -lo * a;
            } else if (lo > 255 || hi < 0) {
                a = 0;
            }
        }
        int[] out = new int[exampleSize];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float v = raw[(ch * h + y) * w + x] * a + b;
                    int p = Float.isFinite(v) ? Math.round(v) : 0;
                    out[(y * w + x) * c + ch] = Math.max(0, Math.min(255, p));
                }
            }
        }
        return out;
    }

    private long check(long i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("row " + i + " out of range for " + size + " rows");
        return i;
    }

    @Override
    public String toString() {
        return src.describe() + "[" + offset + ":" + (offset + size) + "] norm=" + norm;
    }
}
