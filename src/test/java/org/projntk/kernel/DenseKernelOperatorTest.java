package org.projntk.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dense operator's K·X and Kᵀ·G, on both product paths, against fp64 loops. */
class DenseKernelOperatorTest {
    @AfterEach
    void reset() {
        KernelProducts.forceBlas = null;
    }

    static double[] naive(double[][] k, float[] x, int q, boolean transpose) {
        int outer = transpose ? k[0].length : k.length;
        int inner = transpose ? k.length : k[0].length;
        double[] z = new double[outer * q];
        for (int i = 0; i < outer; i++) {
            for (int j = 0; j < inner; j++) {
                double kij = transpose ? k[j][i] : k[i][j];
                for (int t = 0; t < q; t++) z[i * q + t] += kij * x[j * q + t];
            }
        }
        return z;
    }

    static void check(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), what + " entry " + i);
    }

    @Test
    void productsMatchALoopOnBothPaths() {
        Random r = new Random(5);
        int q = 3;
        for (int[] shape : new int[][] {{9, 9}, {7, 12}}) {
            double[][] values = new double[shape[0]][shape[1]];
            for (int i = 0; i < shape[0]; i++) for (int j = 0; j < shape[1]; j++) values[i][j] = r.nextGaussian();
            if (shape[0] == shape[1]) { // symmetric: Kᵀ·G may go through K·G
                for (int i = 0; i < shape[0]; i++) for (int j = 0; j < i; j++) values[i][j] = values[j][i];
            }
            KernelMatrix k = KernelMatrix.of(values);
            float[] x = new float[shape[1] * q];
            float[] g = new float[shape[0] * q];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();
            for (Boolean blas : new Boolean[] {false, true}) {
                KernelProducts.forceBlas = blas;
                KernelOperator op = KernelOperator.dense(k);
                assertEquals(shape[0] == shape[1], op.symmetric());
                String what = shape[0] + " x " + shape[1] + (blas ? " sgemm" : " java");
                check(naive(values, x, q, false), op.times(x, q), what + " K·X");
                check(naive(values, g, q, true), op.transposeTimes(g, q), what + " Kᵀ·G");
                assertThrows(IllegalArgumentException.class, () -> op.times(new float[x.length - 1], q));
                assertThrows(IllegalArgumentException.class, () -> op.transposeTimes(g, 0));
            }
        }
        assertTrue(KernelOperator.dense(KernelMatrix.of(new double[][] {{1, 2}, {2, 1}})).symmetric());
        assertFalse(KernelOperator.dense(KernelMatrix.of(new double[][] {{1, 2}, {3, 1}})).symmetric());
    }
}
