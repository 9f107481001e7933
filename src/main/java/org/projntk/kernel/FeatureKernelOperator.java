package org.projntk.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Objects;
import org.projntk.internal.Blas;

/**
 * K·X through the features: with row features A_c [N x K] and column features B_c [M x K],
 * <ul>
 *   <li>pNTK and trNTK: K·X = D_r Σ_c A_c (B_cᵀ (D_c X)), an [N x M] kernel;</li>
 *   <li>eNTK: the [N·C x M·C] block kernel, (K·X)[(i,c)] = D_r A_c[i] · Σ_c' B_c'ᵀ (D_c X)[(·,c')];</li>
 * </ul>
 * with D the cosine scaling 1/√K_ii (0 where K_ii = 0, as in {@link Gram}) or the identity, and for STD a division by the
 * kernel's entry std. A product costs two streamed passes over the features, O((N + M)·K·C·q) flops, and holds only
 * C·K·q floats besides its operand and result. Features are read in row blocks, straight from memory-mapped stores.
 * Made by {@link KernelOperator#features}. Immutable; products may run on several threads at once.
 */
public final class FeatureKernelOperator implements KernelOperator {
    private static final int BLOCK_ROWS = 4096;

    private final List<FeatureMatrix> rowsOp;
    private final List<FeatureMatrix> colsOp;
    private final KernelKind kind;
    private final KernelNormalization norm;
    private final int classes;
    private final int dim;
    private final int per;
    private final long n;
    private final long m;
    private final float[] rowScale; // null: 1
    private final float[] colScale;
    private final double stdScale;
    private final double[] rowSelf; // raw self-kernel of the row operand, when computed

    FeatureKernelOperator(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, KernelKind kind, KernelNormalization norm,
                          Double stdScale) {
        Objects.requireNonNull(norm, "norm");
        Gram.Shape s = Gram.validate(rowsOp, colsOp, kind);
        this.rowsOp = List.copyOf(rowsOp);
        this.colsOp = List.copyOf(colsOp);
        this.kind = kind;
        this.norm = norm;
        this.classes = s.classes();
        this.dim = s.dim();
        this.per = kind == KernelKind.ENTK ? classes : 1;
        this.n = s.rows() * per;
        this.m = s.cols() * per;
        if (n > Integer.MAX_VALUE / 64 || m > Integer.MAX_VALUE / 64) {
            throw new IllegalArgumentException("kernel of " + n + " x " + m + " rows is too large for in-memory operands");
        }
        boolean same = rowsOp.equals(colsOp);
        double[] rd = null;
        if (norm == KernelNormalization.COSINE || same) rd = Gram.selfKernel(rowsOp, kind);
        this.rowSelf = same ? rd : null;
        if (norm == KernelNormalization.COSINE) {
            this.rowScale = inverseSqrt(rd);
            this.colScale = same ? rowScale : inverseSqrt(Gram.selfKernel(colsOp, kind));
        } else {
            this.rowScale = null;
            this.colScale = null;
        }
        if (norm == KernelNormalization.STD) {
            double sd = stdScale != null ? stdScale
                    : Gram.entryMeanStd(rowsOp, colsOp, Gram.Options.of(kind, KernelNormalization.NONE))[1];
            if (!(sd > 0) || !Double.isFinite(sd)) {
                throw new IllegalArgumentException("STD normalisation: the kernel entries have zero or non-finite spread (" + sd + ")");
            }
            this.stdScale = sd;
        } else {
            this.stdScale = 1.0;
        }
    }

    /** {@return the divisor applied for STD normalisation (1 otherwise): pass it to the test operator} */
    public double stdScale() {
        return stdScale;
    }

    /** {@return how the per-class feature matrices combine} */
    public KernelKind kind() {
        return kind;
    }

    /** {@return the normalisation applied to every entry} */
    public KernelNormalization normalization() {
        return norm;
    }

    @Override
    public int rows() {
        return (int) n;
    }

    @Override
    public int cols() {
        return (int) m;
    }

    @Override
    public boolean symmetric() {
        return rowSelf != null;
    }

    @Override
    public double[] diagonal() {
        if (rowSelf == null) throw new IllegalStateException("the diagonal needs the same operand on both sides");
        double[] d = new double[rowSelf.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = norm == KernelNormalization.COSINE ? (rowSelf[i] > 0 ? 1.0 : 0.0) : rowSelf[i] / stdScale;
        }
        return d;
    }

    @Override
    public float[] times(float[] x, int q) {
        return product(rowsOp, colsOp, rowScale, colScale, n, m, x, q);
    }

    @Override
    public float[] transposeTimes(float[] g, int q) {
        if (symmetric()) return times(g, q);
        return product(colsOp, rowsOp, colScale, rowScale, m, n, g, q);
    }

    /** out [outRows x q] = D_out Σ left_c (right_cᵀ (D_in x)) / std, in the eNTK or summed layout. */
    private float[] product(List<FeatureMatrix> left, List<FeatureMatrix> right, float[] outScale, float[] inScale,
                            long outRows, long inRows, float[] x, int q) {
        checkOperand(x, inRows, q);
        float[] out;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = copyScaled(arena, x, inScale, q);
            MemorySegment t = arena.allocate((long) (kind == KernelKind.ENTK ? 1 : classes) * dim * q * Float.BYTES, 64);
            transposePass(right, inRows / per, xs, q, t);
            MemorySegment os = arena.allocate(outRows * q * Float.BYTES, 64);
            timesPass(left, outRows / per, t, q, os);
            out = copyScaled(os, outScale, q, 1.0 / stdScale);
        }
        return checkFinite(out, q, "kernel product");
    }

    /** t = right_cᵀ x_c stacked over c [C·dim x q] (eNTK: one Σ_c right_cᵀ x_c [dim x q]); x holds per·rightRows rows. */
    private void transposePass(List<FeatureMatrix> right, long rightRows, MemorySegment xs, int q, MemorySegment t) {
        boolean entk = kind == KernelKind.ENTK;
        int ld = per * q; // floats between consecutive examples in x
        long tFloats = (long) dim * q;
        for (int c = 0; c < classes; c++) {
            MemorySegment tc = t.asSlice((entk ? 0 : c) * tFloats * Float.BYTES, tFloats * Float.BYTES);
            boolean first = !entk || c == 0;
            for (long r0 = 0; r0 < rightRows; r0 += BLOCK_ROWS) {
                int rows = (int) Math.min(BLOCK_ROWS, rightRows - r0);
                MemorySegment feats = right.get(c).rows(r0, rows);
                long xOff = (r0 * per + (entk ? c : 0)) * q;
                MemorySegment xb = xs.asSlice(xOff * Float.BYTES, (((long) rows - 1) * ld + q) * Float.BYTES);
                Blas.sgemm(true, false, dim, q, rows, 1f, feats, dim, xb, ld, first && r0 == 0 ? 0f : 1f, tc, q);
            }
        }
    }

    /** out = Σ_c left_c t_c (eNTK: out[(i,c)] = left_c[i] t), with t as {@link #transposePass} leaves it. */
    private void timesPass(List<FeatureMatrix> left, long leftRows, MemorySegment t, int q, MemorySegment os) {
        boolean entk = kind == KernelKind.ENTK;
        int ld = per * q;
        long tFloats = (long) dim * q;
        for (int c = 0; c < classes; c++) {
            MemorySegment tc = t.asSlice((entk ? 0 : c) * tFloats * Float.BYTES, tFloats * Float.BYTES);
            for (long r0 = 0; r0 < leftRows; r0 += BLOCK_ROWS) {
                int rows = (int) Math.min(BLOCK_ROWS, leftRows - r0);
                MemorySegment feats = left.get(c).rows(r0, rows);
                long oOff = (r0 * per + (entk ? c : 0)) * q;
                MemorySegment ob = os.asSlice(oOff * Float.BYTES, (((long) rows - 1) * ld + q) * Float.BYTES);
                Blas.sgemm(false, false, rows, q, dim, 1f, feats, dim, tc, q, entk || c == 0 ? 0f : 1f, ob, ld);
            }
        }
    }

    // ---- The factor F of a symmetric operator, K = F Fᵀ: F = D [A_1 … A_C] / √std for pNTK and trNTK (D = K·C_f
    // columns), and for eNTK the rows (i, c) = D_(i,c) A_c[i] / √std (D = K columns). Fitting in F's column space costs
    // one pass over the features per product instead of two.

    /**
     * The columns of the factor F with K = F Fᵀ: the feature dimension K for pNTK and eNTK, K·C for trNTK.
     *
     * @return the column count
     * @throws IllegalStateException when the operator is not {@link #symmetric()}
     */
    public int factorColumns() {
        requireSymmetric();
        return kind == KernelKind.ENTK ? dim : dim * classes;
    }

    /**
     * F·V [rows x q], one pass over the features.
     *
     * @param v V, row-major [factorColumns x q]
     * @param q the number of right-hand columns, at least 1
     * @return F·V, row-major [rows x q], newly allocated
     * @throws IllegalStateException    when the operator is not {@link #symmetric()}
     * @throws IllegalArgumentException for a bad shape of v or a non-finite result
     */
    public float[] factorTimes(float[] v, int q) {
        requireSymmetric();
        checkOperand(v, factorColumns(), q);
        float[] out;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment t = copyScaled(arena, v, null, q);
            MemorySegment os = arena.allocate(n * q * Float.BYTES, 64);
            timesPass(rowsOp, n / per, t, q, os);
            out = copyScaled(os, rowScale, q, 1.0 / Math.sqrt(stdScale));
        }
        return checkFinite(out, q, "factor product");
    }

    /**
     * Fᵀ·G [factorColumns x q], one pass over the features.
     *
     * @param g G, row-major [rows x q]
     * @param q the number of right-hand columns, at least 1
     * @return Fᵀ·G, row-major [factorColumns x q], newly allocated
     * @throws IllegalStateException    when the operator is not {@link #symmetric()}
     * @throws IllegalArgumentException for a bad shape of g or a non-finite result
     */
    public float[] factorTransposeTimes(float[] g, int q) {
        requireSymmetric();
        checkOperand(g, n, q);
        float[] out;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = copyScaled(arena, g, rowScale, q);
            MemorySegment t = arena.allocate((long) factorColumns() * q * Float.BYTES, 64);
            transposePass(rowsOp, n / per, xs, q, t);
            out = copyScaled(t, null, q, 1.0 / Math.sqrt(stdScale));
        }
        return checkFinite(out, q, "factor product");
    }

    /**
     * FᵀF, accumulated in float64 over row blocks of float32 products (blocks of at most 32 MiB).
     *
     * @return FᵀF, row-major [factorColumns x factorColumns], symmetric
     * @throws IllegalStateException    when the operator is not {@link #symmetric()}
     * @throws IllegalArgumentException when an entry is not finite (NaN or Inf in the features)
     */
    public double[] factorGram() {
        requireSymmetric();
        int d = factorColumns();
        long examples = n / per;
        int blockExamples = (int) Math.max(1, Math.min(examples, (32L << 20) / ((long) d * per * Float.BYTES)));
        int blockRows = blockExamples * per;
        double[] gram = new double[d * d];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate((long) blockRows * d * Float.BYTES, 64);
            MemorySegment partial = arena.allocate((long) d * d * Float.BYTES, 64);
            float[] row = new float[dim];
            for (long e0 = 0; e0 < examples; e0 += blockExamples) {
                int count = (int) Math.min(blockExamples, examples - e0);
                for (int c = 0; c < classes; c++) {
                    MemorySegment feats = rowsOp.get(c).rows(e0, count);
                    for (int i = 0; i < count; i++) {
                        long target = kind == KernelKind.ENTK ? (long) i * per + c : i;
                        long col = kind == KernelKind.ENTK ? 0 : (long) c * dim;
                        long scaleIndex = (e0 + i) * per + (kind == KernelKind.ENTK ? c : 0);
                        float f = rowScale == null ? 1f : rowScale[(int) scaleIndex];
                        MemorySegment.copy(feats, ValueLayout.JAVA_FLOAT, (long) i * dim * Float.BYTES, row, 0, dim);
                        for (int k = 0; k < dim; k++) row[k] *= f;
                        MemorySegment.copy(row, 0, block, ValueLayout.JAVA_FLOAT, (target * d + col) * Float.BYTES, dim);
                    }
                }
                int rows = count * per;
                Blas.sgemm(true, false, d, d, rows, 1f, block, d, block, d, 0f, partial, d);
                for (int i = 0; i < gram.length; i++) gram[i] += partial.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            }
        }
        double inv = 1.0 / stdScale;
        for (int i = 0; i < gram.length; i++) {
            if (!Double.isFinite(gram[i])) throw new IllegalArgumentException("non-finite factor Gram entry: the features contain NaN or Inf");
            gram[i] *= inv;
        }
        return gram;
    }

    private void requireSymmetric() {
        if (!symmetric()) throw new IllegalStateException("the factor K = F Fᵀ needs the same operand on both sides");
    }

    private static void checkOperand(float[] x, long rows, int q) {
        Objects.requireNonNull(x, "operand");
        if (q < 1 || x.length != rows * q) {
            throw new IllegalArgumentException("kernel product: operand has " + x.length + " values, expected " + rows + " x " + q);
        }
    }

    private static MemorySegment copyScaled(Arena arena, float[] x, float[] rowScale, int q) {
        MemorySegment s = arena.allocate((long) x.length * Float.BYTES, 64);
        MemorySegment.copy(x, 0, s, ValueLayout.JAVA_FLOAT, 0, x.length);
        if (rowScale != null) scaleRows(s, rowScale, q);
        return s;
    }

    private static float[] copyScaled(MemorySegment s, float[] rowScale, int q, double factor) {
        if (rowScale != null) scaleRows(s, rowScale, q);
        float[] out = new float[(int) (s.byteSize() / Float.BYTES)];
        MemorySegment.copy(s, ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        if (factor != 1.0) {
            float f = (float) factor;
            for (int i = 0; i < out.length; i++) out[i] *= f;
        }
        return out;
    }

    private static float[] checkFinite(float[] out, int q, String what) {
        for (int i = 0; i < out.length; i++) {
            if (!Float.isFinite(out[i])) {
                throw new IllegalArgumentException("non-finite " + what + " in row " + (i / q)
                        + ": the features or the operand contain NaN or Inf, or overflow float32");
            }
        }
        return out;
    }

    private static void scaleRows(MemorySegment s, float[] scale, int q) {
        for (int i = 0; i < scale.length; i++) {
            float f = scale[i];
            for (int j = 0; j < q; j++) {
                long idx = (long) i * q + j;
                s.setAtIndex(ValueLayout.JAVA_FLOAT, idx, s.getAtIndex(ValueLayout.JAVA_FLOAT, idx) * f);
            }
        }
    }

    private static float[] inverseSqrt(double[] d) {
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) out[i] = d[i] > 0 ? (float) (1.0 / Math.sqrt(d[i])) : 0f;
        return out;
    }
}
