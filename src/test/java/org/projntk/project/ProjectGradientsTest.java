package org.projntk.project;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.projntk.ProjntkException;
import org.projntk.torch.Builtins;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/** The fused path (gradients streamed into the projector) against dense gradients projected by the Java reference. */
class ProjectGradientsTest {
    static long[] shape(String model, int batch) {
        long[] ex = Builtins.inputShape(model);
        long[] s = new long[ex.length + 1];
        s[0] = batch;
        System.arraycopy(ex, 0, s, 1, ex.length);
        return s;
    }

    static MemorySegment input(Arena arena, long[] shape, long seed) {
        long n = 1;
        for (long d : shape) n *= d;
        Random r = new Random(seed);
        MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, n);
        for (long i = 0; i < n; i++) x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
        return x;
    }

    private static void check(String model, int classes, int batch, ProjectorKind kind, int k, OutputKind output,
                              GradStrategy strategy, long maxBlockBytes) {
        long[] shape = shape(model, batch);
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) labels[i] = (i * 7 + 1) % classes;
        try (Model m = Model.builtin(model, 3, Device.CPU); Arena arena = Arena.ofConfined()) {
            MemorySegment x = input(arena, shape, 4);
            long p = m.parameterCount();
            ProjectorSpec sp = new ProjectorSpec(kind, p, k, 99, 5, 2, false, true, false, Device.CPU);
            float[][][] dense = Gradients.dense(m, x, shape, labels, output, strategy, classes);
            int outputs = dense.length;
            float[][] rows = new float[outputs * batch][];
            for (int o = 0; o < outputs; o++) for (int b = 0; b < batch; b++) rows[o * batch + b] = dense[o][b];
            ReferenceProjector ref = ProjectorTest.reference(sp);
            double[][] want = ref.project(rows);

            float[][] got = new float[outputs * batch][k];
            try (Projector pr = new Projector(sp)) {
                MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT, (long) outputs * batch * k);
                assertEquals(outputs, pr.projectGradients(m, x, shape, labels, output, strategy, maxBlockBytes, out));
                for (int r = 0; r < got.length; r++) MemorySegment.copy(out, ValueLayout.JAVA_FLOAT, (long) r * k * 4, got[r], 0, k);
            }
            String what = model + " " + kind + " " + output + " " + strategy + " maxBlockBytes=" + maxBlockBytes;
            ProjectorTest.assertProjectionClose(rows, ref, want, got, 1e-4, what);
        }
    }

    @Test
    void tinyCnnAllOutputsAndKinds() {
        for (ProjectorKind kind : new ProjectorKind[] {ProjectorKind.RADEMACHER, ProjectorKind.GAUSSIAN, ProjectorKind.SJLT}) {
            for (OutputKind output : OutputKind.values()) {
                check("tiny-cnn", 3, 5, kind, 19, output, GradStrategy.AUTO, 0);
            }
        }
        // Sub-batching (tiny block budget) and the iterative strategy give the same projection.
        check("tiny-cnn", 3, 5, ProjectorKind.RADEMACHER, 19, OutputKind.PER_CLASS, GradStrategy.ITERATIVE, 1);
        check("tiny-cnn", 3, 5, ProjectorKind.SJLT, 19, OutputKind.PNTK, GradStrategy.FUNCTIONAL, 200);
    }

    @Test
    void cnnFmnistPntkAndPerClass() {
        check("cnn-fmnist", 10, 2, ProjectorKind.RADEMACHER, 24, OutputKind.PNTK, GradStrategy.AUTO, 0);
        check("cnn-fmnist", 10, 2, ProjectorKind.SJLT, 24, OutputKind.PER_CLASS, GradStrategy.AUTO, 0);
        check("cnn-fmnist", 10, 2, ProjectorKind.GAUSSIAN, 8, OutputKind.PER_CLASS, GradStrategy.AUTO, 0);
    }

    /**
     * The fused per-class path hands the projector all C classes of a parameter tensor as one block; its features must
     * be bit-identical to projecting class by class, block by block, in parameter order (how stores were written
     * before), whole batch and sub-batched.
     */
    @Test
    void perClassBlockHasTheBitsOfClassByClassProjection() {
        int batch = 5, k = 40, classes = 10;
        long[] shape = shape("cnn-fmnist", batch);
        try (Model m = Model.builtin("cnn-fmnist", 8, Device.CPU); Arena arena = Arena.ofConfined()) {
            MemorySegment x = input(arena, shape, 12);
            long p = m.parameterCount();
            for (ProjectorKind kind : new ProjectorKind[] {ProjectorKind.GAUSSIAN, ProjectorKind.RADEMACHER, ProjectorKind.SJLT}) {
                ProjectorSpec sp = new ProjectorSpec(kind, p, k, 31, 2, 3, false, true, false, Device.CPU);
                try (Projector pr = new Projector(sp)) {
                    for (long budget : new long[] {0, 2 * p * 4 * classes + 1}) {
                        // The same sub-batches on both sides: gradients of a sub-batch may round differently.
                        MemorySegment old = arena.allocate(ValueLayout.JAVA_FLOAT, (long) classes * batch * k);
                        Gradients.compute(m, x, shape, null, OutputKind.PER_CLASS, GradStrategy.AUTO, budget, true,
                                (output, rowOffset, rows, paramOffset, cols, block) -> {
                                    // rows of one class: out rows output·B + rowOffset ..
                                    pr.accumulate(block, (int) rows, (int) cols, paramOffset,
                                            old.asSlice((output * batch + rowOffset) * k * 4L, rows * k * 4L));
                                });
                        MemorySegment fused = arena.allocate(ValueLayout.JAVA_FLOAT, (long) classes * batch * k);
                        assertEquals(classes, pr.projectGradients(m, x, shape, null, OutputKind.PER_CLASS, GradStrategy.AUTO, budget, fused));
                        long differ = 0;
                        for (long i = 0; i < (long) classes * batch * k; i++) {
                            if (old.getAtIndex(ValueLayout.JAVA_INT, i) != fused.getAtIndex(ValueLayout.JAVA_INT, i)) differ++;
                        }
                        assertEquals(0, differ, kind + " budget " + budget + ": values whose bits differ");
                    }
                }
            }
        }
    }

    @Test
    void mismatchedSizesAreRejected() {
        long[] shape = shape("tiny-mlp", 2);
        try (Model m = Model.builtin("tiny-mlp", 1, Device.CPU); Arena arena = Arena.ofConfined()) {
            MemorySegment x = input(arena, shape, 1);
            try (Projector wrongP = new Projector(ProjectorSpec.of(ProjectorKind.RADEMACHER, 44, 4, 1))) {
                ProjntkException e = assertThrows(ProjntkException.class, () -> wrongP.projectGradients(m, x, shape, null,
                        OutputKind.PNTK, GradStrategy.AUTO, 0, arena.allocate(ValueLayout.JAVA_FLOAT, 8)));
                assertEquals(ProjntkException.Status.INVALID_ARGUMENT, e.status());
                assertTrue(e.getMessage().contains("44") && e.getMessage().contains("43"), e.getMessage());
            }
            try (Projector pr = new Projector(ProjectorSpec.of(ProjectorKind.RADEMACHER, 43, 4, 1))) {
                // PER_CLASS needs C x B x K = 3 x 2 x 4 floats.
                ProjntkException e = assertThrows(ProjntkException.class, () -> pr.projectGradients(m, x, shape, null,
                        OutputKind.PER_CLASS, GradStrategy.AUTO, 0, arena.allocate(ValueLayout.JAVA_FLOAT, 23)));
                assertEquals(ProjntkException.Status.INVALID_ARGUMENT, e.status());
                assertTrue(e.getMessage().contains("capacity 23"), e.getMessage());
                MemorySegment ok = arena.allocate(ValueLayout.JAVA_FLOAT, 24);
                assertEquals(3, pr.projectGradients(m, x, shape, null, OutputKind.PER_CLASS, GradStrategy.AUTO, 0, ok));
            }
        }
    }

    @Test
    void nonFiniteInputToTheFusedPathIsNonfinite() {
        long[] shape = shape("tiny-mlp", 2);
        try (Model m = Model.builtin("tiny-mlp", 1, Device.CPU); Projector pr = new Projector(ProjectorSpec.of(ProjectorKind.SJLT, 43, 4, 1));
             Arena arena = Arena.ofConfined()) {
            MemorySegment x = input(arena, shape, 1);
            x.setAtIndex(ValueLayout.JAVA_FLOAT, 5, Float.NaN);
            ProjntkException e = assertThrows(ProjntkException.class, () -> pr.projectGradients(m, x, shape, null,
                    OutputKind.PNTK, GradStrategy.AUTO, 0, arena.allocate(ValueLayout.JAVA_FLOAT, 8)));
            assertEquals(ProjntkException.Status.NONFINITE, e.status());
        }
    }
}
