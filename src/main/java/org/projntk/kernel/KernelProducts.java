package org.projntk.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.IntStream;
import org.projntk.internal.Blas;

/**
 * The dense kernel's products K·X and Kᵀ·G with X, G thin ([* x q]), for {@link DenseKernelOperator}. They go through
 * {@link Blas#sgemm} when a native BLAS backs it; the Java fallback of Blas is a naive triple loop, so here a
 * cache-friendly parallel Java version is used instead.
 */
final class KernelProducts {
    private KernelProducts() {}

    /** Forced on in tests to exercise the sgemm path with the Java Blas. */
    static volatile Boolean forceBlas = null;

    static boolean useBlas() {
        Boolean f = forceBlas;
        return f != null ? f : Blas.isOpenBlas();
    }

    /** Z[rows x c] = K X, X [cols x c] row-major. */
    static float[] times(KernelMatrix k, float[] x, int c) {
        int n = k.rows();
        int m = k.cols();
        checkOperand(x, m, c);
        if (useBlas()) return blas(k, false, x, c);
        float[] z = new float[n * c];
        float[][] xt = new float[c][m];
        for (int j = 0; j < m; j++) {
            for (int q = 0; q < c; q++) {
                xt[q][j] = x[j * c + q];
            }
        }
        int threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), n));
        IntStream.range(0, threads).parallel().forEach(t -> {
            float[] row = new float[m];
            for (int i = t; i < n; i += threads) {
                MemorySegment.copy(k.data(), ValueLayout.JAVA_FLOAT, (long) i * m * Float.BYTES, row, 0, m);
                for (int q = 0; q < c; q++) {
                    z[i * c + q] = dot(row, xt[q], m);
                }
            }
        });
        return z;
    }

    /** Kᵀ G [cols x c], G [rows x c] row-major. */
    static float[] transposeTimes(KernelMatrix k, float[] g, int c) {
        int n = k.rows();
        int m = k.cols();
        checkOperand(g, n, c);
        if (useBlas()) return blas(k, true, g, c);
        float[] out = new float[m * c];
        // each thread owns a column range of K and accumulates axpy updates into it (vectorisable, no races)
        int threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), m));
        float[][] acc = new float[c][m];
        IntStream.range(0, threads).parallel().forEach(t -> {
            int j0 = (int) ((long) m * t / threads);
            int j1 = (int) ((long) m * (t + 1) / threads);
            int len = j1 - j0;
            float[] row = new float[len];
            for (int i = 0; i < n; i++) {
                MemorySegment.copy(k.data(), ValueLayout.JAVA_FLOAT, ((long) i * m + j0) * Float.BYTES, row, 0, len);
                for (int q = 0; q < c; q++) {
                    float gi = g[i * c + q];
                    if (gi == 0f) {
                        continue;
                    }
                    float[] dst = acc[q];
                    for (int j = 0; j < len; j++) {
                        dst[j0 + j] += gi * row[j];
                    }
                }
            }
        });
        for (int j = 0; j < m; j++) {
            for (int q = 0; q < c; q++) {
                out[j * c + q] = acc[q][j];
            }
        }
        return out;
    }

    /** An operand of {@code rows x c} values, c at least 1. */
    private static void checkOperand(float[] operand, int rows, int c) {
        if (c < 1 || operand.length != (long) rows * c) {
            throw new IllegalArgumentException("kernel product: operand has " + operand.length + " values, expected " + rows + " x " + c);
        }
    }

    /** op(K) · operand through sgemm, with op(K) = Kᵀ when {@code transpose}; operand and result row-major with c columns. */
    private static float[] blas(KernelMatrix k, boolean transpose, float[] operand, int c) {
        int n = k.rows();
        int m = k.cols();
        int outRows = transpose ? m : n;
        float[] out = new float[outRows * c];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment in = a.allocate((long) operand.length * Float.BYTES, 64);
            MemorySegment.copy(operand, 0, in, ValueLayout.JAVA_FLOAT, 0, operand.length);
            MemorySegment result = a.allocate((long) out.length * Float.BYTES, 64);
            Blas.sgemm(transpose, false, outRows, c, transpose ? n : m, 1f, k.data(), m, in, c, 0f, result, c);
            MemorySegment.copy(result, ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        }
        return out;
    }

    private static float dot(float[] a, float[] b, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int j = 0;
        for (; j + 3 < n; j += 4) {
            s0 += a[j] * b[j];
            s1 += a[j + 1] * b[j + 1];
            s2 += a[j + 2] * b[j + 2];
            s3 += a[j + 3] * b[j + 3];
        }
        for (; j < n; j++) {
            s0 += a[j] * b[j];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
