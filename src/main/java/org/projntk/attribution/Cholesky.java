package org.projntk.attribution;

import java.io.Serializable;

/**
 * The Cholesky factorisation A = L Lᵀ of a symmetric positive definite float64 matrix, and solves with it.
 * Matrices are row-major double[n * n]; only the lower triangle of A is read.
 */
public final class Cholesky implements Serializable {
    /** A pivot below this fraction of the largest diagonal entry (times n) counts as zero: the matrix is singular. */
    static final double RELATIVE_PIVOT_FLOOR = 1e-13;

    private final int n;
    private final double[] l;
    private final double[] lt; // Lᵀ row-major, so that both substitutions read memory in order

    private Cholesky(int n, double[] l) {
        this.n = n;
        this.l = l;
        this.lt = new double[n * n];
        for (int i = 0; i < n; i++) for (int k = 0; k <= i; k++) lt[k * n + i] = l[i * n + k];
    }

    /** Thrown when A is not (numerically) positive definite. */
    public static final class NotPositiveDefiniteException extends ArithmeticException {
        private final int column;

        NotPositiveDefiniteException(int column, double pivot, double maxDiagonal) {
            super("matrix is singular or not positive definite: pivot " + column + " is " + pivot
                    + " (largest diagonal entry " + maxDiagonal + ")");
            this.column = column;
        }

        public int column() {
            return column;
        }
    }

    public static Cholesky factor(double[] a, int n) {
        if (a.length != (long) n * n) throw new IllegalArgumentException("expected " + n + " x " + n + " entries, got " + a.length);
        double maxDiagonal = 0;
        for (int i = 0; i < n; i++) maxDiagonal = Math.max(maxDiagonal, Math.abs(a[i * n + i]));
        double floor = maxDiagonal * n * RELATIVE_PIVOT_FLOOR;
        double[] l = new double[n * n];
        for (int j = 0; j < n; j++) {
            int rj = j * n;
            double d = a[rj + j];
            for (int k = 0; k < j; k++) d -= l[rj + k] * l[rj + k];
            if (!(d > floor)) throw new NotPositiveDefiniteException(j, d, maxDiagonal);
            double ljj = Math.sqrt(d);
            l[rj + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                int ri = i * n;
                double s = a[ri + j];
                for (int k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
                l[ri + j] = s / ljj;
            }
        }
        return new Cholesky(n, l);
    }

    public int size() {
        return n;
    }

    /** Replaces each of the {@code rows} rows x (length n, at x[r*n]) by x A⁻¹ (= A⁻¹ xᵀ, A being symmetric). */
    public void solveRows(double[] x, int rows) {
        if (x.length < (long) rows * n) throw new IllegalArgumentException("need " + rows + " x " + n + " entries, got " + x.length);
        for (int r = 0; r < rows; r++) {
            int o = r * n;
            for (int i = 0; i < n; i++) { // L y = x
                int ri = i * n;
                double s = x[o + i];
                for (int k = 0; k < i; k++) s -= l[ri + k] * x[o + k];
                x[o + i] = s / l[ri + i];
            }
            for (int i = n - 1; i >= 0; i--) { // Lᵀ z = y
                double s = x[o + i];
                int ri = i * n;
                for (int k = i + 1; k < n; k++) s -= lt[ri + k] * x[o + k];
                x[o + i] = s / lt[ri + i];
            }
        }
    }

    /** A⁻¹ by solving against the identity (only for TRAK's normalisation by mean |A⁻¹|). */
    public double[] inverse() {
        double[] inv = new double[n * n];
        for (int i = 0; i < n; i++) inv[i * n + i] = 1;
        solveRows(inv, n);
        return inv;
    }
}
