package org.projntk.torch;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Save/load round trips and parameter selection, against the architectures' definitions. */
class ModelParametersTest {
    @TempDir Path tmp;

    /** tiny-cnn as defined in native/torch/builtins.cpp: conv(1->2, 3x3, bias), linear(18->3). */
    static final Map<String, Long> TINY_CNN = new java.util.LinkedHashMap<>();
    static {
        TINY_CNN.put("conv1.weight", 2L * 1 * 3 * 3);
        TINY_CNN.put("conv1.bias", 2L);
        TINY_CNN.put("fc.weight", 3L * 18);
        TINY_CNN.put("fc.bias", 3L);
    }

    @Test
    void builtinSaveLoadRoundTrip() {
        for (String name : List.of("tiny-mlp", "tiny-cnn", "cnn-fmnist")) {
            Path file = tmp.resolve(name + ".pt");
            long[] shape = TestData.shape(name, 3);
            try (Model a = Model.builtin(name, 11, Device.CPU); Arena arena = Arena.ofConfined()) {
                MemorySegment x = TestData.input(arena, shape, 12);
                a.save(file);
                try (Model b = Model.load(file, Device.CPU)) {
                    assertEquals(a.checksum(), b.checksum(), name);
                    assertEquals(a.parameters(), b.parameters(), name);
                    assertArrayEquals(a.parameterValues(), b.parameterValues(), name);
                    float[][] ya = a.forward(x, shape), yb = b.forward(x, shape);
                    for (int i = 0; i < ya.length; i++) assertArrayEquals(ya[i], yb[i], 1e-6f, name);
                    // The loaded file keeps the input-shape check of the builtin.
                    long[] bad = shape.clone();
                    bad[bad.length - 1] += 1;
                    assertThrows(org.projntk.ProjntkException.class,
                            () -> b.forward(arena.allocate(4L * TestData.numel(bad)), bad));
                }
                try (Model c = Model.open(file.toString(), 999, Device.CPU)) {
                    assertEquals(a.checksum(), c.checksum(), "a file ignores the builtin seed");
                }
            }
        }
    }

    @Test
    void seedsChangeWeightsAndChecksum() {
        try (Model a = Model.builtin("tiny-mlp", 1, Device.CPU); Model b = Model.builtin("tiny-mlp", 1, Device.CPU);
             Model c = Model.builtin("tiny-mlp", 2, Device.CPU)) {
            assertEquals(a.checksum(), b.checksum());
            assertArrayEquals(a.parameterValues(), b.parameterValues());
            assertNotEquals(a.checksum(), c.checksum());
            assertTrue(a.checksum().matches("[0-9a-f]{64}"), a.checksum());
            float[] v = a.parameterValues();
            v[0] += 0.25f;
            a.setParameterValues(v);
            assertArrayEquals(v, a.parameterValues());
            assertNotEquals(b.checksum(), a.checksum());
        }
    }

    @Test
    void selectionByPrefixGivesExactlyTheSelectedParameters() {
        try (Model m = Model.builtin("tiny-cnn", 5, Device.CPU); Arena arena = Arena.ofConfined()) {
            List<Model.Parameter> all = m.parameters();
            List<Model.Parameter> expectedAll = expected(TINY_CNN.keySet().stream().toList());
            assertEquals(expectedAll, all);
            assertEquals(77, m.parameterCount());
            float[] allValues = m.parameterValues();
            long[] shape = TestData.shape("tiny-cnn", 2);
            MemorySegment x = TestData.input(arena, shape, 6);
            float[][][] fullGrad = Gradients.dense(m, x, shape, null, OutputKind.PER_CLASS, GradStrategy.ITERATIVE, 3);

            for (String prefixes : List.of("fc.", "conv1.weight,fc.bias", "conv1.", "fc.bias")) {
                m.selectParameters(prefixes);
                List<String> names = new ArrayList<>();
                for (String n : TINY_CNN.keySet()) {
                    for (String p : prefixes.split(",")) if (n.startsWith(p)) { names.add(n); break; }
                }
                List<Model.Parameter> want = expected(names);
                assertEquals(want, m.parameters(), prefixes);
                long p = want.stream().mapToLong(Model.Parameter::numel).sum();
                assertEquals(p, m.parameterCount(), prefixes);

                // Values and gradients of the selection are the matching slices of the full vectors.
                float[] values = m.parameterValues();
                float[][][] grad = Gradients.dense(m, x, shape, null, OutputKind.PER_CLASS, GradStrategy.ITERATIVE, 3);
                for (Model.Parameter sel : want) {
                    long fullOffset = expectedAll.stream().filter(q -> q.name().equals(sel.name())).findFirst().orElseThrow().offset();
                    for (int j = 0; j < sel.numel(); j++) {
                        assertEquals(allValues[(int) (fullOffset + j)], values[(int) (sel.offset() + j)], prefixes);
                        for (int c = 0; c < 3; c++) {
                            for (int b = 0; b < 2; b++) {
                                assertEquals(fullGrad[c][b][(int) (fullOffset + j)], grad[c][b][(int) (sel.offset() + j)],
                                        1e-6f * (1 + Math.abs(fullGrad[c][b][(int) (fullOffset + j)])), prefixes + " " + sel.name());
                            }
                        }
                    }
                }
            }
            m.selectParameters(null);
            assertEquals(expectedAll, m.parameters());
            m.selectParameters("fc.");
            m.selectParameters("");
            assertEquals(77, m.parameterCount());
        }
    }

    private static List<Model.Parameter> expected(List<String> names) {
        List<Model.Parameter> out = new ArrayList<>();
        long offset = 0;
        for (String n : names) {
            out.add(new Model.Parameter(n, TINY_CNN.get(n), offset));
            offset += TINY_CNN.get(n);
        }
        return out;
    }
}
