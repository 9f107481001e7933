package org.projntk.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

/** Training.Options' builder: its documented defaults and one-line messages naming the bad field. */
class TrainingOptionsTest {
    static Training.Options.Builder minimal() {
        return Training.Options.builder().model("builtin:tiny-mlp");
    }

    static void rejects(String message, Supplier<Training.Options> build) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, build::get).getMessage());
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        Training.Options d = minimal().build();
        assertEquals(0, d.seed());
        assertNull(d.rows());
        assertEquals(1, d.epochs());
        assertEquals(64, d.batch());
        assertEquals(Trainer.Optimizer.ADAM, d.optimizer());
        assertEquals(1e-3, d.learningRate());
        assertEquals(0.05, minimal().optimizer(Trainer.Optimizer.SGD).build().learningRate());
        assertEquals(0.9, d.momentum());
        assertEquals(0.0, d.weightDecay());
        assertEquals(0, d.saveEvery());
        assertNull(d.outPattern());
        assertEquals(Device.CPU, d.device());
        // the rows are copied in and out: changing the caller's array changes nothing
        int[] rows = {1, 2, 3};
        Training.Options o = minimal().rows(rows).learningRate(0.3).build();
        rows[0] = 9;
        assertArrayEquals(new int[] {1, 2, 3}, o.rows());
        assertEquals(0.3, o.toBuilder().build().learningRate());
    }

    @Test
    void badSettingsAreRefusedNamingTheField() {
        rejects("model must be set, got null", () -> Training.Options.builder().build());
        rejects("epochs must be >= 0, got -1", () -> minimal().epochs(-1).build());
        rejects("batch must be >= 1, got 0", () -> minimal().batch(0).build());
        rejects("optimizer must be set, got null", () -> minimal().optimizer(null).build());
        rejects("learningRate must be a positive finite number, got 0.0", () -> minimal().learningRate(0).build());
        rejects("momentum must be a finite number >= 0, got -0.5", () -> minimal().momentum(-0.5).build());
        rejects("weightDecay must be a finite number >= 0, got Infinity", () -> minimal().weightDecay(Double.POSITIVE_INFINITY).build());
        rejects("saveEvery must be >= 0, got -1", () -> minimal().saveEvery(-1).build());
        rejects("saveEvery needs a save pattern with %d for the epoch, e.g. run/ep%d.pt, got null", () -> minimal().saveEvery(2).build());
        rejects("device must be set, got null", () -> minimal().device(null).build());
    }
}
