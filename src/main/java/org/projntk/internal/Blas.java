package org.projntk.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.projntk.bindings.cblas_h;

/**
 * Row-major float32 BLAS on off-heap segments: OpenBLAS through the generated cblas bindings when it can be loaded
 * (see NativeLibraries), otherwise plain Java loops (correct, slow, and reported by {@link #implementation()}).
 */
public final class Blas {
    private Blas() {}

    private static final boolean OPENBLAS = NativeLibraries.loadBlas() != null;

    /** C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major; op(X) = X or Xᵀ. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             MemorySegment a, int lda, MemorySegment b, int ldb,
                             float beta, MemorySegment c, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("negative sgemm dimension " + m + "x" + n + "x" + k);
        checkExtent(a, transA ? k : m, transA ? m : k, lda, "A");
        checkExtent(b, transB ? n : k, transB ? k : n, ldb, "B");
        checkExtent(c, m, n, ldc, "C");
        if (m == 0 || n == 0) return;
        if (OPENBLAS) {
            cblas_h.cblas_sgemm(cblas_h.CblasRowMajor(), transA ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(),
                    transB ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    long ai = transA ? (long) p * lda + i : (long) i * lda + p;
                    long bi = transB ? (long) j * ldb + p : (long) p * ldb + j;
                    sum += a.getAtIndex(ValueLayout.JAVA_FLOAT, ai) * b.getAtIndex(ValueLayout.JAVA_FLOAT, bi);
                }
                long ci = (long) i * ldc + j;
                float old = beta == 0f ? 0f : beta * c.getAtIndex(ValueLayout.JAVA_FLOAT, ci);
                c.setAtIndex(ValueLayout.JAVA_FLOAT, ci, (float) (alpha * sum) + old);
            }
        }
    }

    /** float64 C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major; op(X) = X or Xᵀ. */
    public static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                             MemorySegment a, int lda, MemorySegment b, int ldb,
                             double beta, MemorySegment c, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("negative dgemm dimension " + m + "x" + n + "x" + k);
        checkExtent(a, transA ? k : m, transA ? m : k, lda, "A", Double.BYTES);
        checkExtent(b, transB ? n : k, transB ? k : n, ldb, "B", Double.BYTES);
        checkExtent(c, m, n, ldc, "C", Double.BYTES);
        if (m == 0 || n == 0) return;
        if (OPENBLAS) {
            cblas_h.cblas_dgemm(cblas_h.CblasRowMajor(), transA ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(),
                    transB ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    long ai = transA ? (long) p * lda + i : (long) i * lda + p;
                    long bi = transB ? (long) j * ldb + p : (long) p * ldb + j;
                    sum += a.getAtIndex(ValueLayout.JAVA_DOUBLE, ai) * b.getAtIndex(ValueLayout.JAVA_DOUBLE, bi);
                }
                long ci = (long) i * ldc + j;
                double old = beta == 0 ? 0 : beta * c.getAtIndex(ValueLayout.JAVA_DOUBLE, ci);
                c.setAtIndex(ValueLayout.JAVA_DOUBLE, ci, alpha * sum + old);
            }
        }
    }

    /** Name of the BLAS in use, e.g. "OpenBLAS 0.3.21 ... (Zen)" or "java (OpenBLAS not found)". */
    public static String implementation() {
        if (!OPENBLAS) return "java loops (OpenBLAS not found)";
        return "OpenBLAS " + cblas_h.openblas_get_config().reinterpret(256).getString(0).trim()
                + " core=" + cblas_h.openblas_get_corename().reinterpret(64).getString(0)
                + " threads=" + cblas_h.openblas_get_num_threads()
                + " (" + NativeLibraries.loadBlas() + ")";
    }

    public static boolean isOpenBlas() {
        return OPENBLAS;
    }

    private static void checkExtent(MemorySegment s, int rows, int cols, int ld, String name) {
        checkExtent(s, rows, cols, ld, name, Float.BYTES);
    }

    private static void checkExtent(MemorySegment s, int rows, int cols, int ld, String name, int elementBytes) {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new IllegalArgumentException("leading dimension of " + name + " (" + ld + ") < its columns (" + cols + ")");
        long needed = ((long) (rows - 1) * ld + cols) * elementBytes;
        if (s.byteSize() < needed) {
            throw new IllegalArgumentException(name + " holds " + s.byteSize() + " bytes, a " + rows + "x" + cols
                    + " matrix with ld " + ld + " needs " + needed);
        }
    }
}
