package org.projntk.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The blocked factorisation and its solves against naive float64 products, for sizes around the block size. */
class CholeskyTest {
    static double[] spd(Random r, int n) {
        double[] b = new double[n * n];
        for (int i = 0; i < b.length; i++) b[i] = r.nextGaussian();
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = i == j ? 0.5 * n : 0;
                for (int k = 0; k < n; k++) s += b[i * n + k] * b[j * n + k];
                a[i * n + j] = s;
            }
        }
        return a;
    }

    @Test
    void factorsAndSolvesAcrossBlockBoundaries() {
        Random r = new Random(4);
        for (int n : new int[] {1, 7, 95, 96, 97, 230}) {
            double[] a = spd(r, n);
            Cholesky c = Cholesky.factor(a, n);
            double[] identity = new double[n * n];
            for (int i = 0; i < n; i++) identity[i * n + i] = 1;
            double[] l = c.lowerTimes(identity, n);
            double scale = 0;
            for (double v : a) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (j > i) assertEquals(0.0, l[i * n + j], 0.0, "n=" + n + " upper entry");
                    double s = 0;
                    for (int k = 0; k < n; k++) s += l[i * n + k] * l[j * n + k];
                    assertEquals(a[i * n + j], s, 1e-12 * scale, "n=" + n + " (L Lᵀ)[" + i + "," + j + "]");
                }
            }
            int cols = 3;
            double[] x = new double[n * cols];
            for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
            double[] ltx = c.lowerTransposeTimes(x, cols);
            for (int i = 0; i < n; i++) {
                for (int q = 0; q < cols; q++) {
                    double s = 0;
                    for (int k = 0; k < n; k++) s += l[k * n + i] * x[k * cols + q];
                    assertEquals(s, ltx[i * cols + q], 1e-9 * Math.sqrt(scale), "n=" + n + " Lᵀx");
                }
            }
            double[] y = ltx.clone();
            c.solveLowerTranspose(y, cols);
            for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 1e-9, "n=" + n + " Lᵀ⁻¹(Lᵀx)");
            double[] rows = new double[2 * n];
            for (int i = 0; i < rows.length; i++) rows[i] = r.nextGaussian();
            double[] solved = rows.clone();
            c.solveRows(solved, 2);
            for (int t = 0; t < 2; t++) {
                for (int i = 0; i < n; i++) {
                    double s = 0;
                    for (int k = 0; k < n; k++) s += solved[t * n + k] * a[k * n + i];
                    assertEquals(rows[t * n + i], s, 1e-9 * Math.max(1, Math.abs(rows[t * n + i])), "n=" + n + " x A⁻¹ A");
                }
            }
        }
    }

    @Test
    void aDeserialisedFactorSolvesIdentically() throws Exception {
        Random r = new Random(6);
        int n = 120;
        Cholesky c = Cholesky.factor(spd(r, n), n);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        Cholesky copy;
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (Cholesky) in.readObject();
        }
        double[] x = new double[3 * n];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
        double[] expected = x.clone();
        double[] actual = x.clone();
        c.solveRows(expected, 3);
        copy.solveRows(actual, 3);
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, actual);
    }

    @Test
    void aSingularMatrixIsRefusedNamingThePivot() {
        Random r = new Random(5);
        int n = 150;
        double[] a = spd(r, n);
        // make row/column 120 a copy of row/column 3: rank deficient, detected in a later block
        for (int k = 0; k < n; k++) {
            a[120 * n + k] = a[3 * n + k];
            a[k * n + 120] = a[k * n + 3];
        }
        a[120 * n + 120] = a[3 * n + 3];
        Cholesky.NotPositiveDefiniteException e = assertThrows(Cholesky.NotPositiveDefiniteException.class, () -> Cholesky.factor(a, n));
        assertEquals(120, e.column());
    }
}
