package org.projntk.stats;

import java.io.Serializable;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.projntk.internal.Blas;

/**
 * The Cholesky factorisation A = L Lᵀ of a symmetric positive definite float64 matrix, and solves and products with L.
 * Matrices are row-major double[n * n]; only the lower triangle of A is read. The factorisation is blocked: each
 * diagonal block is factorised in Java, the panel below it solved and the trailing matrix updated through BLAS
 * (dtrsm, dsyrk), so its D³/3 flops run at BLAS speed. Serializable (Spark broadcasts it): L travels as an array and
 * is copied off-heap again where BLAS first needs it.
 */
public final class Cholesky implements Serializable {
    /** A pivot below this fraction of the largest diagonal entry (times n) counts as zero: the matrix is singular. */
    static final double RELATIVE_PIVOT_FLOOR = 1e-13;
    private static final int BLOCK = 96;

    /** The order of A. */
    private final int n;
    /** L row-major, zeros above the diagonal. */
    private final double[] lower;
    private transient MemorySegment l; // the same, off-heap for BLAS

    private Cholesky(int n, MemorySegment l) {
        this.n = n;
        this.lower = l.toArray(ValueLayout.JAVA_DOUBLE);
        this.l = l;
    }

    private synchronized MemorySegment l() {
        MemorySegment s = l;
        if (s == null) {
            s = Arena.ofAuto().allocate((long) n * n * Double.BYTES, 64);
            MemorySegment.copy(lower, 0, s, ValueLayout.JAVA_DOUBLE, 0, lower.length);
            l = s;
        }
        return s;
    }

    /** Thrown when A is not (numerically) positive definite. */
    public static final class NotPositiveDefiniteException extends ArithmeticException {
        /** The column whose pivot failed. */
        private final int column;

        NotPositiveDefiniteException(int column, double pivot, double maxDiagonal) {
            super("matrix is singular or not positive definite: pivot " + column + " is " + pivot
                    + " (largest diagonal entry " + maxDiagonal + ")");
            this.column = column;
        }

        /** {@return the 0-based column whose pivot was at or below the floor} */
        public int column() {
            return column;
        }
    }

    /**
     * Factorises A.
     *
     * @param a A, row-major [n x n]; only its lower triangle is read, and it is not modified
     * @param n the order of A, at least 1
     * @return the factor, holding n² doubles on and off the heap
     * @throws IllegalArgumentException if {@code a} does not hold n² entries
     * @throws NotPositiveDefiniteException if a pivot is at or below 1e-13 · n · the largest diagonal entry
     */
    public static Cholesky factor(double[] a, int n) {
        if (n < 1 || a.length != (long) n * n) throw new IllegalArgumentException("expected " + n + " x " + n + " entries, got " + a.length);
        double maxDiagonal = 0;
        for (int i = 0; i < n; i++) maxDiagonal = Math.max(maxDiagonal, Math.abs(a[i * n + i]));
        double floor = maxDiagonal * n * RELATIVE_PIVOT_FLOOR;
        MemorySegment s = Arena.ofAuto().allocate((long) n * n * Double.BYTES, 64);
        for (int i = 0; i < n; i++) MemorySegment.copy(a, i * n, s, ValueLayout.JAVA_DOUBLE, (long) i * n * Double.BYTES, i + 1);
        for (int j0 = 0; j0 < n; j0 += BLOCK) {
            int jb = Math.min(BLOCK, n - j0);
            // the diagonal block, already updated by the blocks to its left
            for (int j = j0; j < j0 + jb; j++) {
                double d = get(s, n, j, j);
                for (int k = j0; k < j; k++) d -= get(s, n, j, k) * get(s, n, j, k);
                if (!(d > floor)) throw new NotPositiveDefiniteException(j, d, maxDiagonal);
                double ljj = Math.sqrt(d);
                set(s, n, j, j, ljj);
                for (int i = j + 1; i < j0 + jb; i++) {
                    double v = get(s, n, i, j);
                    for (int k = j0; k < j; k++) v -= get(s, n, i, k) * get(s, n, j, k);
                    set(s, n, i, j, v / ljj);
                }
            }
            int rest = n - j0 - jb;
            if (rest > 0) {
                MemorySegment diagonal = s.asSlice(((long) j0 * n + j0) * Double.BYTES);
                MemorySegment panel = s.asSlice(((long) (j0 + jb) * n + j0) * Double.BYTES);
                MemorySegment trailing = s.asSlice(((long) (j0 + jb) * n + j0 + jb) * Double.BYTES);
                Blas.dtrsmLower(false, true, rest, jb, diagonal, n, panel, n); // L21 = A21 L11⁻ᵀ
                Blas.dsyrkLower(rest, jb, -1.0, panel, n, 1.0, trailing, n);   // A22 -= L21 L21ᵀ
            }
        }
        return new Cholesky(n, s);
    }

    /** {@return n, the order of A} */
    public int size() {
        return n;
    }

    /**
     * Replaces each of the {@code rows} rows x (length n, at x[r*n]) by x A⁻¹ (= A⁻¹ xᵀ, A being symmetric).
     *
     * @param x [rows x n] row-major, at least rows·n entries; overwritten
     * @param rows the number of rows to solve, 0 or more
     */
    public void solveRows(double[] x, int rows) {
        if (rows < 0 || x.length < (long) rows * n) throw new IllegalArgumentException("need " + rows + " x " + n + " entries, got " + x.length);
        if (rows == 0) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = copy(arena, x, (long) rows * n);
            Blas.dtrsmLower(false, true, rows, n, l(), n, b, n);  // Y Lᵀ = X
            Blas.dtrsmLower(false, false, rows, n, l(), n, b, n); // Z L = Y
            MemorySegment.copy(b, ValueLayout.JAVA_DOUBLE, 0, x, 0, rows * n);
        }
    }

    /** {@return A⁻¹ [n x n] row-major, by solving against the identity (only for TRAK's normalisation by mean |A⁻¹|)} */
    public double[] inverse() {
        double[] inv = new double[n * n];
        for (int i = 0; i < n; i++) inv[i * n + i] = 1;
        solveRows(inv, n);
        return inv;
    }

    /**
     * L·X.
     *
     * @param x [n x cols] row-major, not modified
     * @param cols the number of columns of X, at least 1
     * @return L·X [n x cols] row-major, a new array
     */
    public double[] lowerTimes(double[] x, int cols) {
        return triangular(x, cols, false, false);
    }

    /**
     * Lᵀ·X.
     *
     * @param x [n x cols] row-major, not modified
     * @param cols the number of columns of X, at least 1
     * @return Lᵀ·X [n x cols] row-major, a new array
     */
    public double[] lowerTransposeTimes(double[] x, int cols) {
        return triangular(x, cols, true, false);
    }

    /**
     * Replaces X by the solution Y of Lᵀ Y = X.
     *
     * @param x [n x cols] row-major; overwritten by Y
     * @param cols the number of columns of X, at least 1
     */
    public void solveLowerTranspose(double[] x, int cols) {
        double[] y = triangular(x, cols, true, true);
        System.arraycopy(y, 0, x, 0, x.length);
    }

    private double[] triangular(double[] x, int cols, boolean transposed, boolean solve) {
        if (cols < 1 || x.length != (long) n * cols) {
            throw new IllegalArgumentException("expected " + n + " x " + cols + " entries, got " + x.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = copy(arena, x, x.length);
            if (solve) {
                Blas.dtrsmLower(true, transposed, n, cols, l(), n, b, cols);
            } else {
                Blas.dtrmmLowerLeft(transposed, n, cols, l(), n, b, cols);
            }
            double[] out = new double[x.length];
            MemorySegment.copy(b, ValueLayout.JAVA_DOUBLE, 0, out, 0, out.length);
            return out;
        }
    }

    private static MemorySegment copy(Arena arena, double[] x, long count) {
        MemorySegment b = arena.allocate(count * Double.BYTES, 64);
        MemorySegment.copy(x, 0, b, ValueLayout.JAVA_DOUBLE, 0, (int) count);
        return b;
    }

    private static double get(MemorySegment s, int n, int i, int j) {
        return s.getAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * n + j);
    }

    private static void set(MemorySegment s, int n, int i, int j, double v) {
        s.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * n + j, v);
    }
}
