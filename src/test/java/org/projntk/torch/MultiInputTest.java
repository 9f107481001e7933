package org.projntk.torch;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.projntk.ProjntkException;
import org.projntk.tensor.DType;
import org.projntk.tensor.Input;

/** builtin:text-transformer through the Java API: ids (int64) + mask, gradients, padding, training and bad inputs. */
class MultiInputTest {
    private static final String MODEL = "text-transformer:vocab=40,classes=3,length=10";

    /** ids and mask [rows x width]: example i has 2 + i % (width - 2) tokens, then padding (id 0, mask 0). */
    private static List<Input> batch(Arena arena, int rows, int width, long seed) {
        Random r = new Random(seed);
        long[] ids = new long[rows * width], mask = new long[rows * width];
        for (int i = 0; i < rows; i++) {
            int len = 2 + i % (Math.min(width, 8) - 2);
            for (int t = 0; t < len; t++) {
                ids[i * width + t] = 1 + r.nextInt(39);
                mask[i * width + t] = 1;
            }
        }
        long[] shape = {rows, width};
        return List.of(new Input(arena.allocateFrom(ValueLayout.JAVA_LONG, ids), DType.INT64, shape),
                new Input(arena.allocateFrom(ValueLayout.JAVA_LONG, mask), DType.INT64, shape));
    }

    private static List<Input> row(List<Input> inputs, int i) {
        return inputs.stream().map(in -> {
            long[] s = in.shape();
            long bytes = s[1] * in.dtype().bytes();
            s[0] = 1;
            return new Input(in.data().asSlice(i * bytes, bytes), in.dtype(), s);
        }).toList();
    }

    @Test
    void batchedGradientsEqualAPerExampleLoop() {
        try (Model m = Model.builtin(MODEL, 5, Device.CPU); Arena arena = Arena.ofConfined()) {
            assertArrayEquals(new int[] {2, 2}, m.inputCount());
            List<Input> in = batch(arena, 4, 8, 1);
            for (GradStrategy strategy : new GradStrategy[] {GradStrategy.FUNCTIONAL, GradStrategy.ITERATIVE}) {
                float[][][] g = Gradients.dense(m, in, null, OutputKind.PER_CLASS, strategy, 3);
                for (int i = 0; i < 4; i++) {
                    float[][][] one = Gradients.dense(m, row(in, i), null, OutputKind.PER_CLASS, GradStrategy.ITERATIVE, 3);
                    for (int c = 0; c < 3; c++) {
                        double err = TestData.relDiff(g[c][i], one[c][0]);
                        assertTrue(err < 1e-5, strategy + " example " + i + " class " + c + ": " + err);
                    }
                }
            }
        }
    }

    @Test
    void fusedProjectionEqualsProjectedDenseGradients() {
        try (Model m = Model.builtin(MODEL, 5, Device.CPU); Arena arena = Arena.ofConfined()) {
            List<Input> in = batch(arena, 3, 8, 6);
            long p = m.parameterCount();
            float[][][] dense = Gradients.dense(m, in, null, OutputKind.PER_CLASS, GradStrategy.ITERATIVE, 3);
            try (org.projntk.project.Projector pr = new org.projntk.project.Projector(
                    org.projntk.project.ProjectorSpec.of(org.projntk.project.ProjectorKind.SJLT, p, 16, 3))) {
                MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT, 3L * 3 * 16);
                GradStrategy used = pr.projectGradients(m, in, null, OutputKind.PER_CLASS, GradStrategy.AUTO, 0, out);
                assertEquals(GradStrategy.FUNCTIONAL, used);
                for (int c = 0; c < 3; c++) {
                    float[][] want = pr.project(dense[c]);
                    for (int i = 0; i < 3; i++) {
                        float[] got = out.asSlice((c * 3L + i) * 16 * 4, 16 * 4).toArray(ValueLayout.JAVA_FLOAT);
                        assertTrue(TestData.relDiff(got, want[i]) < 1e-4, "class " + c + " row " + i + ": " + TestData.relDiff(got, want[i]));
                    }
                }
            }
        }
    }

    @Test
    void paddingDoesNotChangeGradients() {
        try (Model m = Model.builtin(MODEL, 5, Device.CPU); Arena arena = Arena.ofConfined()) {
            List<Input> narrow = batch(arena, 3, 6, 2);
            // The same examples padded to width 10 with junk ids under mask 0.
            long[] ids = new long[30], mask = new long[30];
            MemorySegment ni = narrow.get(0).data(), nm = narrow.get(1).data();
            for (int i = 0; i < 3; i++) {
                for (int t = 0; t < 10; t++) {
                    boolean inside = t < 6 && nm.getAtIndex(ValueLayout.JAVA_LONG, i * 6 + t) == 1;
                    ids[i * 10 + t] = inside ? ni.getAtIndex(ValueLayout.JAVA_LONG, i * 6 + t) : 7 + t;
                    mask[i * 10 + t] = inside ? 1 : 0;
                }
            }
            List<Input> wide = List.of(new Input(arena.allocateFrom(ValueLayout.JAVA_LONG, ids), DType.INT64, new long[] {3, 10}),
                    new Input(arena.allocateFrom(ValueLayout.JAVA_LONG, mask), DType.INT64, new long[] {3, 10}));
            float[][] a = Gradients.dense(m, narrow, null, OutputKind.PNTK, GradStrategy.AUTO, 3)[0];
            float[][] b = Gradients.dense(m, wide, null, OutputKind.PNTK, GradStrategy.AUTO, 3)[0];
            for (int i = 0; i < 3; i++) assertTrue(TestData.relDiff(b[i], a[i]) < 1e-5, "example " + i + ": " + TestData.relDiff(b[i], a[i]));
            float[][] la = m.forward(narrow), lb = m.forward(wide);
            for (int i = 0; i < 3; i++) assertArrayEquals(la[i], lb[i], 1e-5f);
        }
    }

    @Test
    void trainsOnIntegerInputs() {
        try (Model m = Model.builtin(MODEL, 5, Device.CPU); Trainer t = new Trainer(m, Trainer.Optimizer.ADAM, 1e-3, 0, 0);
             Arena arena = Arena.ofConfined()) {
            List<Input> in = batch(arena, 6, 8, 3);
            long[] y = {0, 1, 2, 0, 1, 2};
            double first = t.step(in, y).loss(), last = first;
            for (int s = 0; s < 40; s++) last = t.step(in, y).loss();
            assertTrue(last < 0.5 * first, first + " -> " + last);
        }
    }

    @Test
    void badInputsGiveClearErrors() {
        try (Model m = Model.builtin(MODEL, 5, Device.CPU); Arena arena = Arena.ofConfined()) {
            List<Input> in = batch(arena, 3, 8, 4);
            ProjntkException e = assertThrows(ProjntkException.class, () -> m.forward(in.subList(0, 1)));
            assertTrue(e.getMessage().contains("takes 2 input(s) in forward, got 1"), e.getMessage());
            List<Input> floats = List.of(new Input(arena.allocate(3 * 8 * 4), DType.FLOAT32, new long[] {3, 8}), in.get(1));
            e = assertThrows(ProjntkException.class, () -> Gradients.dense(m, floats, null, OutputKind.PNTK, GradStrategy.AUTO, 3));
            assertTrue(e.getMessage().contains("input 0 is float32 but model " + MODEL + " expects int64"), e.getMessage());
            List<Input> rows = List.of(in.get(0), new Input(in.get(1).data(), DType.INT64, new long[] {2, 8}));
            IllegalArgumentException r = assertThrows(IllegalArgumentException.class, () -> m.forward(rows));
            assertTrue(r.getMessage().contains("input 1 has 2 rows but input 0 has 3"), r.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new Input(arena.allocate(8), DType.INT64, new long[] {3, 8}));
        }
        try (Model m = Model.builtin("tiny-mlp", 1, Device.CPU); Arena arena = Arena.ofConfined()) {
            Input ints = new Input(arena.allocate(8 * 8), DType.INT64, new long[] {2, 4});
            ProjntkException e = assertThrows(ProjntkException.class, () -> m.forward(List.of(ints)));
            assertTrue(e.getMessage().contains("x is int64 but model tiny-mlp expects float32"), e.getMessage());
        }
    }
}
