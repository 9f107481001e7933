package org.projntk.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The matrix-free products against an fp64 kernel built with naive loops, for every kind and normalisation. */
class FeatureKernelOperatorTest {

    static List<FeatureMatrix> features(Random r, int classes, int rows, int dim) {
        List<FeatureMatrix> out = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            float[][] x = new float[rows][dim];
            for (int i = 0; i < rows; i++) for (int k = 0; k < dim; k++) x[i][k] = (float) r.nextGaussian();
            out.add(ArrayFeatureMatrix.of(x));
        }
        return out;
    }

    static double dot(FeatureMatrix a, long i, FeatureMatrix b, long j) {
        ArrayFeatureMatrix x = (ArrayFeatureMatrix) a;
        ArrayFeatureMatrix y = (ArrayFeatureMatrix) b;
        double s = 0;
        for (int k = 0; k < x.dim(); k++) s += (double) x.get(i, k) * y.get(j, k);
        return s;
    }

    /** The raw kernel in fp64, in output coordinates. */
    static double[][] rawKernel(List<FeatureMatrix> a, List<FeatureMatrix> b, KernelKind kind) {
        int classes = a.size();
        int n = (int) a.get(0).rows();
        int m = (int) b.get(0).rows();
        if (kind == KernelKind.ENTK) {
            double[][] k = new double[n * classes][m * classes];
            for (int i = 0; i < n; i++) for (int c = 0; c < classes; c++)
                for (int j = 0; j < m; j++) for (int c2 = 0; c2 < classes; c2++)
                    k[i * classes + c][j * classes + c2] = dot(a.get(c), i, b.get(c2), j);
            return k;
        }
        double[][] k = new double[n][m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) for (int c = 0; c < classes; c++) k[i][j] += dot(a.get(c), i, b.get(c), j);
        return k;
    }

    static double[] diag(List<FeatureMatrix> a, KernelKind kind) {
        double[][] k = rawKernel(a, a, kind);
        double[] d = new double[k.length];
        for (int i = 0; i < d.length; i++) d[i] = k[i][i];
        return d;
    }

    static double[][] reference(List<FeatureMatrix> a, List<FeatureMatrix> b, KernelKind kind, KernelNormalization norm, double std) {
        double[][] k = rawKernel(a, b, kind);
        if (norm == KernelNormalization.COSINE) {
            double[] da = diag(a, kind);
            double[] db = diag(b, kind);
            for (int i = 0; i < k.length; i++) for (int j = 0; j < k[i].length; j++) k[i][j] /= Math.sqrt(da[i] * db[j]);
        } else if (norm == KernelNormalization.STD) {
            for (double[] row : k) for (int j = 0; j < row.length; j++) row[j] /= std;
        }
        return k;
    }

    static double populationStd(double[][] k) {
        double s = 0, ss = 0;
        long n = 0;
        for (double[] row : k) for (double v : row) { s += v; ss += v * v; n++; }
        double mean = s / n;
        return Math.sqrt(ss / n - mean * mean);
    }

    static void assertClose(double[] expected, float[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (double e : expected) scale = Math.max(scale, Math.abs(e));
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], rel * scale, what + " entry " + i);
        }
    }

    static double[] multiply(double[][] k, float[] x, int q, boolean transpose) {
        int rows = transpose ? k[0].length : k.length;
        int inner = transpose ? k.length : k[0].length;
        double[] z = new double[rows * q];
        for (int i = 0; i < rows; i++) for (int j = 0; j < inner; j++) {
            double kij = transpose ? k[j][i] : k[i][j];
            for (int t = 0; t < q; t++) z[i * q + t] += kij * x[j * q + t];
        }
        return z;
    }

    @Test
    void productsMatchTheFp64KernelForEveryKindAndNormalisation() {
        Random r = new Random(5);
        int classes = 3, n = 37, m = 23, dim = 11, q = 4;
        for (KernelKind kind : KernelKind.values()) {
            int c = kind == KernelKind.PNTK ? 1 : classes;
            List<FeatureMatrix> a = features(r, c, n, dim);
            List<FeatureMatrix> b = features(r, c, m, dim);
            for (KernelNormalization norm : KernelNormalization.values()) {
                String what = kind + "/" + norm;
                double std = populationStd(rawKernel(a, a, kind));
                // the train (square) operator: computes its own std
                FeatureKernelOperator train = KernelOperator.features(a, a, kind, norm, null);
                double[][] kaa = reference(a, a, kind, norm, std);
                assertTrue(train.symmetric(), what);
                if (norm == KernelNormalization.STD) assertEquals(std, train.stdScale(), 1e-5 * std, what);
                int rows = kaa.length;
                float[] x = new float[rows * q];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                assertClose(multiply(kaa, x, q, false), train.times(x, q), 2e-5, what + " K·X");
                double[] d = train.diagonal();
                for (int i = 0; i < rows; i++) assertEquals(kaa[i][i], d[i], 1e-5 * Math.abs(kaa[i][i]) + 1e-9, what + " diagonal");
                // the test (rectangular) operator with the train std
                FeatureKernelOperator test = KernelOperator.features(b, a, kind, norm, train.stdScale());
                double[][] kba = reference(b, a, kind, norm, std);
                assertFalse(test.symmetric(), what);
                assertEquals(kba.length, test.rows(), what);
                assertEquals(kba[0].length, test.cols(), what);
                float[] xa = new float[kba[0].length * q];
                for (int i = 0; i < xa.length; i++) xa[i] = (float) r.nextGaussian();
                assertClose(multiply(kba, xa, q, false), test.times(xa, q), 2e-5, what + " test K·X");
                float[] g = new float[kba.length * q];
                for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();
                assertClose(multiply(kba, g, q, true), test.transposeTimes(g, q), 2e-5, what + " test Kᵀ·G");
                float[] row = test.row(5);
                double[] expectedRow = kba[5];
                assertClose(expectedRow, row, 2e-5, what + " row 5");
            }
        }
    }

    @Test
    void theFactorReproducesTheFp64KernelForEveryKindAndNormalisation() {
        Random r = new Random(6);
        int classes = 3, n = 29, dim = 7, q = 2;
        for (KernelKind kind : KernelKind.values()) {
            int c = kind == KernelKind.PNTK ? 1 : classes;
            List<FeatureMatrix> a = features(r, c, n, dim);
            for (KernelNormalization norm : KernelNormalization.values()) {
                String what = kind + "/" + norm;
                FeatureKernelOperator op = KernelOperator.features(a, a, kind, norm, null);
                double[][] k = reference(a, a, kind, norm, populationStd(rawKernel(a, a, kind)));
                int d = op.factorColumns();
                assertEquals(kind == KernelKind.TRNTK ? dim * classes : dim, d, what);
                float[] identity = new float[d * d];
                for (int j = 0; j < d; j++) identity[j * d + j] = 1f;
                float[] f = op.factorTimes(identity, d); // F [rows x d]
                int rows = k.length;
                assertEquals(rows * d, f.length, what);
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < rows; j++) {
                        double ffT = 0;
                        for (int t = 0; t < d; t++) ffT += (double) f[i * d + t] * f[j * d + t];
                        assertEquals(k[i][j], ffT, 1e-5 * (Math.abs(k[i][i]) + Math.abs(k[j][j])) + 1e-9, what + " (F Fᵀ)[" + i + "," + j + "]");
                    }
                }
                double[] gram = op.factorGram();
                double[] fTf = new double[d * d];
                for (int s = 0; s < d; s++) {
                    for (int t = 0; t < d; t++) {
                        for (int i = 0; i < rows; i++) fTf[s * d + t] += (double) f[i * d + s] * f[i * d + t];
                    }
                }
                assertClose(fTf, toFloat(gram), 1e-5, what + " FᵀF");
                float[] g = new float[rows * q];
                for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();
                double[] fTg = new double[d * q];
                for (int t = 0; t < d; t++) for (int i = 0; i < rows; i++) for (int p = 0; p < q; p++) fTg[t * q + p] += (double) f[i * d + t] * g[i * q + p];
                assertClose(fTg, op.factorTransposeTimes(g, q), 1e-5, what + " Fᵀ·G");
            }
            FeatureKernelOperator rectangular = KernelOperator.features(a, features(r, c, 5, dim), kind, KernelNormalization.NONE, null);
            assertThrows(IllegalStateException.class, rectangular::factorColumns, kind + ": a test-by-train kernel has no factor");
        }
    }

    private static float[] toFloat(double[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) x[i];
        return out;
    }

    @Test
    void matchesTheDenseOperatorOverGramTiles() {
        Random r = new Random(6);
        List<FeatureMatrix> a = features(r, 4, 300, 16);
        Gram.Options opt = Gram.Options.builder().kernel(KernelKind.TRNTK).normalization(KernelNormalization.COSINE).tiles(64, 48).build();
        KernelOperator dense = KernelOperator.dense(Gram.computeMatrix(a, a, opt));
        KernelOperator free = KernelOperator.features(a, a, KernelKind.TRNTK, KernelNormalization.COSINE, null);
        float[] x = new float[300 * 10];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] zd = dense.times(x, 10);
        float[] zf = free.times(x, 10);
        double[] zdd = new double[zd.length];
        for (int i = 0; i < zd.length; i++) zdd[i] = zd[i];
        assertClose(zdd, zf, 1e-5, "trNTK cosine");
        assertTrue(dense.symmetric());
    }

    @Test
    void rejectsBadOperands() {
        Random r = new Random(7);
        List<FeatureMatrix> a = features(r, 2, 10, 4);
        FeatureKernelOperator op = KernelOperator.features(a, a, KernelKind.TRNTK, KernelNormalization.NONE, null);
        var e = assertThrows(IllegalArgumentException.class, () -> op.times(new float[7], 1));
        assertTrue(e.getMessage().contains("expected 10 x 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelOperator.features(a, a, KernelKind.PNTK, KernelNormalization.NONE, null));
        List<FeatureMatrix> zeros = List.of(ArrayFeatureMatrix.of(new float[5][3]));
        assertThrows(IllegalArgumentException.class, () -> KernelOperator.features(zeros, zeros, KernelKind.PNTK, KernelNormalization.STD, null));
        float[] nan = new float[10];
        nan[3] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> op.times(nan, 1));
    }
}
