package org.projntk.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

/** Gram.Options' builder: its documented defaults, one-line messages naming the bad field, and the kernel it configures. */
class GramOptionsTest {
    static void rejects(String message, Supplier<Gram.Options> build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::get);
        assertEquals(message, e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        Gram.Options d = Gram.Options.builder().build();
        assertEquals(KernelKind.PNTK, d.kernel());
        assertEquals(KernelNormalization.NONE, d.normalization());
        assertEquals(Gram.DEFAULT_TILE, d.tileRows());
        assertEquals(Gram.DEFAULT_TILE, d.tileCols());
        assertTrue(d.stdScale().isEmpty());
        assertEquals(Gram.Options.builder().kernel(KernelKind.TRNTK).normalization(KernelNormalization.COSINE).build(),
                Gram.Options.of(KernelKind.TRNTK, KernelNormalization.COSINE));
    }

    @Test
    void toBuilderKeepsEverySetting() {
        Gram.Options o = Gram.Options.builder().kernel(KernelKind.ENTK).normalization(KernelNormalization.STD).tiles(3, 7).stdScale(2.5).build();
        assertEquals(o, o.toBuilder().build());
        assertEquals(o.hashCode(), o.toBuilder().build().hashCode());
        assertEquals(2.5, o.stdScale().getAsDouble());
        assertNotEquals(o, o.toBuilder().tiles(3, 8).build());
    }

    @Test
    void badSettingsAreRefusedNamingTheField() {
        rejects("kernel must be set, got null", () -> Gram.Options.builder().kernel(null).build());
        rejects("normalization must be set, got null", () -> Gram.Options.builder().normalization(null).build());
        rejects("tileRows must be >= 1, got 0", () -> Gram.Options.builder().tiles(0, 4).build());
        rejects("tileCols must be >= 1, got -2", () -> Gram.Options.builder().tiles(4, -2).build());
        rejects("stdScale must be a positive finite number, got 0.0", () -> Gram.Options.builder().stdScale(0).build());
        rejects("stdScale must be a positive finite number, got NaN", () -> Gram.Options.builder().stdScale(Double.NaN).build());
        rejects("stdScale must be a positive finite number, got Infinity",
                () -> Gram.Options.builder().stdScale(Double.POSITIVE_INFINITY).build());
    }

    @Test
    void builderConfiguredKernelsMatchTheFloat64Loop() {
        Random r = new Random(11);
        float[][][] a = {GramTest.random(r, 13, 6), GramTest.random(r, 13, 6)};
        float[][][] b = {GramTest.random(r, 9, 6), GramTest.random(r, 9, 6)};
        for (KernelNormalization norm : KernelNormalization.values()) {
            Gram.Options o = Gram.Options.builder().kernel(KernelKind.TRNTK).normalization(norm).tiles(4, 5).build();
            GramTest.assertClose(GramTest.naiveNormalized(a, b, norm), Gram.computeMatrix(GramTest.op(a), GramTest.op(b), o), 1e-5);
        }
        // a fixed STD divisor: the raw kernel divided by it
        double[][] raw = GramTest.naive(a, b);
        for (double[] row : raw) for (int j = 0; j < row.length; j++) row[j] /= 3.0;
        Gram.Options fixed = Gram.Options.builder().kernel(KernelKind.TRNTK).normalization(KernelNormalization.STD).stdScale(3.0).tiles(2, 2).build();
        GramTest.assertClose(raw, Gram.computeMatrix(GramTest.op(a), GramTest.op(b), fixed), 1e-5);
    }
}
