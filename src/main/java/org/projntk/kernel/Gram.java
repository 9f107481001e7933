package org.projntk.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Objects;
import org.projntk.internal.Blas;
import org.projntk.stats.Moments;

/**
 * Out-of-core Gram (kernel) matrices between two operands, streamed tile by tile.
 *
 * <p>An operand is a list of {@link FeatureMatrix}: one for {@link KernelKind#PNTK}, C (one per class) for
 * {@link KernelKind#TRNTK} and {@link KernelKind#ENTK}. Only one row block per class and one column block are
 * held at a time, so N x M is never materialised unless the caller's sink does it.
 */
public final class Gram {
    private Gram() {}

    public static final int DEFAULT_TILE = 1024;

    /**
     * @param kind      how the class matrices are combined
     * @param norm      normalisation
     * @param tileRows  kernel rows (examples) per tile
     * @param tileCols  kernel columns (examples) per tile
     * @param stdScale  for {@link KernelNormalization#STD}: a fixed divisor (e.g. the std of the train kernel, to apply
     *                  to a test kernel), or null to compute it from this kernel with an extra pass
     */
    public record Options(KernelKind kind, KernelNormalization norm, int tileRows, int tileCols, Double stdScale) {
        public Options {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(norm, "norm");
            if (tileRows < 1 || tileCols < 1) {
                throw new IllegalArgumentException("tile sizes must be >= 1, got " + tileRows + " x " + tileCols);
            }
            if (stdScale != null && !(stdScale > 0 && Double.isFinite(stdScale))) {
                throw new IllegalArgumentException("stdScale must be a positive finite number, got " + stdScale);
            }
        }

        public static Options of(KernelKind kind, KernelNormalization norm) {
            return new Options(kind, norm, DEFAULT_TILE, DEFAULT_TILE, null);
        }

        public Options withTiles(int rows, int cols) {
            return new Options(kind, norm, rows, cols, stdScale);
        }

        public Options withStdScale(double scale) {
            return new Options(kind, norm, tileRows, tileCols, scale);
        }
    }

    /**
     * What was computed: the output shape (for ENTK, N*C x M*C) and the divisor applied to every raw entry
     * (the std for STD normalisation, 1 otherwise; cosine divides entry-wise and reports 1).
     */
    public record Result(long rows, long cols, double scale, double rawMean, double rawStd) {}

    /** Streams the kernel between {@code rowsOp} and {@code colsOp} to {@code sink}, tile by tile in row-major order. */
    public static Result compute(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Options opt, TileSink sink) {
        return normalized(rowsOp, colsOp, opt, validate(rowsOp, colsOp, opt.kind()), Gram::run, sink);
    }

    /** Produces the raw (unnormalised) tiles of a kernel in output coordinates: on the CPU here, or on a GPU. */
    interface RawTiles {
        void run(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Options opt, Shape s, TileSink sink);
    }

    /** The normalisation shared by every tile producer: cosine from the self-kernels, or std from the raw entries. */
    static Result normalized(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Options opt, Shape s, RawTiles raw,
                             TileSink sink) {
        Objects.requireNonNull(sink, "sink");
        double[] rowDiag = null;
        double[] colDiag = null;
        if (opt.norm() == KernelNormalization.COSINE) {
            rowDiag = selfKernel(rowsOp, opt.kind());
            colDiag = rowsOp == colsOp ? rowDiag : selfKernel(colsOp, opt.kind());
        }
        double scale = 1.0;
        double mean = Double.NaN;
        double std = Double.NaN;
        if (opt.norm() == KernelNormalization.STD) {
            if (opt.stdScale() != null) {
                scale = opt.stdScale();
            } else {
                Moments moments = entryMoments(raw, rowsOp, colsOp, opt, s);
                mean = moments.mean();
                std = moments.std();
                if (!(std > 0)) {
                    throw new IllegalArgumentException("STD normalisation: the kernel entries have zero variance");
                }
                scale = std;
            }
        }
        final double invScale = 1.0 / scale;
        final double[] rd = rowDiag;
        final double[] cd = colDiag;
        final int outPerRow = opt.kind() == KernelKind.ENTK ? s.classes : 1;
        raw.run(rowsOp, colsOp, opt, s, (r0, c0, tr, tc, tile) -> {
            if (opt.norm() == KernelNormalization.STD) {
                scaleTile(tile, (long) tr * tc, invScale);
            } else if (opt.norm() == KernelNormalization.COSINE) {
                // tile rows/cols here are output rows/cols; diagonals are indexed the same way
                for (int i = 0; i < tr; i++) {
                    double di = rd[(int) (r0 + i)];
                    for (int j = 0; j < tc; j++) {
                        double dj = cd[(int) (c0 + j)];
                        long idx = (long) i * tc + j;
                        double denom = Math.sqrt(di * dj);
                        float v = tile.getAtIndex(ValueLayout.JAVA_FLOAT, idx);
                        tile.setAtIndex(ValueLayout.JAVA_FLOAT, idx, denom > 0 ? (float) (v / denom) : 0f);
                    }
                }
            }
            sink.accept(r0, c0, tr, tc, tile);
        });
        return new Result(s.rows * outPerRow, s.cols * outPerRow, scale, mean, std);
    }

    /** The whole kernel in memory (small cases). */
    public static KernelMatrix computeMatrix(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Options opt) {
        Shape s = validate(rowsOp, colsOp, opt.kind());
        long per = opt.kind() == KernelKind.ENTK ? s.classes : 1;
        long r = s.rows * per;
        long c = s.cols * per;
        if (r > Integer.MAX_VALUE || c > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("kernel of " + r + " x " + c + " is too large to hold in memory; stream it");
        }
        KernelMatrix out = KernelMatrix.allocate((int) r, (int) c);
        compute(rowsOp, colsOp, opt, copyInto(out));
        return out;
    }

    /** A sink that copies tiles into {@code out}. */
    public static TileSink copyInto(KernelMatrix out) {
        return (r0, c0, tr, tc, tile) -> {
            for (int i = 0; i < tr; i++) {
                MemorySegment.copy(tile, (long) i * tc * Float.BYTES, out.data(),
                        ((r0 + i) * out.cols() + c0) * Float.BYTES, (long) tc * Float.BYTES);
            }
        };
    }

    /**
     * The self-kernel K(x_i, x_i) of every row of an operand: Σ_c ||A_c[i]||² for PNTK/TRNTK, and
     * ||A_c[i]||² at index i*C+c for ENTK. Accumulated in double.
     */
    public static double[] selfKernel(List<FeatureMatrix> op, KernelKind kind) {
        Shape s = validate(op, op, kind);
        int per = kind == KernelKind.ENTK ? s.classes : 1;
        if (s.rows * per > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("too many rows for a diagonal array: " + s.rows * per);
        }
        double[] d = new double[(int) (s.rows * per)];
        int block = Math.max(1, (int) Math.min(s.rows, (1 << 22) / Math.max(1, s.dim)));
        for (int c = 0; c < s.classes; c++) {
            FeatureMatrix m = op.get(c);
            for (long r0 = 0; r0 < s.rows; r0 += block) {
                int n = (int) Math.min(block, s.rows - r0);
                MemorySegment seg = m.rows(r0, n);
                for (int i = 0; i < n; i++) {
                    double acc = 0;
                    long base = (long) i * s.dim;
                    for (int k = 0; k < s.dim; k++) {
                        double v = seg.getAtIndex(ValueLayout.JAVA_FLOAT, base + k);
                        acc += v * v;
                    }
                    int idx = (int) (kind == KernelKind.ENTK ? (r0 + i) * per + c : r0 + i);
                    d[idx] += acc;
                }
            }
        }
        for (int i = 0; i < d.length; i++) {
            if (!Double.isFinite(d[i])) {
                throw new IllegalArgumentException("non-finite feature values in row " + (i / per));
            }
        }
        return d;
    }

    /** Mean and population standard deviation of all raw (unnormalised) kernel entries: one pass over the tiles. */
    public static double[] entryMeanStd(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Options opt) {
        Shape s = validate(rowsOp, colsOp, opt.kind());
        Moments moments = entryMoments(Gram::run, rowsOp, colsOp, opt, s);
        return new double[] {moments.mean(), moments.std()};
    }

    /** The moments of every tile, combined in the order the tiles come. */
    private static Moments entryMoments(RawTiles raw, List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Options opt, Shape s) {
        Moments[] all = {Moments.NONE};
        TileSink sink = (rowStart, colStart, rows, cols, tile) -> all[0] = all[0].then(Moments.ofFloats(tile, (long) rows * cols));
        raw.run(rowsOp, colsOp, opt, s, sink);
        return all[0];
    }

    private static void scaleTile(MemorySegment tile, long n, double inv) {
        for (long i = 0; i < n; i++) {
            tile.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (tile.getAtIndex(ValueLayout.JAVA_FLOAT, i) * inv));
        }
    }

    record Shape(long rows, long cols, int dim, int classes) {}

    static Shape validate(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, KernelKind kind) {
        Objects.requireNonNull(kind, "kind");
        if (rowsOp == null || rowsOp.isEmpty() || colsOp == null || colsOp.isEmpty()) {
            throw new IllegalArgumentException("kernel operands must each hold at least one feature matrix");
        }
        if (kind == KernelKind.PNTK && (rowsOp.size() != 1 || colsOp.size() != 1)) {
            throw new IllegalArgumentException("pNTK takes one feature matrix per side, got " + rowsOp.size()
                    + " and " + colsOp.size() + " (use trntk or entk for per-class gradients)");
        }
        if (rowsOp.size() != colsOp.size()) {
            throw new IllegalArgumentException("operands have different class counts: " + rowsOp.size() + " vs " + colsOp.size());
        }
        long rows = Objects.requireNonNull(rowsOp.get(0), "feature matrix 0").rows();
        long cols = Objects.requireNonNull(colsOp.get(0), "feature matrix 0").rows();
        int dim = rowsOp.get(0).dim();
        for (int side = 0; side < 2; side++) {
            List<FeatureMatrix> op = side == 0 ? rowsOp : colsOp;
            long n = side == 0 ? rows : cols;
            for (int c = 0; c < op.size(); c++) {
                FeatureMatrix m = Objects.requireNonNull(op.get(c), "feature matrix " + c);
                if (m.rows() != n) {
                    throw new IllegalArgumentException((side == 0 ? "row" : "column") + " operand: class " + c
                            + " has " + m.rows() + " rows, class 0 has " + n);
                }
                if (m.dim() != dim) {
                    throw new IllegalArgumentException("feature dimension mismatch: " + m.dim() + " vs " + dim
                            + " (both sides must use the same projection)");
                }
            }
        }
        return new Shape(rows, cols, dim, rowsOp.size());
    }

    /** Computes raw tiles (in output coordinates) and hands them to {@code sink}; checks for non-finite values. */
    private static void run(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Options opt, Shape s, TileSink sink) {
        int tileR = (int) Math.min(opt.tileRows(), Math.max(1, s.rows));
        int tileC = (int) Math.min(opt.tileCols(), Math.max(1, s.cols));
        int classes = s.classes;
        boolean entk = opt.kind() == KernelKind.ENTK;
        int per = entk ? classes : 1;
        int d = s.dim;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment aBuf = arena.allocate((long) tileR * d * Float.BYTES, 64);
            MemorySegment out = arena.allocate((long) tileR * per * tileC * per * Float.BYTES, 64);
            MemorySegment tmp = entk ? arena.allocate((long) tileR * tileC * Float.BYTES, 64) : null;
            for (long r0 = 0; r0 < s.rows; r0 += tileR) {
                int tr = (int) Math.min(tileR, s.rows - r0);
                for (long c0 = 0; c0 < s.cols; c0 += tileC) {
                    int tc = (int) Math.min(tileC, s.cols - c0);
                    if (!entk) {
                        for (int c = 0; c < classes; c++) {
                            // copy A's block: the two operands may be the same object, whose segment
                            // would be invalidated by the next rows() call
                            MemorySegment.copy(rowsOp.get(c).rows(r0, tr), 0, aBuf, 0, (long) tr * d * Float.BYTES);
                            MemorySegment b = colsOp.get(c).rows(c0, tc);
                            Blas.sgemm(false, true, tr, tc, d, 1f, aBuf, d, b, d, c == 0 ? 0f : 1f, out, tc);
                        }
                    } else {
                        int ldo = tc * per;
                        for (int c = 0; c < classes; c++) {
                            MemorySegment.copy(rowsOp.get(c).rows(r0, tr), 0, aBuf, 0, (long) tr * d * Float.BYTES);
                            for (int c2 = 0; c2 < classes; c2++) {
                                MemorySegment b = colsOp.get(c2).rows(c0, tc);
                                Blas.sgemm(false, true, tr, tc, d, 1f, aBuf, d, b, d, 0f, tmp, tc);
                                for (int i = 0; i < tr; i++) {
                                    long orow = (long) (i * per + c) * ldo;
                                    for (int j = 0; j < tc; j++) {
                                        out.setAtIndex(ValueLayout.JAVA_FLOAT, orow + (long) j * per + c2,
                                                tmp.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * tc + j));
                                    }
                                }
                            }
                        }
                    }
                    int outR = tr * per;
                    int outC = tc * per;
                    checkFinite(out, outR, outC, r0 * per, c0 * per);
                    sink.accept(r0 * per, c0 * per, outR, outC, out.asSlice(0, (long) outR * outC * Float.BYTES));
                }
            }
        }
    }

    static void checkFinite(MemorySegment tile, int tr, int tc, long r0, long c0) {
        long n = (long) tr * tc;
        for (long i = 0; i < n; i++) {
            if (!Float.isFinite(tile.getAtIndex(ValueLayout.JAVA_FLOAT, i))) {
                throw new IllegalArgumentException("non-finite kernel value at (" + (r0 + i / tc) + ", " + (c0 + i % tc)
                        + "): the feature matrices contain NaN or Inf, or overflow float32");
            }
        }
    }
}
