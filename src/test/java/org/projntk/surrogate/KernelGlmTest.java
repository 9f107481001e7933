package org.projntk.surrogate;

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
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.KernelProductsPath;

class KernelGlmTest {
    @AfterEach
    void reset() {
        KernelProductsPath.force(null);
    }

    static KernelMatrix randomPsd(Random r, int n, int d) {
        float[][] x = new float[n][d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                row[j] = (float) r.nextGaussian();
            }
        }
        List<FeatureMatrix> op = List.of(ArrayFeatureMatrix.of(x));
        return Gram.computeMatrix(op, op, Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE));
    }

    static int[] randomLabels(Random r, int n, int c) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = r.nextInt(c);
        return y;
    }

    /** Loss from the definition, in double, independent of the implementation's products. */
    static double referenceLoss(KernelMatrix k, int[] y, int c, double lambda, double[] theta) {
        return referenceLoss(k, y, null, c, lambda, theta);
    }

    /** The weighted mean of the examples' softmax losses (weights null: 1) plus λ/2 ||W||², in float64 loops. */
    static double referenceLoss(KernelMatrix k, int[] y, double[] weights, int c, double lambda, double[] theta) {
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
            loss += (weights == null ? 1 : weights[i]) * (max + Math.log(s) - z[y[i]]);
        }
        double reg = 0;
        for (int i = 0; i < n * c; i++) {
            reg += theta[i] * theta[i];
        }
        return loss / n + 0.5 * lambda * reg;
    }

    /** The reference loss at θ - h·d, θ and θ + h·d, for finite differences along d. */
    private static double[] referenceLossAlong(KernelMatrix k, int[] y, double[] weights, int c, double lambda, double[] theta,
                                               double[] d, double h) {
        double[] f = new double[3];
        for (int s = -1; s <= 1; s++) {
            double[] at = theta.clone();
            for (int i = 0; i < at.length; i++) at[i] += s * h * d[i];
            f[s + 1] = referenceLoss(k, y, weights, c, lambda, at);
        }
        return f;
    }

    @Test
    void gradientMatchesFiniteDifferencesOfTheReferenceLoss() {
        Random r = new Random(21);
        int n = 12;
        int c = 3;
        KernelMatrix k = randomPsd(r, n, 5);
        int[] y = randomLabels(r, n, c);
        double lambda = 0.3;
        double[] theta = new double[n * c + c];
        for (int i = 0; i < theta.length; i++) {
            theta[i] = 0.2 * r.nextGaussian();
        }
        double[] weights = KernelGlm.balancedWeights(y, c);
        for (Boolean blas : new Boolean[] {false, true}) {
            for (double[] w : new double[][] {null, weights}) {
                KernelProductsPath.force(blas);
                KernelGlm.Objective obj = new KernelGlm.Objective(k, y, w, c, lambda);
                double[] grad = new double[theta.length];
                double f = obj.value(theta, grad);
                assertEquals(referenceLoss(k, y, w, c, lambda, theta), f, 1e-5 * Math.abs(f));
                double h = 1e-4;
                for (int p = 0; p < theta.length; p++) {
                    double[] tp = theta.clone();
                    double[] tm = theta.clone();
                    tp[p] += h;
                    tm[p] -= h;
                    double fd = (referenceLoss(k, y, w, c, lambda, tp) - referenceLoss(k, y, w, c, lambda, tm)) / (2 * h);
                    assertEquals(fd, grad[p], 1e-4 * Math.max(1, Math.abs(fd)), "parameter " + p + " blas=" + blas + " weighted=" + (w != null));
                }
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
        Gram.Options opt = Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE);
        KernelMatrix ktr = Gram.computeMatrix(tr, tr, opt);
        KernelMatrix kte = Gram.computeMatrix(te, tr, opt);
        KernelGlm glm = KernelGlm.fit(ktr, ytr, 2, KernelGlm.Options.builder().lambda(1e-6).build());
        assertEquals(1.0, glm.fitInfo().trainAccuracy());
        int[] pred = glm.predict(kte);
        double acc = ClassMetrics.accuracy(pred, yte);
        assertTrue(acc >= 0.97, "test accuracy " + acc);
        // deterministic: refitting gives identical weights
        KernelGlm again = KernelGlm.fit(ktr, ytr, 2, KernelGlm.Options.builder().lambda(1e-6).build());
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
        KernelMatrix k = Gram.computeMatrix(op, op, Gram.Options.of(KernelKind.PNTK, KernelNormalization.COSINE));
        KernelGlm.Options o = KernelGlm.Options.builder().maxIterations(40).build();
        KernelGlm a = KernelGlm.fit(k, y, c, o);
        assertTrue(a.fitInfo().trainAccuracy() > 0.9, "train accuracy " + a.fitInfo().trainAccuracy());
        KernelProductsPath.force(true);
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
        assertThrows(IllegalArgumentException.class, () -> KernelGlm.Options.builder().lambda(-1).build());
    }

    @Test
    void slopeAndCurvatureBoundAgreeWithFiniteDifferences() {
        Random r = new Random(25);
        int n = 15;
        int c = 3;
        KernelMatrix k = randomPsd(r, n, 6);
        int[] y = randomLabels(r, n, c);
        double[] theta = new double[n * c + c];
        double[] d = new double[theta.length];
        for (int i = 0; i < theta.length; i++) {
            theta[i] = 0.1 * r.nextGaussian();
            d[i] = r.nextGaussian();
        }
        // weighted too (curvatureBoundIsExactForTwoClassesAtZeroWithWeights checks the weights where the bound is exact)
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) weights[i] = i % 3 == 0 ? 4.0 : 0.25;
        // λ = 500: the penalty dominates and the bound is nearly tight; λ = 0.01: the softmax part dominates
        for (double lambda : new double[] {500, 0.01}) {
            for (double[] w : new double[][] {null, weights}) {
                KernelGlm.Objective obj = new KernelGlm.Objective(k, y, w, c, lambda);
                double[] dual = new double[n * c];
                obj.value(theta, obj.image(theta), dual);
                double[] ad = obj.image(d);
                double h = 1e-3;
                double[] f = referenceLossAlong(k, y, w, c, lambda, theta, d, h);
                String what = "λ " + lambda + (w == null ? "" : ", weighted");
                double slope = (f[2] - f[0]) / (2 * h);
                assertEquals(slope, obj.slope(theta, dual, d, ad), 1e-4 * Math.max(1, Math.abs(slope)), what);
                double curvature = (f[2] - 2 * f[1] + f[0]) / (h * h);
                double bound = obj.curvatureBound(d, ad);
                assertTrue(curvature <= bound * (1 + 1e-3), what + ": curvature " + curvature + " above the bound " + bound);
                if (lambda == 500) assertTrue(bound <= 1.2 * curvature, what + ": the bound " + bound + " is loose against " + curvature);
            }
        }
    }

    @Test
    void curvatureBoundIsExactForTwoClassesAtZeroWithWeights() {
        // At θ = 0 with two classes, p = (1/2, 1/2) and the softmax Hessian is [[1, -1], [-1, 1]] / 4. Along logit
        // changes (a, -a) it equals the bound's I/2, so with a negligible penalty the bound is the curvature itself,
        // weights included: Σ_i w_i a_i² / N.
        Random r = new Random(26);
        int n = 10;
        int c = 2;
        KernelMatrix k = randomPsd(r, n, 4);
        int[] y = randomLabels(r, n, c);
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) weights[i] = 0.5 + 3 * r.nextDouble();
        double[] theta = new double[n * c + c];
        double[] d = new double[theta.length];
        for (int j = 0; j < n; j++) {
            d[j * c] = r.nextGaussian();
            d[j * c + 1] = -d[j * c];
        }
        double lambda = 1e-9;
        KernelGlm.Objective obj = new KernelGlm.Objective(k, y, weights, c, lambda);
        double h = 1e-3;
        double[] f = referenceLossAlong(k, y, weights, c, lambda, theta, d, h);
        double curvature = (f[2] - 2 * f[1] + f[0]) / (h * h);
        double bound = obj.curvatureBound(d, obj.image(d));
        assertEquals(curvature, bound, 1e-4 * curvature);
    }
}
