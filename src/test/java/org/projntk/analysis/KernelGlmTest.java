package org.projntk.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.projntk.kernel.ArrayFeatureMatrix;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.Normalization;

class KernelGlmTest {
    @AfterEach
    void reset() {
        KernelProducts.forceBlas = null;
    }

    static KernelMatrix randomPsd(Random r, int n, int d) {
        float[][] x = new float[n][d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                row[j] = (float) r.nextGaussian();
            }
        }
        List<FeatureMatrix> op = List.of(ArrayFeatureMatrix.of(x));
        return Gram.computeMatrix(op, op, Gram.Options.of(KernelKind.PNTK, Normalization.NONE));
    }

    /** Loss from the definition, in double, independent of the implementation's products. */
    static double referenceLoss(KernelMatrix k, int[] y, int c, double lambda, double[] theta) {
        int n = k.rows();
        double loss = 0;
        for (int i = 0; i < n; i++) {
            double[] z = new double[c];
            for (int q = 0; q < c; q++) {
                z[q] = theta[n * c + q];
                for (int j = 0; j < n; j++) {
                    z[q] += k.get(i, j) * theta[j * c + q];
                }
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double v : z) {
                max = Math.max(max, v);
            }
            double s = 0;
            for (double v : z) {
                s += Math.exp(v - max);
            }
            loss += max + Math.log(s) - z[y[i]];
        }
        double reg = 0;
        for (int i = 0; i < n * c; i++) {
            reg += theta[i] * theta[i];
        }
        return loss / n + 0.5 * lambda * reg;
    }

    @Test
    void gradientMatchesFiniteDifferencesOfTheReferenceLoss() {
        Random r = new Random(21);
        int n = 12;
        int c = 3;
        KernelMatrix k = randomPsd(r, n, 5);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(c);
        }
        double lambda = 0.3;
        double[] theta = new double[n * c + c];
        for (int i = 0; i < theta.length; i++) {
            theta[i] = 0.2 * r.nextGaussian();
        }
        for (Boolean blas : new Boolean[] {false, true}) {
            KernelProducts.forceBlas = blas;
            KernelGlm.Objective obj = new KernelGlm.Objective(k, y, c, lambda, false);
            double[] grad = new double[theta.length];
            double f = obj.value(theta, grad);
            assertEquals(referenceLoss(k, y, c, lambda, theta), f, 1e-5 * Math.abs(f));
            double h = 1e-4;
            for (int p = 0; p < theta.length; p++) {
                double[] tp = theta.clone();
                double[] tm = theta.clone();
                tp[p] += h;
                tm[p] -= h;
                double fd = (referenceLoss(k, y, c, lambda, tp) - referenceLoss(k, y, c, lambda, tm)) / (2 * h);
                assertEquals(fd, grad[p], 1e-4 * Math.max(1, Math.abs(fd)), "parameter " + p + " blas=" + blas);
            }
        }
    }

    static float[][] blobs(Random r, int n, int[] labels) {
        float[][] x = new float[n][2];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 2;
            double cx = labels[i] == 0 ? -2.5 : 2.5;
            x[i][0] = (float) (cx + r.nextGaussian());
            x[i][1] = (float) (1.0 + r.nextGaussian());
        }
        return x;
    }

    @Test
    void separableBlobsWithLinearKernel() {
        Random r = new Random(22);
        int[] ytr = new int[200];
        int[] yte = new int[200];
        float[][] xtr = blobs(r, 200, ytr);
        float[][] xte = blobs(r, 200, yte);
        // make the train set exactly separable by dropping the few points on the wrong side of x0 = 0
        for (int i = 0; i < 200; i++) {
            if ((xtr[i][0] > 0) != (ytr[i] == 1)) {
                xtr[i][0] = -xtr[i][0];
            }
        }
        List<FeatureMatrix> tr = List.of(ArrayFeatureMatrix.of(xtr));
        List<FeatureMatrix> te = List.of(ArrayFeatureMatrix.of(xte));
        Gram.Options opt = Gram.Options.of(KernelKind.PNTK, Normalization.NONE);
        KernelMatrix ktr = Gram.computeMatrix(tr, tr, opt);
        KernelMatrix kte = Gram.computeMatrix(te, tr, opt);
        KernelGlm glm = KernelGlm.fit(ktr, ytr, 2, KernelGlm.Options.defaults().withLambda(1e-6));
        assertEquals(1.0, glm.fitInfo().trainAccuracy());
        int[] pred = glm.predict(kte);
        double acc = ClassMetrics.accuracy(pred, yte);
        assertTrue(acc >= 0.97, "test accuracy " + acc);
        // deterministic: refitting gives identical weights
        KernelGlm again = KernelGlm.fit(ktr, ytr, 2, KernelGlm.Options.defaults().withLambda(1e-6));
        assertArrayEquals(glm.weights(), again.weights());
    }

    @Test
    void fitsTenClassesAndBlasPathAgrees() {
        Random r = new Random(23);
        int n = 300;
        int c = 10;
        float[][] x = new float[n][16];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % c;
            for (int j = 0; j < 16; j++) {
                x[i][j] = (float) ((j == y[i] ? 3 : 0) + r.nextGaussian());
            }
        }
        List<FeatureMatrix> op = List.of(ArrayFeatureMatrix.of(x));
        KernelMatrix k = Gram.computeMatrix(op, op, Gram.Options.of(KernelKind.PNTK, Normalization.COSINE));
        KernelGlm.Options o = KernelGlm.Options.defaults().withMaxIterations(40);
        KernelGlm a = KernelGlm.fit(k, y, c, o);
        assertTrue(a.fitInfo().trainAccuracy() > 0.9, "train accuracy " + a.fitInfo().trainAccuracy());
        KernelProducts.forceBlas = true;
        KernelGlm b = KernelGlm.fit(k, y, c, o);
        assertEquals(a.fitInfo().objective(), b.fitInfo().objective(), 1e-4 * Math.abs(a.fitInfo().objective()));
    }

    @Test
    void rejectsBadInput() {
        KernelMatrix k = randomPsd(new Random(24), 4, 3);
        assertThrows(IllegalArgumentException.class, () -> KernelGlm.fit(k, new int[] {0, 1, 0}, 2, KernelGlm.Options.defaults()));
        var e = assertThrows(IllegalArgumentException.class,
                () -> KernelGlm.fit(k, new int[] {0, 1, 5, 0}, 2, KernelGlm.Options.defaults()));
        assertTrue(e.getMessage().contains("index 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelGlm.fit(KernelMatrix.allocate(3, 4), new int[3], 2,
                KernelGlm.Options.defaults()));
        assertThrows(IllegalArgumentException.class, () -> KernelGlm.Options.defaults().withLambda(-1));
    }

    /** A symmetric n x n matrix Q diag(eigen) Qᵀ, seen as a search space without centring, that counts its products. */
    private static final class SpectrumSpace extends KernelGlm.Space {
        final double[][] k;
        int products;

        SpectrumSpace(double[] eigen, long seed) {
            int n = eigen.length;
            double[][] q = new double[n][n]; // columns: Gram-Schmidt of random vectors
            Random r = new Random(seed);
            for (int j = 0; j < n; j++) {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) v[i] = r.nextGaussian();
                for (int p = 0; p < j; p++) {
                    double d = 0;
                    for (int i = 0; i < n; i++) d += v[i] * q[i][p];
                    for (int i = 0; i < n; i++) v[i] -= d * q[i][p];
                }
                double norm = 0;
                for (double x : v) norm += x * x;
                for (int i = 0; i < n; i++) q[i][j] = v[i] / Math.sqrt(norm);
            }
            k = new double[n][n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    for (int p = 0; p < n; p++) k[i][j] += q[i][p] * eigen[p] * q[j][p];
                }
            }
        }

        @Override int size() { return k.length; }

        @Override
        float[] times(float[] x, int c) {
            products++;
            float[] out = new float[x.length];
            for (int i = 0; i < k.length; i++) {
                double s = 0;
                for (int j = 0; j < k.length; j++) s += k[i][j] * x[j];
                out[i] = (float) s;
            }
            return out;
        }

        @Override float[] transposeTimes(float[] g, int c) { return times(g, c); }
        @Override float[] weights(float[] p, int c) { return p; }
        @Override double[] meanLogits(float[] p, int c) { return new double[c]; }
        @Override String describe() { return "spectrum"; }
    }

    @Test
    void largestSingularValueStopsOnceTheEstimateSettles() {
        int n = 60;
        double[] separated = new double[n];
        double[] close = new double[n];
        for (int i = 0; i < n; i++) {
            separated[i] = i == 0 ? 10 : 2.0 / (i + 1);
            close[i] = i == 0 ? 10 : i == 1 ? -8.5 : 1.0 / (i + 1);
        }
        SpectrumSpace fast = new SpectrumSpace(separated, 3);
        assertEquals(10, KernelGlm.largestSingularValue(fast), 0.1);
        assertTrue(fast.products < 2 * 12, "a separated spectrum should stop early, took " + fast.products / 2 + " iterations");
        // |λ2| = 0.85 λ1: the estimate keeps moving for longer, and still lands within 1%
        SpectrumSpace slow = new SpectrumSpace(close, 4);
        assertEquals(10, KernelGlm.largestSingularValue(slow), 0.1);
        assertTrue(slow.products > fast.products, "a close spectrum needs more iterations than a separated one: "
                + slow.products / 2 + " against " + fast.products / 2);
    }
}
