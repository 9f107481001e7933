package org.projntk.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.projntk.GemmPrecision;
import org.projntk.internal.Cuda;

/** GpuGram against the CPU {@link Gram} (OpenBLAS or Java loops) and fp64 loops, on a real GPU. */
@Tag("gpu")
class GpuGramGpuTest {
    @BeforeEach
    void needsCuda() {
        assertTrue(Cuda.available(), "gpu-tagged tests need CUDA: " + Cuda.unavailableReason());
    }

    private static List<FeatureMatrix> classes(Random r, int count, int n, int d) {
        List<FeatureMatrix> out = new ArrayList<>();
        for (int c = 0; c < count; c++) {
            float[][] a = new float[n][d];
            for (float[] row : a) {
                for (int j = 0; j < d; j++) row[j] = (float) r.nextGaussian();
            }
            out.add(ArrayFeatureMatrix.of(a));
        }
        return out;
    }

    private record Run(KernelMatrix matrix, Gram.Result result, List<long[]> tiles) {}

    private static Run cpu(List<FeatureMatrix> a, List<FeatureMatrix> b, Gram.Options opt) {
        return collect(a, b, opt, null);
    }

    private static Run collect(List<FeatureMatrix> a, List<FeatureMatrix> b, Gram.Options opt, GpuGram gpu) {
        int per = opt.kernel() == KernelKind.ENTK ? a.size() : 1;
        KernelMatrix m = KernelMatrix.allocate((int) a.get(0).rows() * per, (int) b.get(0).rows() * per);
        List<long[]> tiles = new ArrayList<>();
        TileSink copy = Gram.copyInto(m);
        TileSink sink = (r0, c0, tr, tc, tile) -> {
            tiles.add(new long[] {r0, c0, tr, tc});
            copy.accept(r0, c0, tr, tc, tile);
        };
        Gram.Result res = gpu == null ? Gram.compute(a, b, opt, sink) : gpu.compute(a, b, opt, sink);
        return new Run(m, res, tiles);
    }

    private static void compareWithCpu(GemmPrecision precision, double tol) {
        Random r = new Random(99);
        try (GpuGram gpu = new GpuGram(precision)) {
            for (KernelKind kind : KernelKind.values()) {
                int classes = kind == KernelKind.PNTK ? 1 : 3;
                List<FeatureMatrix> a = classes(r, classes, 70, 96);
                List<FeatureMatrix> b = classes(r, classes, 53, 96);
                for (KernelNormalization norm : KernelNormalization.values()) {
                    for (boolean self : new boolean[] {false, true}) {
                        List<FeatureMatrix> cols = self ? a : b;
                        Gram.Options opt = Gram.Options.builder().kernel(kind).normalization(norm).tiles(32, 16).build();
                        Run want = cpu(a, cols, opt);
                        Run got = collect(a, cols, opt, gpu);
                        String what = precision + " " + kind + " " + norm + (self ? " self" : "");
                        assertEquals(want.tiles().size(), got.tiles().size(), what);
                        for (int i = 0; i < want.tiles().size(); i++) {
                            assertEquals(List.of(want.tiles().get(i)[0], want.tiles().get(i)[1], want.tiles().get(i)[2], want.tiles().get(i)[3]),
                                    List.of(got.tiles().get(i)[0], got.tiles().get(i)[1], got.tiles().get(i)[2], got.tiles().get(i)[3]),
                                    what + " tile " + i);
                        }
                        assertEquals(want.result().rows(), got.result().rows(), what);
                        assertEquals(want.result().cols(), got.result().cols(), what);
                        assertEquals(want.result().scale(), got.result().scale(), 10 * tol * want.result().scale(), what);
                        double[] rd = Gram.selfKernel(a, kind);
                        double[] cd = Gram.selfKernel(cols, kind);
                        KernelMatrix w = want.matrix();
                        KernelMatrix g = got.matrix();
                        for (int i = 0; i < w.rows(); i++) {
                            for (int j = 0; j < w.cols(); j++) {
                                // |K_ij| <= sqrt(K_ii K_jj): the error scale of each entry
                                double bound = norm == KernelNormalization.COSINE ? 2 * tol
                                        : 2 * tol * Math.sqrt(rd[i] * cd[j]) / want.result().scale();
                                assertTrue(Math.abs(w.get(i, j) - g.get(i, j)) <= bound,
                                        what + " (" + i + "," + j + "): cpu " + w.get(i, j) + " gpu " + g.get(i, j) + " bound " + bound);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void fp32EqualsCpuGram() {
        compareWithCpu(GemmPrecision.FP32, 1e-5);
    }

    @Test
    void tf32EqualsCpuGram() {
        compareWithCpu(GemmPrecision.TF32, 1e-3);
    }

    @Test
    void productMatchesFp64Loops() {
        int m = 67;
        int n = 129;
        int d = 1000;
        Random r = new Random(4);
        try (Arena arena = Arena.ofConfined(); GpuGram fp32 = new GpuGram(GemmPrecision.FP32); GpuGram tf32 = new GpuGram(GemmPrecision.TF32)) {
            MemorySegment a = arena.allocate((long) m * d * Float.BYTES);
            MemorySegment b = arena.allocate((long) n * d * Float.BYTES);
            for (long i = 0; i < (long) m * d; i++) a.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
            for (long i = 0; i < (long) n * d; i++) b.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
            MemorySegment c32 = arena.allocate((long) m * n * Float.BYTES);
            MemorySegment ctf = arena.allocate((long) m * n * Float.BYTES);
            fp32.product(a, m, b, n, d, c32);
            tf32.product(a, m, b, n, d, ctf);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    double na = 0;
                    double nb = 0;
                    for (int k = 0; k < d; k++) {
                        double x = a.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * d + k);
                        double y = b.getAtIndex(ValueLayout.JAVA_FLOAT, (long) j * d + k);
                        s += x * y;
                        na += x * x;
                        nb += y * y;
                    }
                    double scale = Math.sqrt(na * nb);
                    assertEquals(s, c32.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * n + j), 1e-5 * scale, "fp32 (" + i + "," + j + ")");
                    assertEquals(s, ctf.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * n + j), 1e-3 * scale, "tf32 (" + i + "," + j + ")");
                }
            }
        }
    }

    @Test
    void nonFiniteFeaturesAndUseAfterClose() {
        float[][] bad = {{1, 2}, {Float.NaN, 0}};
        GpuGram gpu = new GpuGram(GemmPrecision.FP32);
        List<FeatureMatrix> op = List.of(ArrayFeatureMatrix.of(bad));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gpu.computeMatrix(op, op, Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE)));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> gpu.computeMatrix(List.of(ArrayFeatureMatrix.of(new float[][] {{1, 2}})),
                List.of(ArrayFeatureMatrix.of(new float[][] {{1, 2, 3}})), Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE)));
        gpu.close();
        gpu.close();
        assertThrows(IllegalStateException.class, () -> gpu.computeMatrix(op, op, Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE)));
    }
}
