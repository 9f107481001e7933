package org.projntk.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

import org.projntk.ProjntkException;
import org.projntk.bindings.cublas_h;

/**
 * A cuBLAS handle with a row-major float32 GEMM on device buffers (the same argument convention as {@link Blas#sgemm}).
 * The handle uses the default (NULL) stream and host pointer mode. Methods are synchronised; close() is idempotent
 * and any use after close throws IllegalStateException.
 */
public final class Cublas implements AutoCloseable {
    /** FP32: cublasSgemm with the default math mode (no tensor-core rounding). TF32: cublasGemmEx, COMPUTE_32F_FAST_TF32. */
    public enum Precision {
        FP32, TF32;

        public static Precision parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "fp32", "float32", "f32" -> FP32;
                case "tf32" -> TF32;
                default -> throw new IllegalArgumentException("unknown GEMM precision '" + s + "' (expected fp32 or tf32)");
            };
        }

        public static Precision of(org.projntk.GemmPrecision precision) {
            return precision == org.projntk.GemmPrecision.FP32 ? FP32 : TF32;
        }
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment alphaSeg = arena.allocate(ValueLayout.JAVA_FLOAT);
    private final MemorySegment betaSeg = arena.allocate(ValueLayout.JAVA_FLOAT);
    private MemorySegment handle;

    public Cublas() {
        Cuda.require();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            check(cublas_h.cublasCreate_v2(out), "cublasCreate");
            handle = out.get(ValueLayout.ADDRESS, 0);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        try {
            // explicit, so that FP32 means FP32 even if the library's default changes
            check(cublas_h.cublasSetMathMode(handle, cublas_h.CUBLAS_DEFAULT_MATH()), "cublasSetMathMode");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * The column-major cuBLAS call that computes a row-major product. A row-major [r x c] matrix with leading
     * dimension ld has the same bytes as a column-major [c x r] matrix with leading dimension ld, i.e. its transpose.
     * So row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS's first operand is the row-major B
     * (transposed iff transB), its second is the row-major A (transposed iff transA), and m and n swap.
     * Leading dimensions stay as they are, and C keeps ldc.
     */
    record ColumnMajorGemm(int transa, int transb, int m, int n, int k, int lda, int ldb) {
        static ColumnMajorGemm forRowMajor(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb) {
            return new ColumnMajorGemm(transB ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N(),
                    transA ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N(), n, m, k, ldb, lda);
        }
    }

    /**
     * Row-major C[m x n] = alpha·op(A)·op(B) + beta·C on the device, op(X) = X or Xᵀ. Offsets and leading dimensions
     * are in floats. Asynchronous: the result is ready for any later copy from the device.
     */
    public synchronized void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  Cuda.DeviceBuffer a, long aOffset, int lda, Cuda.DeviceBuffer b, long bOffset, int ldb,
                                  float beta, Cuda.DeviceBuffer c, long cOffset, int ldc, Precision precision) {
        if (handle == null) throw new IllegalStateException("cuBLAS handle is closed");
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("negative gemm dimension " + m + "x" + n + "x" + k);
        MemorySegment pa = extent(a, aOffset, transA ? k : m, transA ? m : k, lda, "A");
        MemorySegment pb = extent(b, bOffset, transB ? n : k, transB ? k : n, ldb, "B");
        MemorySegment pc = extent(c, cOffset, m, n, ldc, "C");
        if (m == 0 || n == 0) return;
        ColumnMajorGemm g = ColumnMajorGemm.forRowMajor(transA, transB, m, n, k, lda, ldb);
        alphaSeg.set(ValueLayout.JAVA_FLOAT, 0, alpha);
        betaSeg.set(ValueLayout.JAVA_FLOAT, 0, beta);
        int status;
        if (precision == Precision.FP32) {
            status = cublas_h.cublasSgemm_v2(handle, g.transa(), g.transb(), g.m(), g.n(), g.k(),
                    alphaSeg, pb, g.lda(), pa, g.ldb(), betaSeg, pc, ldc);
        } else {
            int f32 = cublas_h.CUDA_R_32F();
            status = cublas_h.cublasGemmEx(handle, g.transa(), g.transb(), g.m(), g.n(), g.k(),
                    alphaSeg, pb, f32, g.lda(), pa, f32, g.ldb(), betaSeg, pc, f32, ldc,
                    cublas_h.CUBLAS_COMPUTE_32F_FAST_TF32(), cublas_h.CUBLAS_GEMM_DEFAULT());
        }
        check(status, "cuBLAS " + precision + " gemm " + m + "x" + n + "x" + k);
    }

    /** The device address of a row-major [rows x cols] matrix with leading dimension ld at float offset off. */
    private static MemorySegment extent(Cuda.DeviceBuffer buf, long off, int rows, int cols, int ld, String name) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("leading dimension of " + name + " (" + ld + ") < max(1, its columns (" + cols + "))");
        }
        if (off < 0) throw new IllegalArgumentException("negative offset of " + name);
        long floats = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
        if (off + floats > buf.floats()) {
            throw new IllegalArgumentException(name + ": a " + rows + "x" + cols + " matrix with ld " + ld + " at offset "
                    + off + " needs " + (off + floats) + " floats, the device buffer holds " + buf.floats());
        }
        return buf.address(off * Float.BYTES, floats * Float.BYTES);
    }

    static void check(int status, String what) {
        if (status == cublas_h.CUBLAS_STATUS_SUCCESS()) return;
        throw new ProjntkException(ProjntkException.Status.CUDA, what + " failed: " + statusName(status));
    }

    /** The cublasStatus_t enumerator's name, e.g. CUBLAS_STATUS_INVALID_VALUE. */
    static String statusName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cublasStatus " + status + " (unknown)";
        };
    }

    public synchronized boolean isClosed() {
        return handle == null;
    }

    @Override
    public synchronized void close() {
        if (handle == null) {
            if (arena.scope().isAlive()) arena.close();
            return;
        }
        MemorySegment h = handle;
        handle = null;
        arena.close();
        check(cublas_h.cublasDestroy_v2(h), "cublasDestroy");
    }
}
