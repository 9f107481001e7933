package org.projntk.residual;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.projntk.project.ProjectorKind;

/** ResidualSweep.Options' builder: its documented defaults and one-line messages naming the bad field. */
class SweepOptionsTest {
    static ResidualSweep.Options.Builder minimal() {
        return ResidualSweep.Options.builder().model("builtin:tiny-mlp").train("npy:x.npy,y.npy");
    }

    static void rejects(String message, Supplier<ResidualSweep.Options> build) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, build::get).getMessage());
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        ResidualSweep.Options d = minimal().build();
        assertNull(d.test());
        assertEquals(List.of(64, 256, 1024, 4096), d.dims());
        assertEquals(ProjectorKind.RADEMACHER, d.projector());
        assertEquals(0, d.seed());
        assertEquals(3, d.repeats());
        assertEquals(List.of(8, 16), minimal().dims(8, 16).build().dims());
    }

    @Test
    void badSettingsAreRefusedNamingTheField() {
        rejects("model must be set, got null", () -> ResidualSweep.Options.builder().train("t").build());
        rejects("train must be set, got null", () -> ResidualSweep.Options.builder().model("m").build());
        rejects("dims must hold at least one K, got []", () -> minimal().dims().build());
        rejects("dims: every K must be >= 1, got 0", () -> minimal().dims(4, 0).build());
        rejects("repeats must be >= 1, got 0", () -> minimal().repeats(0).build());
        rejects("projector must be rademacher, normal or sjlt, got none", () -> minimal().projector(ProjectorKind.NONE).build());
        rejects("projector must be rademacher, normal or sjlt, got null", () -> minimal().projector(null).build());
    }
}
