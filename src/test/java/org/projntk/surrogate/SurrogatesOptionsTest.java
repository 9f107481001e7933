package org.projntk.surrogate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.projntk.kernel.KernelNormalization;

/** Surrogates.Options' builder: the paper's protocol as defaults, and one-line messages naming the bad field. */
class SurrogatesOptionsTest {
    static void rejects(String message, Supplier<Surrogates.Options> build) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, build::get).getMessage());
    }

    @Test
    void defaultsAreThePapersProtocol() {
        Surrogates.Options d = Surrogates.Options.defaults();
        assertNull(d.checkpoint());
        assertNull(d.model());
        assertEquals(KernelNormalization.COSINE, d.normalization());
        assertEquals(Surrogates.DEFAULT_LAMBDA, d.lambda());
        assertEquals(StoreSurrogate.Targets.LABELS, d.targets());
        assertEquals(StoreSurrogate.ClassWeight.BALANCED, d.classWeight());
        assertEquals(300, d.maxIterations());
        assertEquals(StoreSurrogate.Products.AUTO, d.products());
        Surrogates.Options o = Surrogates.Options.builder().checkpoint("c").model("m.pt").normalization(KernelNormalization.NONE)
                .lambda(0.5).targets(StoreSurrogate.Targets.NETWORK).classWeight(StoreSurrogate.ClassWeight.NONE).maxIterations(7)
                .products(StoreSurrogate.Products.DENSE).build();
        assertEquals(o, o.toBuilder().build());
    }

    @Test
    void badSettingsAreRefusedNamingTheField() {
        rejects("normalization must be set, got null", () -> Surrogates.Options.builder().normalization(null).build());
        rejects("lambda must be a finite number >= 0, got -1.0", () -> Surrogates.Options.builder().lambda(-1).build());
        rejects("lambda must be a finite number >= 0, got NaN", () -> Surrogates.Options.builder().lambda(Double.NaN).build());
        rejects("targets must be set, got null", () -> Surrogates.Options.builder().targets(null).build());
        rejects("classWeight must be set, got null", () -> Surrogates.Options.builder().classWeight(null).build());
        rejects("maxIterations must be >= 1, got 0", () -> Surrogates.Options.builder().maxIterations(0).build());
        rejects("products must be set, got null", () -> Surrogates.Options.builder().products(null).build());
    }

    @Test
    void kernelGlmDefaultsAndMessages() {
        KernelGlm.Options d = KernelGlm.Options.defaults();
        assertEquals(1e-3, d.lambda());
        assertEquals(KernelGlm.LambdaScale.RELATIVE, d.lambdaScale());
        assertEquals(300, d.maxIterations());
        assertEquals(1e-4, d.tolerance());
        assertEquals(10, d.history());
        assertNull(d.progress());
        KernelGlm.Options o = KernelGlm.Options.builder().lambda(2).lambdaScale(KernelGlm.LambdaScale.ABSOLUTE).maxIterations(9)
                .tolerance(1e-6).history(4).build().toBuilder().build();
        assertEquals(KernelGlm.LambdaScale.ABSOLUTE, o.lambdaScale());
        assertEquals(9, o.maxIterations());
        assertEquals(4, o.history());
        rejectsGlm("lambda must be a finite number >= 0, got -1.0", () -> KernelGlm.Options.builder().lambda(-1).build());
        rejectsGlm("lambdaScale must be set, got null", () -> KernelGlm.Options.builder().lambdaScale(null).build());
        rejectsGlm("maxIterations must be >= 1, got 0", () -> KernelGlm.Options.builder().maxIterations(0).build());
        rejectsGlm("tolerance must be > 0, got 0.0", () -> KernelGlm.Options.builder().tolerance(0).build());
        rejectsGlm("history must be >= 1, got 0", () -> KernelGlm.Options.builder().history(0).build());
    }

    static void rejectsGlm(String message, Supplier<KernelGlm.Options> build) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, build::get).getMessage());
    }

    @Test
    void absoluteLambdaIsTheRelativeOneTimesNTimesTheKernelScaleSquared() {
        // a small 2-class kernel: with λ_abs = λ_rel·N·s², the two scalings reach the same fit
        int n = 12;
        org.projntk.kernel.KernelMatrix k = org.projntk.kernel.KernelMatrix.allocate(n, n);
        java.util.Random r = new java.util.Random(3);
        double[][] x = new double[n][3];
        for (double[] row : x) for (int j = 0; j < 3; j++) row[j] = r.nextGaussian();
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = x[i][0] > 0 ? 1 : 0;
            for (int j = 0; j < n; j++) k.set(i, j, (float) (x[i][0] * x[j][0] + x[i][1] * x[j][1] + x[i][2] * x[j][2]));
        }
        double relative = 1e-2;
        KernelGlm rel = KernelGlm.fit(k, y, 2, KernelGlm.Options.builder().lambda(relative).maxIterations(2000).tolerance(1e-10).build());
        double s = KernelGlm.kernelScale(org.projntk.kernel.KernelOperator.dense(k));
        KernelGlm abs = KernelGlm.fit(k, y, 2, KernelGlm.Options.builder().lambda(relative * n * s * s)
                .lambdaScale(KernelGlm.LambdaScale.ABSOLUTE).maxIterations(2000).tolerance(1e-10).build());
        org.junit.jupiter.api.Assertions.assertArrayEquals(rel.logits(k), abs.logits(k), 1e-4);
    }
}
