package org.projntk.attribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.projntk.project.ProjectorKind;
import org.projntk.torch.Trainer;

/** Lds.Options' builder: its documented defaults and one-line messages naming the bad field. */
class LdsOptionsTest {
    static Lds.Options.Builder minimal() {
        return Lds.Options.builder().model("builtin:tiny-mlp").train("tr").test("te").out(Path.of("out"));
    }

    static void rejects(String message, Supplier<Lds.Options> build) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, build::get).getMessage());
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        Lds.Options d = minimal().build();
        assertEquals(50, d.subsets());
        assertEquals(0.5, d.alpha());
        assertEquals(512, d.dim());
        assertEquals(1, d.checkpoints());
        assertEquals(5, d.epochs());
        assertEquals(64, d.batch());
        assertEquals(Trainer.Optimizer.ADAM, d.optimizer());
        assertEquals(1e-3, d.learningRate());
        assertEquals(0.05, minimal().optimizer(Trainer.Optimizer.SGD).build().learningRate());
        assertEquals(0.2, minimal().learningRate(0.2).build().learningRate());
        assertEquals(0.0, d.lambda());
        assertEquals(ProjectorKind.RADEMACHER, d.projector());
        assertFalse(d.trakCompat());
        assertEquals(0, d.seed());
        assertEquals(1000, d.bootstrap());
    }

    @Test
    void badSettingsAreRefusedNamingTheField() {
        rejects("model must be set, got null", () -> minimal().model(null).build());
        rejects("train must be set, got ", () -> minimal().train("").build());
        rejects("test must be set, got null", () -> minimal().test(null).build());
        rejects("out must be set, got null", () -> minimal().out(null).build());
        rejects("subsets must be >= 3 for a rank correlation, got 2", () -> minimal().subsets(2).build());
        rejects("alpha must be in (0, 1), got 1.0", () -> minimal().alpha(1).build());
        rejects("dim must be >= 1, got 0", () -> minimal().dim(0).build());
        rejects("checkpoints must be >= 1, got 0", () -> minimal().checkpoints(0).build());
        rejects("epochs must be >= 1, got 0", () -> minimal().epochs(0).build());
        rejects("batch must be >= 1, got 0", () -> minimal().batch(0).build());
        rejects("optimizer must be set, got null", () -> minimal().optimizer(null).build());
        rejects("learningRate must be a positive finite number, got -1.0", () -> minimal().learningRate(-1).build());
        rejects("lambda must be a finite number >= 0, got NaN", () -> minimal().lambda(Double.NaN).build());
        rejects("projector must be rademacher, normal, sjlt or none, got CURAND", () -> minimal().projector(ProjectorKind.CURAND).build());
        rejects("bootstrap must be >= 1, got 0", () -> minimal().bootstrap(0).build());
    }
}
