package org.projntk.surrogate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.projntk.kernel.ArrayFeatureMatrix;
import org.projntk.kernel.FeatureKernelOperator;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.KernelOperator;

/** The kernel GLM fitted through the features reaches the optimum of the one fitted on the dense kernel. */
class MatrixFreeSurrogateTest {
    static final int C = 4;

    /** Per-class features whose class-y block carries a signal, so the labels are learnable but not separable. */
    static List<FeatureMatrix> features(Random r, int outputs, int[] y, int dim) {
        List<FeatureMatrix> out = new ArrayList<>();
        for (int c = 0; c < outputs; c++) {
            float[][] x = new float[y.length][dim];
            for (int i = 0; i < y.length; i++) {
                for (int k = 0; k < dim; k++) x[i][k] = (float) ((k % C == y[i] ? 1.2 : 0) + r.nextGaussian());
            }
            out.add(ArrayFeatureMatrix.of(x));
        }
        return out;
    }

    static int[] labels(Random r, int n) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = r.nextInt(10) < 6 ? 0 : 1 + r.nextInt(C - 1); // imbalanced
        return y;
    }

    @Test
    void logitsEqualTheDenseFitForEveryKindNormalisationAndWeighting() {
        // L-BFGS runs on float32 products down to their noise floor (the approximate Wolfe steps keep it going past the
        // noise of f), so both fits reach the same optimum to well under 1e-5. With 24 feature columns the fit runs in
        // the feature factor's column space (D = 24 or 96 <= N/2); with 150 (D = 150 or 600) over the kernel rows.
        KernelGlm.Options opt = KernelGlm.Options.builder().lambda(1e-2).maxIterations(2000).tolerance(1e-10).build();
        for (int dim : new int[] {24, 150}) {
            for (KernelKind kind : new KernelKind[] {KernelKind.PNTK, KernelKind.TRNTK}) {
                for (KernelNormalization norm : KernelNormalization.values()) {
                    for (boolean balanced : new boolean[] {false, true}) {
                        String what = kind + "/" + norm + (balanced ? "/balanced" : "/unweighted") + "/dim " + dim;
                        Random r = new Random(11);
                        int outputs = kind == KernelKind.PNTK ? 1 : C;
                        int[] ytr = labels(r, 240);
                        int[] yte = labels(r, 60);
                        List<FeatureMatrix> tr = features(r, outputs, ytr, dim);
                        List<FeatureMatrix> te = features(r, outputs, yte, dim);
                        double[] w = balanced ? KernelGlm.balancedWeights(ytr, C) : null;

                        FeatureKernelOperator trainFree = KernelOperator.features(tr, tr, kind, norm, null);
                        FeatureKernelOperator testFree = KernelOperator.features(te, tr, kind, norm, trainFree.stdScale());
                        Gram.Options g = Gram.Options.of(kind, norm);
                        KernelOperator trainDense = KernelOperator.dense(Gram.computeMatrix(tr, tr, g));
                        if (norm == KernelNormalization.STD) g = g.toBuilder().stdScale(trainFree.stdScale()).build();
                        KernelOperator testDense = KernelOperator.dense(Gram.computeMatrix(te, tr, g));

                        KernelGlm free = KernelGlm.fit(trainFree, ytr, w, C, opt);
                        KernelGlm dense = KernelGlm.fit(trainDense, ytr, w, C, opt);
                        assertTrue(free.fitInfo().converged() && dense.fitInfo().converged(), what + " " + free.fitInfo() + " " + dense.fitInfo());
                        assertTrue(free.fitInfo().searchSpace().startsWith(dim == 24 ? "feature factor" : "kernel rows"), what + " " + free.fitInfo());
                        assertTrue(dense.fitInfo().searchSpace().startsWith("kernel rows"), what + " " + dense.fitInfo());
                        double[] zf = free.logits(testFree);
                        double[] zd = dense.logits(testDense);
                        double scale = 0;
                        for (double v : zd) scale = Math.max(scale, Math.abs(v));
                        for (int i = 0; i < zd.length; i++) {
                            assertEquals(zd[i], zf[i], 1e-5 * scale, what + " test logit " + i);
                        }
                        assertEquals(dense.fitInfo().objective(), free.fitInfo().objective(), 1e-7 * Math.abs(dense.fitInfo().objective()), what);
                    }
                }
            }
        }
    }

    @Test
    void autoPicksTheProductsTheBenchmarkFoundFaster() {
        // bench-surrogate, K = 2048, C = 10 (README): trNTK at N = 5,000 fitted faster dense, at N = 20,000 through the
        // features (the dense build dominates); pNTK always through the feature factor; never a kernel over 2 GiB
        assertTrue(StoreSurrogate.denseIsCheaper(5_000, 20_480, 300));
        assertFalse(StoreSurrogate.denseIsCheaper(20_000, 20_480, 300));
        assertFalse(StoreSurrogate.denseIsCheaper(5_000, 2_048, 300));
        assertFalse(StoreSurrogate.denseIsCheaper(20_000, 2_048, 300));
        assertFalse(StoreSurrogate.denseIsCheaper(30_000, 1 << 20, 100_000));
        assertTrue(StoreSurrogate.denseIsCheaper(20_000, 20_480, 3_000)); // many evaluations amortise the build
    }

    @Test
    void balancedWeightsGiveEveryClassTheSameTotal() {
        int[] y = {0, 0, 0, 0, 0, 0, 1, 1, 2, 2};
        double[] w = KernelGlm.balancedWeights(y, 4); // class 3 absent
        double[] total = new double[4];
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            total[y[i]] += w[i];
            sum += w[i];
        }
        assertEquals(total[0], total[1], 1e-12);
        assertEquals(total[0], total[2], 1e-12);
        assertEquals(y.length, sum, 1e-9); // sklearn's n_samples / (n_classes * bincount), over present classes
        assertEquals(10.0 / (3 * 6), w[0], 1e-12);
    }

    @Test
    void balancedWeightsChangeTheFitTowardsTheMinorityClasses() {
        Random r = new Random(12);
        int[] y = labels(r, 300);
        List<FeatureMatrix> tr = features(r, 1, y, 12);
        KernelOperator k = KernelOperator.features(tr, tr, KernelKind.PNTK, KernelNormalization.COSINE, null);
        KernelGlm.Options opt = KernelGlm.Options.builder().lambda(1e-2).build();
        int[] plain = KernelGlm.fit(k, y, null, C, opt).predict(k);
        int[] balanced = KernelGlm.fit(k, y, KernelGlm.balancedWeights(y, C), C, opt).predict(k);
        int majorityPlain = 0;
        int majorityBalanced = 0;
        for (int i = 0; i < y.length; i++) {
            majorityPlain += plain[i] == 0 ? 1 : 0;
            majorityBalanced += balanced[i] == 0 ? 1 : 0;
        }
        assertTrue(majorityBalanced < majorityPlain, "balanced " + majorityBalanced + " vs plain " + majorityPlain);
    }
}
