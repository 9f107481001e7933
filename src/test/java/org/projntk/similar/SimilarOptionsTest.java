package org.projntk.similar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.projntk.kernel.KernelNormalization;

/** SimilarExamples.Options' builder: its documented defaults and one-line messages naming the bad field. */
class SimilarOptionsTest {
    static void rejects(String message, Supplier<SimilarExamples.Options> build) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, build::get).getMessage());
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        SimilarExamples.Options d = SimilarExamples.Options.defaults();
        assertNull(d.checkpoint());
        assertEquals(5, d.k());
        assertEquals(KernelNormalization.COSINE, d.normalization());
        assertEquals(8, d.images());
        assertEquals("train", d.trainSplit());
        assertEquals("test", d.testSplit());
        SimilarExamples.Options o = SimilarExamples.Options.builder().checkpoint("c").k(2).normalization(KernelNormalization.STD)
                .images(0).trainSplit("a").testSplit("b").build();
        assertEquals(o, o.toBuilder().build());
    }

    @Test
    void badSettingsAreRefusedNamingTheField() {
        rejects("k must be >= 1, got 0", () -> SimilarExamples.Options.builder().k(0).build());
        rejects("normalization must be set, got null", () -> SimilarExamples.Options.builder().normalization(null).build());
        rejects("images must be >= 0, got -1", () -> SimilarExamples.Options.builder().images(-1).build());
        rejects("trainSplit must name a split, got null", () -> SimilarExamples.Options.builder().trainSplit(null).build());
        rejects("testSplit must name a split, got ", () -> SimilarExamples.Options.builder().testSplit("").build());
    }
}
