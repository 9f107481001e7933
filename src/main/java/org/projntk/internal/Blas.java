package org.projntk.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.projntk.bindings.cblas_h;
import org.projntk.bindings.projntk_h;

/**
 * Row-major float32 BLAS on off-heap segments: OpenBLAS through the generated cblas bindings when it can be loaded
 * (see NativeLibraries), otherwise plain Java loops (correct, slow, and reported by {@link #implementation()}).
 * Products of a tall matrix with at most 16 columns (the kernel GLM's) go to projntk's own streaming kernel
 * ({@code projntk_thin_gemm}), which reads the tall operand at close to memory bandwidth where OpenBLAS packs it first.
 *
 * <p><b>float64 results do not depend on the BLAS thread count.</b> A multi-threaded OpenBLAS call splits its matrix
 * among threads, and where the split falls changes which kernel (main or edge) and which k-blocking computes an entry,
 * so the last bits of dgemm, dtrsm, dsyrk and dtrmm change with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS (measured on
 * OpenBLAS 0.3.21: XᵀX of 904 rows differs between 1 and 2 threads). The float64 routines here are therefore cut
 * into a fixed grid of calls that OpenBLAS always runs on the calling thread: dgemm into blocks of at most
 * {@value #SERIAL_BLOCK}³ multiply-adds (OpenBLAS's interface runs m·n·k ≤ 65536·GEMM_MULTITHREAD_THRESHOLD, 262144
 * by default, single-threaded), summed over k in ascending order; dtrsm and dtrmm into groups of at most
 * {@value #SERIAL_VECTORS} independent right-hand sides (fewer than 8 run single-threaded); dsyrk as dgemm blocks. The
 * bits then depend on the operands, the grid and the CPU's OpenBLAS kernels only, so a Spark task with one BLAS thread
 * and the CLI with all cores write the same scores. Nothing process-wide is changed. The float32 routines keep
 * OpenBLAS's own threading (Gram tiles are compared at one tile shape, whose split does not change their bits).
 */
public final class Blas {
    private Blas() {}

    private static final boolean OPENBLAS = NativeLibraries.loadBlas() != null;
    private static final int THIN_COLUMNS = 16;
    /** Side of the float64 gemm blocks: 64³ = 262144 multiply-adds, which OpenBLAS runs on the calling thread. */
    static final int SERIAL_BLOCK = 64;
    /** Right-hand sides per triangular call: OpenBLAS runs a dtrsm/dtrmm with fewer than 8 on the calling thread. */
    static final int SERIAL_VECTORS = 7;
    private static volatile Boolean thinKernel;

    /** Whether libprojntk (and with it projntk_thin_gemm) loads; where it does not, OpenBLAS does the thin products. */
    private static boolean thinKernel() {
        Boolean t = thinKernel;
        if (t == null) {
            try {
                Native.ensureLoaded();
                t = true;
            } catch (RuntimeException | LinkageError e) {
                t = false;
            }
            thinKernel = t;
        }
        return t;
    }

    /** Tests set this to run the Java loops even where OpenBLAS is loaded. */
    static volatile boolean javaLoops = false;

    /** C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major; op(X) = X or Xᵀ. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             MemorySegment a, int lda, MemorySegment b, int ldb,
                             float beta, MemorySegment c, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("negative sgemm dimension " + m + "x" + n + "x" + k);
        checkExtent(a, transA ? k : m, transA ? m : k, lda, "A");
        checkExtent(b, transB ? n : k, transB ? k : n, ldb, "B");
        checkExtent(c, m, n, ldc, "C");
        if (m == 0 || n == 0) return;
        if (!transB && alpha == 1f && n <= THIN_COLUMNS && !javaLoops && thinKernel()) {
            // C = A·B (A [m x k]) or C = Aᵀ·B (A [k x m]), B thin
            Native.check(projntk_h.projntk_thin_gemm(transA ? 1 : 0, transA ? k : m, transA ? m : k, n, a, lda, b, ldb, beta, c, ldc),
                    "thin product " + (transA ? "Aᵀ·B" : "A·B") + " of " + m + " x " + k + " by " + n);
            return;
        }
        if (OPENBLAS && !javaLoops) {
            cblas_h.cblas_sgemm(cblas_h.CblasRowMajor(), transA ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(),
                    transB ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        javaGemm(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
        if (OPENBLAS && !javaLoops) {
            serialDgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        javaGemm(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /**
     * dgemm as a fixed grid of single-threaded OpenBLAS calls (see the class comment): block (i, j) of C gets its k
     * blocks in ascending order, the first with the caller's beta, the others added (beta 1).
     */
    private static void serialDgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                                    MemorySegment a, int lda, MemorySegment b, int ldb, double beta, MemorySegment c, int ldc) {
        int ta = transA ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(), tb = transB ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans();
        for (int i = 0; i < m; i += SERIAL_BLOCK) {
            int mb = Math.min(SERIAL_BLOCK, m - i);
            for (int j = 0; j < n; j += SERIAL_BLOCK) {
                int nb = Math.min(SERIAL_BLOCK, n - j);
                MemorySegment cij = c.asSlice(((long) i * ldc + j) * Double.BYTES);
                if (k == 0) {
                    cblas_h.cblas_dgemm(cblas_h.CblasRowMajor(), ta, tb, mb, nb, 0, alpha, a, lda, b, ldb, beta, cij, ldc);
                    continue;
                }
                for (int p = 0; p < k; p += SERIAL_BLOCK) {
                    int kb = Math.min(SERIAL_BLOCK, k - p);
                    MemorySegment aip = a.asSlice((transA ? (long) p * lda + i : (long) i * lda + p) * Double.BYTES);
                    MemorySegment bpj = b.asSlice((transB ? (long) j * ldb + p : (long) p * ldb + j) * Double.BYTES);
                    cblas_h.cblas_dgemm(cblas_h.CblasRowMajor(), ta, tb, mb, nb, kb, alpha, aip, lda, bpj, ldb, p == 0 ? beta : 1.0, cij, ldc);
                }
            }
        }
    }

    /**
     * The gemm fallback for both precisions. In float32 every product, scaling and sum is rounded to float as float
     * arithmetic would (a float32 +, - or x done in float64 and rounded once is correctly rounded); the dot products
     * accumulate in float64 either way.
     */
    private static void javaGemm(boolean f32, boolean transA, boolean transB, int m, int n, int k, double alpha,
                                 MemorySegment a, int lda, MemorySegment b, int ldb, double beta, MemorySegment c, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    long ai = transA ? (long) p * lda + i : (long) i * lda + p;
                    long bi = transB ? (long) j * ldb + p : (long) p * ldb + j;
                    double product = element(a, ai, f32) * element(b, bi, f32);
                    sum += f32 ? (float) product : product;
                }
                long ci = (long) i * ldc + j;
                double old = beta == 0 ? 0 : beta * element(c, ci, f32);
                if (f32) {
                    c.setAtIndex(ValueLayout.JAVA_FLOAT, ci, (float) ((float) (alpha * sum) + (double) (float) old));
                } else {
                    c.setAtIndex(ValueLayout.JAVA_DOUBLE, ci, alpha * sum + old);
                }
            }
        }
    }

    private static double element(MemorySegment s, long i, boolean f32) {
        return f32 ? s.getAtIndex(ValueLayout.JAVA_FLOAT, i) : s.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
    }

    /** float64 lower triangle of C[n x n] = alpha·A·Aᵀ + beta·C, A [n x k], row-major; the upper triangle is untouched. */
    public static void dsyrkLower(int n, int k, double alpha, MemorySegment a, int lda, double beta, MemorySegment c, int ldc) {
        if (n < 0 || k < 0) throw new IllegalArgumentException("negative dsyrk dimension " + n + "x" + k);
        checkExtent(a, n, k, lda, "A", Double.BYTES);
        checkExtent(c, n, n, ldc, "C", Double.BYTES);
        if (n == 0) return;
        if (OPENBLAS && !javaLoops) {
            // dgemm blocks of the lower block triangle (OpenBLAS's dsyrk always threads); the diagonal blocks go through
            // a scratch block so that the upper triangle stays untouched
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                MemorySegment scratch = arena.allocate((long) SERIAL_BLOCK * SERIAL_BLOCK * Double.BYTES, 64);
                for (int i = 0; i < n; i += SERIAL_BLOCK) {
                    int ib = Math.min(SERIAL_BLOCK, n - i);
                    MemorySegment ai = a.asSlice((long) i * lda * Double.BYTES);
                    for (int j = 0; j < i; j += SERIAL_BLOCK) {
                        serialDgemm(false, true, ib, SERIAL_BLOCK, k, alpha, ai, lda, a.asSlice((long) j * lda * Double.BYTES), lda, beta,
                                c.asSlice(((long) i * ldc + j) * Double.BYTES), ldc);
                    }
                    for (int r = 0; r < ib; r++) {
                        MemorySegment.copy(c, ((long) (i + r) * ldc + i) * Double.BYTES, scratch, (long) r * ib * Double.BYTES, (long) (r + 1) * Double.BYTES);
                    }
                    serialDgemm(false, true, ib, ib, k, alpha, ai, lda, ai, lda, beta, scratch, ib);
                    for (int r = 0; r < ib; r++) {
                        MemorySegment.copy(scratch, (long) r * ib * Double.BYTES, c, ((long) (i + r) * ldc + i) * Double.BYTES, (long) (r + 1) * Double.BYTES);
                    }
                }
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += getD(a, (long) i * lda + p) * getD(a, (long) j * lda + p);
                long ci = (long) i * ldc + j;
                setD(c, ci, alpha * sum + (beta == 0 ? 0 : beta * getD(c, ci)));
            }
        }
    }

    /**
     * float64 triangular solve with L [lower, non-unit diagonal], row-major, in place in B [m x n]:
     * B := op(L)⁻¹·B ({@code left}, L is m x m) or B·op(L)⁻¹ (L is n x n); op(L) = Lᵀ when {@code transL}.
     */
    public static void dtrsmLower(boolean left, boolean transL, int m, int n, MemorySegment l, int ldl, MemorySegment b, int ldb) {
        if (m < 0 || n < 0) throw new IllegalArgumentException("negative dtrsm dimension " + m + "x" + n);
        int order = left ? m : n;
        checkExtent(l, order, order, ldl, "L", Double.BYTES);
        checkExtent(b, m, n, ldb, "B", Double.BYTES);
        if (m == 0 || n == 0) return;
        if (OPENBLAS && !javaLoops) {
            // independent right-hand sides (columns of B when left, rows when right) in groups OpenBLAS runs single-threaded
            int vectors = left ? n : m;
            for (int v = 0; v < vectors; v += SERIAL_VECTORS) {
                int count = Math.min(SERIAL_VECTORS, vectors - v);
                MemorySegment bv = b.asSlice((left ? v : (long) v * ldb) * Double.BYTES);
                cblas_h.cblas_dtrsm(cblas_h.CblasRowMajor(), left ? cblas_h.CblasLeft() : cblas_h.CblasRight(), cblas_h.CblasLower(),
                        transL ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(), cblas_h.CblasNonUnit(), left ? m : count, left ? count : n,
                        1.0, l, ldl, bv, ldb);
            }
            return;
        }
        // Every case is a substitution along a vector v (a column of B when left, a row when right) with T = L or Lᵀ:
        // left: T v = b; right: v T = b, i.e. Tᵀ vᵀ = bᵀ. Forward substitution when the effective matrix is lower.
        int vectors = left ? n : m;
        boolean lower = left != transL;
        for (int v = 0; v < vectors; v++) {
            for (int step = 0; step < order; step++) {
                int i = lower ? step : order - 1 - step;
                double s = getD(b, index(left, v, i, ldb));
                for (int k = lower ? 0 : i + 1; lower ? k < i : k < order; k++) {
                    double t = lower ? getD(l, (long) i * ldl + k) : getD(l, (long) k * ldl + i);
                    s -= t * getD(b, index(left, v, k, ldb));
                }
                setD(b, index(left, v, i, ldb), s / getD(l, (long) i * ldl + i));
            }
        }
    }

    /** float64 B [m x n] := op(L)·B in place, L [m x m] lower triangular (non-unit), row-major; op(L) = Lᵀ when transL. */
    public static void dtrmmLowerLeft(boolean transL, int m, int n, MemorySegment l, int ldl, MemorySegment b, int ldb) {
        if (m < 0 || n < 0) throw new IllegalArgumentException("negative dtrmm dimension " + m + "x" + n);
        checkExtent(l, m, m, ldl, "L", Double.BYTES);
        checkExtent(b, m, n, ldb, "B", Double.BYTES);
        if (m == 0 || n == 0) return;
        if (OPENBLAS && !javaLoops) {
            for (int v = 0; v < n; v += SERIAL_VECTORS) {   // columns of B, in groups OpenBLAS runs single-threaded
                int count = Math.min(SERIAL_VECTORS, n - v);
                cblas_h.cblas_dtrmm(cblas_h.CblasRowMajor(), cblas_h.CblasLeft(), cblas_h.CblasLower(),
                        transL ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(), cblas_h.CblasNonUnit(), m, count, 1.0, l, ldl,
                        b.asSlice((long) v * Double.BYTES), ldb);
            }
            return;
        }
        // L·B: row i needs rows k <= i, so go bottom-up; Lᵀ·B: row i needs rows k >= i, so go top-down.
        for (int step = 0; step < m; step++) {
            int i = transL ? step : m - 1 - step;
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = transL ? i : 0; transL ? k < m : k <= i; k++) {
                    double t = transL ? getD(l, (long) k * ldl + i) : getD(l, (long) i * ldl + k);
                    s += t * getD(b, (long) k * ldb + j);
                }
                setD(b, (long) i * ldb + j, s);
            }
        }
    }

    private static long index(boolean column, int vector, int element, int ld) {
        return column ? (long) element * ld + vector : (long) vector * ld + element;
    }

    private static double getD(MemorySegment s, long i) {
        return s.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
    }

    private static void setD(MemorySegment s, long i, double v) {
        s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
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
