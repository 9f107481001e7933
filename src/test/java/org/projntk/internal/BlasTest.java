package org.projntk.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The float64 triangular routines, through OpenBLAS and through the Java loops, against naive dense products. */
class BlasTest {
    @AfterEach
    void restore() {
        Blas.javaLoops = false;
    }

    /** A well-conditioned random lower-triangular matrix (diagonal 2..3). */
    static double[][] lower(Random r, int n) {
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < i; k++) l[i][k] = r.nextGaussian() * 0.3;
            l[i][i] = 2 + r.nextDouble();
        }
        return l;
    }

    static double[][] random(Random r, int m, int n) {
        double[][] x = new double[m][n];
        for (double[] row : x) for (int j = 0; j < n; j++) row[j] = r.nextGaussian();
        return x;
    }

    static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) t[j][i] = a[i][j];
        return t;
    }

    static double[][] times(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) for (int k = 0; k < b.length; k++) for (int j = 0; j < b[0].length; j++) c[i][j] += a[i][k] * b[k][j];
        return c;
    }

    static MemorySegment segment(Arena arena, double[][] a) {
        MemorySegment s = arena.allocate((long) a.length * a[0].length * Double.BYTES, 64);
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) s.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * a[0].length + j, a[i][j]);
        return s;
    }

    static void assertMatrix(double[][] expected, MemorySegment actual, double tol, String what) {
        int n = expected[0].length;
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(expected[i][j], actual.getAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * n + j), tol, what + " [" + i + "," + j + "]");
            }
        }
    }

    @Test
    void triangularRoutinesMatchNaiveProducts() {
        assertTrue(Blas.isOpenBlas(), "the native tests expect OpenBLAS (make deps installs it)");
        Random r = new Random(3);
        int m = 9, n = 5;
        for (boolean java : new boolean[] {false, true}) {
            Blas.javaLoops = java;
            String path = java ? "java" : "openblas";
            try (Arena arena = Arena.ofConfined()) {
                double[][] lm = lower(r, m);
                double[][] ln = lower(r, n);
                double[][] b = random(r, m, n);
                for (boolean trans : new boolean[] {false, true}) {
                    double[][] opm = trans ? transpose(lm) : lm;
                    double[][] opn = trans ? transpose(ln) : ln;
                    // dtrmm: op(L)·B
                    MemorySegment s = segment(arena, b);
                    Blas.dtrmmLowerLeft(trans, m, n, segment(arena, lm), m, s, n);
                    assertMatrix(times(opm, b), s, 1e-12, path + " dtrmm trans=" + trans);
                    // left dtrsm: op(L) X = B, checked as op(L)·X = B
                    s = segment(arena, b);
                    Blas.dtrsmLower(true, trans, m, n, segment(arena, lm), m, s, n);
                    assertMatrix(b, segment(arena, times(opm, read(s, m, n))), 1e-12, path + " left dtrsm trans=" + trans);
                    // right dtrsm: X op(L) = B
                    s = segment(arena, b);
                    Blas.dtrsmLower(false, trans, m, n, segment(arena, ln), n, s, n);
                    assertMatrix(b, segment(arena, times(read(s, m, n), opn)), 1e-12, path + " right dtrsm trans=" + trans);
                }
                // dsyrk: lower triangle of 2·A·Aᵀ - C, the upper triangle untouched
                double[][] a = random(r, m, n);
                double[][] c = random(r, m, m);
                MemorySegment cs = segment(arena, c);
                Blas.dsyrkLower(m, n, 2.0, segment(arena, a), n, -1.0, cs, m);
                double[][] aat = times(a, transpose(a));
                double[][] expected = new double[m][m];
                for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) expected[i][j] = j <= i ? 2 * aat[i][j] - c[i][j] : c[i][j];
                assertMatrix(expected, cs, 1e-12, path + " dsyrk");
            }
        }
    }

    @Test
    void thinProductsMatchAFloat64Reference() {
        // sgemm with at most 16 columns in B goes to projntk_thin_gemm; wider ones to OpenBLAS (the control)
        Random r = new Random(8);
        for (int q : new int[] {1, 3, 8, 10, 16, 17}) {
            for (boolean transA : new boolean[] {false, true}) {
                for (float beta : new float[] {0f, 1f}) {
                    int m = 37, k = 75; // C [m x q]; A [m x k] or [k x m]
                    int lda = transA ? m + 3 : k + 2, ldb = q + 1, ldc = q + 2;
                    try (Arena arena = Arena.ofConfined()) {
                        int aRows = transA ? k : m;
                        MemorySegment a = floats(arena, r, (long) aRows * lda);
                        MemorySegment b = floats(arena, r, (long) k * ldb);
                        MemorySegment c = floats(arena, r, (long) m * ldc);
                        float[] c0 = c.toArray(ValueLayout.JAVA_FLOAT);
                        Blas.sgemm(transA, false, m, q, k, 1f, a, lda, b, ldb, beta, c, ldc);
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < ldc; j++) {
                                float got = c.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * ldc + j);
                                if (j >= q) {
                                    assertEquals(c0[i * ldc + j], got, 0f, "column beyond q written");
                                    continue;
                                }
                                double sum = beta * c0[i * ldc + j];
                                for (int p = 0; p < k; p++) {
                                    float x = a.getAtIndex(ValueLayout.JAVA_FLOAT, transA ? (long) p * lda + i : (long) i * lda + p);
                                    sum += (double) x * b.getAtIndex(ValueLayout.JAVA_FLOAT, (long) p * ldb + j);
                                }
                                assertEquals(sum, got, 1e-4 * Math.sqrt(k), "q=" + q + " transA=" + transA + " beta=" + beta + " [" + i + "," + j + "]");
                            }
                        }
                    }
                }
            }
        }
    }

    static MemorySegment floats(Arena arena, Random r, long count) {
        MemorySegment s = arena.allocate(count * Float.BYTES, 64);
        for (long i = 0; i < count; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
        return s;
    }

    static double[][] read(MemorySegment s, int m, int n) {
        double[][] x = new double[m][n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) x[i][j] = s.getAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * n + j);
        return x;
    }
}
