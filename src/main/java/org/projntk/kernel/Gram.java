package org.projntk.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;
import org.projntk.internal.Blas;
import org.projntk.stats.Moments;

/**
 * Out-of-core Gram (kernel) matrices between two operands, streamed tile by tile.
 *
 * <p>An operand is a list of {@link FeatureMatrix}: one for {@link KernelKind#PNTK}, C (one per class) for
 * {@link KernelKind#TRNTK} and {@link KernelKind#ENTK}. Only one row block per class and one column block are
 * held at a time, so N x M is never materialised unless the caller's sink does it. Stateless: every method may be
 * called from any number of threads; each call runs on its caller's thread and hands tiles to its sink there.
 */
public final class Gram {
    private Gram() {}

    /** Kernel rows and columns per tile unless {@link Options.Builder#tiles} says otherwise. */
    public static final int DEFAULT_TILE = 1024;

    /**
     * How a kernel is computed: which kernel, its normalisation, the tile size and, for {@link KernelNormalization#STD},
     * an optional fixed divisor. Immutable and safe to share.
     *
     * <pre>{@code
     * Gram.Options options = Gram.Options.builder()
     *         .kernel(KernelKind.TRNTK).normalization(KernelNormalization.COSINE).tiles(512, 512).build();
     * }</pre>
     */
    public static final class Options {
        private final KernelKind kernel;
        private final KernelNormalization normalization;
        private final int tileRows;
        private final int tileCols;
        private final Double stdScale;

        private Options(Builder b) {
            this.kernel = b.kernel;
            this.normalization = b.normalization;
            this.tileRows = b.tileRows;
            this.tileCols = b.tileCols;
            this.stdScale = b.stdScale;
        }

        /** {@return a builder with the defaults: {@link KernelKind#PNTK}, {@link KernelNormalization#NONE}, {@link #DEFAULT_TILE} square tiles} */
        public static Builder builder() {
            return new Builder();
        }

        /**
         * The given kernel and normalisation with the other defaults.
         *
         * @param kernel        how the per-class feature matrices combine
         * @param normalization the normalisation
         * @return the options
         * @throws IllegalArgumentException when either is null
         */
        public static Options of(KernelKind kernel, KernelNormalization normalization) {
            return builder().kernel(kernel).normalization(normalization).build();
        }

        /** {@return a builder holding these options, to change some of them} */
        public Builder toBuilder() {
            Builder b = new Builder().kernel(kernel).normalization(normalization).tiles(tileRows, tileCols);
            b.stdScale = stdScale;
            return b;
        }

        /** {@return how the per-class feature matrices are combined} */
        public KernelKind kernel() {
            return kernel;
        }

        /** {@return the normalisation applied to every entry} */
        public KernelNormalization normalization() {
            return normalization;
        }

        /** {@return kernel rows (examples) per tile} */
        public int tileRows() {
            return tileRows;
        }

        /** {@return kernel columns (examples) per tile} */
        public int tileCols() {
            return tileCols;
        }

        /**
         * For {@link KernelNormalization#STD}: the fixed divisor (the std of a train kernel, say, to apply to a test
         * kernel); empty when the std is computed from this kernel with an extra pass.
         *
         * @return the divisor, or empty
         */
        public OptionalDouble stdScale() {
            return stdScale == null ? OptionalDouble.empty() : OptionalDouble.of(stdScale);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Options x && kernel == x.kernel && normalization == x.normalization && tileRows == x.tileRows
                    && tileCols == x.tileCols && Objects.equals(stdScale, x.stdScale);
        }

        @Override
        public int hashCode() {
            return Objects.hash(kernel, normalization, tileRows, tileCols, stdScale);
        }

        @Override
        public String toString() {
            return "Gram.Options[kernel=" + kernel + ", normalization=" + normalization + ", tiles=" + tileRows + "x" + tileCols
                    + (stdScale == null ? "" : ", stdScale=" + stdScale) + "]";
        }

        /** Builds {@link Options}; not thread-safe. Every setting has a default, so {@code builder().build()} is valid. */
        public static final class Builder {
            private KernelKind kernel = KernelKind.PNTK;
            private KernelNormalization normalization = KernelNormalization.NONE;
            private int tileRows = DEFAULT_TILE;
            private int tileCols = DEFAULT_TILE;
            private Double stdScale;

            private Builder() {}

            /**
             * How the per-class feature matrices are combined (default {@link KernelKind#PNTK}).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder kernel(KernelKind value) {
                this.kernel = value;
                return this;
            }

            /**
             * The normalisation (default {@link KernelNormalization#NONE}).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder normalization(KernelNormalization value) {
                this.normalization = value;
                return this;
            }

            /**
             * Kernel rows and columns per tile (default {@link #DEFAULT_TILE} each); both at least 1.
             *
             * @param rows the new setting
             * @param cols the new setting
             * @return this builder
             */
            public Builder tiles(int rows, int cols) {
                this.tileRows = rows;
                this.tileCols = cols;
                return this;
            }

            /**
             * For {@link KernelNormalization#STD}: divide by this fixed positive value instead of the kernel's own std
             * (default: computed from the kernel).
             *
             * @param value the divisor, positive and finite
             * @return this builder
             */
            public Builder stdScale(double value) {
                this.stdScale = value;
                return this;
            }

            /**
             * The options.
             *
             * @return the options
             * @throws IllegalArgumentException naming the field when a value is missing or out of range
             */
            public Options build() {
                if (kernel == null) throw new IllegalArgumentException("kernel must be set, got null");
                if (normalization == null) throw new IllegalArgumentException("normalization must be set, got null");
                if (tileRows < 1) throw new IllegalArgumentException("tileRows must be >= 1, got " + tileRows);
                if (tileCols < 1) throw new IllegalArgumentException("tileCols must be >= 1, got " + tileCols);
                if (stdScale != null && !(stdScale > 0 && Double.isFinite(stdScale))) {
                    throw new IllegalArgumentException("stdScale must be a positive finite number, got " + stdScale);
                }
                return new Options(this);
            }
        }
    }

    /**
     * What was computed.
     *
     * @param rows    the kernel's rows: N, or N*C for ENTK
     * @param cols    the kernel's columns: M, or M*C for ENTK
     * @param scale   the divisor applied to every raw entry: the std (or the given divisor) for STD, 1 otherwise
     *                (cosine divides entry-wise and reports 1)
     * @param rawMean the mean of the raw entries when STD computed it, else NaN
     * @param rawStd  the population std of the raw entries when STD computed it, else NaN
     */
    public record Result(long rows, long cols, double scale, double rawMean, double rawStd) {}

    /**
     * Streams the kernel between {@code rowsOp} and {@code colsOp} to {@code sink}, tile by tile in row-major tile
     * order, on the calling thread. Holds one row block and one tile off-heap at a time, in a confined arena freed on
     * return. COSINE first reads each operand once for its self-kernels; STD without a fixed divisor makes one extra
     * full pass.
     *
     * @param rowsOp the row operand: one feature matrix for PNTK, one per class otherwise
     * @param colsOp the column operand, with the same class count and feature dimension
     * @param opt    the kernel, normalisation and tile size
     * @param sink   receives every tile once; an exception it throws stops the computation
     * @return the shape and scale
     * @throws IllegalArgumentException for mismatched operands, non-finite features or kernel values, or STD entries
     *                                  with zero variance
     */
    public static Result compute(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Options opt, TileSink sink) {
        return normalized(rowsOp, colsOp, opt, validate(rowsOp, colsOp, opt.kernel()), Gram::run, sink);
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
        if (opt.normalization() == KernelNormalization.COSINE) {
            rowDiag = selfKernel(rowsOp, opt.kernel());
            colDiag = rowsOp == colsOp ? rowDiag : selfKernel(colsOp, opt.kernel());
        }
        double scale = 1.0;
        double mean = Double.NaN;
        double std = Double.NaN;
        if (opt.normalization() == KernelNormalization.STD) {
            if (opt.stdScale().isPresent()) {
                scale = opt.stdScale().getAsDouble();
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
        final int outPerRow = opt.kernel() == KernelKind.ENTK ? s.classes : 1;
        raw.run(rowsOp, colsOp, opt, s, (r0, c0, tr, tc, tile) -> {
            if (opt.normalization() == KernelNormalization.STD) {
                scaleTile(tile, (long) tr * tc, invScale);
            } else if (opt.normalization() == KernelNormalization.COSINE) {
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

    /**
     * The whole kernel in memory (small cases): {@link #compute} into a new matrix in an automatic arena.
     *
     * @param rowsOp the row operand
     * @param colsOp the column operand
     * @param opt    the kernel, normalisation and tile size
     * @return the kernel, [N x M] or [N*C x M*C] for ENTK
     * @throws IllegalArgumentException as {@link #compute} does, or when either side exceeds Integer.MAX_VALUE
     */
    public static KernelMatrix computeMatrix(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Options opt) {
        Shape s = validate(rowsOp, colsOp, opt.kernel());
        long per = opt.kernel() == KernelKind.ENTK ? s.classes : 1;
        long r = s.rows * per;
        long c = s.cols * per;
        if (r > Integer.MAX_VALUE || c > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("kernel of " + r + " x " + c + " is too large to hold in memory; stream it");
        }
        KernelMatrix out = KernelMatrix.allocate((int) r, (int) c);
        compute(rowsOp, colsOp, opt, copyInto(out));
        return out;
    }

    /**
     * A sink that copies tiles into a matrix, unchecked against its shape.
     *
     * @param out the kernel written, at least as large as the tiles reach
     * @return the sink
     */
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
     * ||A_c[i]||² at index i*C+c for ENTK. Accumulated in double, in one pass over the operand.
     *
     * @param op   the operand
     * @param kind how its matrices combine
     * @return N values, or N*C for ENTK
     * @throws IllegalArgumentException for a malformed operand or non-finite features
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

    /**
     * Mean and population standard deviation of all raw (unnormalised) kernel entries: one pass over the tiles.
     *
     * @param rowsOp the row operand
     * @param colsOp the column operand
     * @param opt    the kernel and tile size (its normalisation is ignored)
     * @return {mean, std}
     * @throws IllegalArgumentException for mismatched operands or non-finite kernel values
     */
    public static double[] entryMeanStd(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Options opt) {
        Shape s = validate(rowsOp, colsOp, opt.kernel());
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
        boolean entk = opt.kernel() == KernelKind.ENTK;
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
