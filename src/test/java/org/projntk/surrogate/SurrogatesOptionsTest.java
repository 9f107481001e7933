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
}
