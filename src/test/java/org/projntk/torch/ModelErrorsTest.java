package org.projntk.torch;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.ProjntkException;
import org.projntk.ProjntkException.Status;

/** Bad input through the Java API: clear exceptions with the right status, and the JVM (and engine) keep working. */
class ModelErrorsTest {
    @TempDir Path tmp;

    private static void engineStillWorks() {
        try (Model m = Model.builtin("tiny-mlp", 3, Device.CPU); Arena arena = Arena.ofConfined()) {
            float[][] y = m.forward(TestData.input(arena, new long[] {2, 4}, 1), new long[] {2, 4});
            assertEquals(3, y[0].length);
            assertTrue(Float.isFinite(y[1][2]));
        }
    }

    @Test
    void missingModelFileIsIoNamingThePath() {
        Path missing = tmp.resolve("no/such/model.pt");
        ProjntkException e = assertThrows(ProjntkException.class, () -> Model.load(missing, Device.CPU));
        assertEquals(Status.IO, e.status());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        e = assertThrows(ProjntkException.class, () -> Model.open(missing.toString(), 0, Device.CPU));
        assertEquals(Status.IO, e.status());
    }

    @Test
    void directoryAsModelIsIo() {
        ProjntkException e = assertThrows(ProjntkException.class, () -> Model.load(tmp, Device.CPU));
        assertEquals(Status.IO, e.status());
        assertTrue(e.getMessage().contains(tmp.toString()), e.getMessage());
    }

    @Test
    void corruptModelFileIsTorchAndTheJvmSurvives() throws Exception {
        Path garbage = tmp.resolve("garbage.pt");
        byte[] bytes = new byte[4096];
        new Random(5).nextBytes(bytes);
        Files.write(garbage, bytes);
        ProjntkException e = assertThrows(ProjntkException.class, () -> Model.load(garbage, Device.CPU));
        assertEquals(Status.TORCH, e.status());
        assertTrue(e.getMessage().contains(garbage.toString()), e.getMessage());

        // A zip archive that is not TorchScript: the header check passes, libtorch itself must reject it.
        Path zip = tmp.resolve("notscript.pt");
        try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new java.util.zip.ZipEntry("archive/data.pkl"));
            out.write("not a pickle".getBytes());
            out.closeEntry();
        }
        e = assertThrows(ProjntkException.class, () -> Model.load(zip, Device.CPU));
        assertEquals(Status.TORCH, e.status(), e.getMessage());

        Path empty = Files.createFile(tmp.resolve("empty.pt"));
        e = assertThrows(ProjntkException.class, () -> Model.load(empty, Device.CPU));
        assertTrue(e.status() == Status.TORCH || e.status() == Status.IO, e.status() + ": " + e.getMessage());
        engineStillWorks();
    }

    @Test
    void unknownBuiltinIsRejected() {
        ProjntkException e = assertThrows(ProjntkException.class, () -> Model.builtin("no-such-net", 0, Device.CPU));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("no-such-net"), e.getMessage());
    }

    @Test
    void wrongInputShapeNamesExpectedAndGot() {
        try (Model m = Model.builtin("tiny-cnn", 1, Device.CPU); Arena arena = Arena.ofConfined()) {
            long[] bad = {2, 1, 5, 5};
            MemorySegment x = TestData.input(arena, bad, 2);
            ProjntkException e = assertThrows(ProjntkException.class, () -> m.forward(x, bad));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertTrue(e.getMessage().contains("[2, 1, 5, 5]"), "got: " + e.getMessage());
            assertTrue(e.getMessage().contains("[2, 1, 6, 6]"), "expected: " + e.getMessage());

            e = assertThrows(ProjntkException.class, () -> Gradients.compute(m, x, bad, null, OutputKind.PNTK,
                    GradStrategy.AUTO, 0, true, (o, r, n, p, c, b) -> fail("no block expected")));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertTrue(e.getMessage().contains("[2, 1, 6, 6]"), e.getMessage());
            long[] flat = {2, 36};
            e = assertThrows(ProjntkException.class, () -> m.forward(arena.allocate(ValueLayout.JAVA_FLOAT, 72), flat));
            assertTrue(e.getMessage().contains("[2, 36]") && e.getMessage().contains("[2, 1, 6, 6]"), e.getMessage());
        }
        engineStillWorks();
    }

    @Test
    void nonFiniteInputIsNonfinite() {
        try (Model m = Model.builtin("tiny-mlp", 1, Device.CPU); Arena arena = Arena.ofConfined()) {
            long[] shape = {3, 4};
            float[] values = TestData.gaussian(12, 3);
            values[6] = Float.NaN; // example 1
            MemorySegment x = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            ProjntkException e = assertThrows(ProjntkException.class, () -> m.forward(x, shape));
            assertEquals(Status.NONFINITE, e.status());
            assertTrue(e.getMessage().contains("example 1"), e.getMessage());
            for (OutputKind kind : OutputKind.values()) {
                ProjntkException g = assertThrows(ProjntkException.class, () -> Gradients.compute(m, x, shape, new long[] {0, 1, 2},
                        kind, GradStrategy.AUTO, 0, true, (o, r, n, p, c, b) -> {}));
                assertEquals(Status.NONFINITE, g.status(), kind.toString());
            }
            x.setAtIndex(ValueLayout.JAVA_FLOAT, 6, Float.POSITIVE_INFINITY);
            assertEquals(Status.NONFINITE, assertThrows(ProjntkException.class, () -> m.forward(x, shape)).status());
        }
    }

    @Test
    void marginLabelsOutOfRangeOrMissing() {
        try (Model m = Model.builtin("tiny-mlp", 1, Device.CPU); Arena arena = Arena.ofConfined()) {
            long[] shape = {3, 4};
            MemorySegment x = TestData.input(arena, shape, 4);
            for (long[] labels : new long[][] {{0, 3, 1}, {0, -1, 1}}) {
                ProjntkException e = assertThrows(ProjntkException.class, () -> Gradients.compute(m, x, shape, labels,
                        OutputKind.MARGIN, GradStrategy.AUTO, 0, true, (o, r, n, p, c, b) -> {}));
                assertEquals(Status.INVALID_ARGUMENT, e.status());
                assertTrue(e.getMessage().contains("label " + labels[1]) && e.getMessage().contains("[0, 3)"), e.getMessage());
            }
            ProjntkException e = assertThrows(ProjntkException.class, () -> Gradients.compute(m, x, shape, null,
                    OutputKind.MARGIN, GradStrategy.AUTO, 0, true, (o, r, n, p, c, b) -> {}));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertTrue(e.getMessage().contains("labels"), e.getMessage());
            // Labels are ignored for the other outputs, so out-of-range ones do no harm there.
            Gradients.compute(m, x, shape, new long[] {7, 7, 7}, OutputKind.PNTK, GradStrategy.AUTO, 0, true, (o, r, n, p, c, b) -> {});
        }
    }

    @Test
    void badParameterSelectionAndCounts() {
        try (Model m = Model.builtin("tiny-mlp", 1, Device.CPU)) {
            ProjntkException e = assertThrows(ProjntkException.class, () -> m.selectParameters("fc1.,fc9."));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertTrue(e.getMessage().contains("fc9."), e.getMessage());
            e = assertThrows(ProjntkException.class, () -> m.setParameterValues(new float[42]));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertTrue(e.getMessage().contains("42") && e.getMessage().contains("43"), e.getMessage());
        }
    }

    @Test
    void segmentsShorterThanTheShapeNeverReachTheEngine() {
        try (Model m = Model.builtin("tiny-mlp", 1, Device.CPU); Arena arena = Arena.ofConfined()) {
            long[] shape = {3, 4};
            MemorySegment shortX = arena.allocate(ValueLayout.JAVA_FLOAT, 11);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(shortX, shape));
            assertTrue(e.getMessage().contains("[3, 4]") && e.getMessage().contains("44"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Gradients.compute(m, shortX, shape, null, OutputKind.PNTK,
                    GradStrategy.AUTO, 0, true, (o, r, n, p, c, b) -> {}));
            MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, 12);
            e = assertThrows(IllegalArgumentException.class, () -> Gradients.compute(m, x, shape, new long[] {0, 1},
                    OutputKind.MARGIN, GradStrategy.AUTO, 0, true, (o, r, n, p, c, b) -> {}));
            assertTrue(e.getMessage().contains("2 labels"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.forward(x, new long[] {3, 0, 4}));
        }
        engineStillWorks();
    }
}
