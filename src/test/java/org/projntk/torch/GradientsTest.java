package org.projntk.torch;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Per-example gradients through the Java API: strategies agree, outputs relate as defined, finite differences. */
class GradientsTest {
    static final long[] LABELS = {2, 0, 1, 2, 1, 0, 9, 3};

    private static int classes(String name) {
        return name.equals("cnn-fmnist") ? 10 : 3;
    }

    private static long[] labels(int batch) {
        return java.util.Arrays.copyOf(LABELS, batch);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-mlp", "cnn-fmnist"})
    void functionalAndIterativeAgreeForEveryOutput(String name) {
        int batch = name.equals("cnn-fmnist") ? 3 : 5;
        long[] shape = TestData.shape(name, batch);
        long[] labels = labels(batch);
        for (int i = 0; i < batch; i++) labels[i] %= classes(name);
        try (Model m = Model.builtin(name, 21, Device.CPU); Arena arena = Arena.ofConfined()) {
            MemorySegment x = TestData.input(arena, shape, 22);
            for (OutputKind kind : OutputKind.values()) {
                float[][][] f = Gradients.dense(m, x, shape, labels, kind, GradStrategy.FUNCTIONAL, classes(name));
                float[][][] it = Gradients.dense(m, x, shape, labels, kind, GradStrategy.ITERATIVE, classes(name));
                assertEquals(kind == OutputKind.PER_CLASS ? classes(name) : 1, f.length);
                for (int o = 0; o < f.length; o++) {
                    for (int b = 0; b < batch; b++) {
                        assertTrue(TestData.norm(it[o][b]) > 0, kind + " gradient is zero");
                        double rel = TestData.relDiff(f[o][b], it[o][b]);
                        assertTrue(rel <= 1e-5, name + " " + kind + " output " + o + " example " + b + ": rel diff " + rel);
                    }
                }
            }
        }
    }

    @Test
    void perClassRowsSumToPntkAndScaledIsPntkOverSqrtC() {
        for (String name : new String[] {"tiny-mlp", "tiny-cnn"}) {
            int batch = 4, c = classes(name);
            long[] shape = TestData.shape(name, batch);
            try (Model m = Model.builtin(name, 31, Device.CPU); Arena arena = Arena.ofConfined()) {
                MemorySegment x = TestData.input(arena, shape, 32);
                float[][] pntk = Gradients.dense(m, x, shape, null, OutputKind.PNTK, GradStrategy.AUTO, c)[0];
                float[][] scaled = Gradients.dense(m, x, shape, null, OutputKind.PNTK_SCALED, GradStrategy.AUTO, c)[0];
                float[][][] perClass = Gradients.dense(m, x, shape, null, OutputKind.PER_CLASS, GradStrategy.AUTO, c);
                for (int b = 0; b < batch; b++) {
                    float[] sum = new float[pntk[b].length];
                    float[] pntkOverSqrtC = new float[pntk[b].length];
                    for (int j = 0; j < sum.length; j++) {
                        double s = 0;
                        for (int k = 0; k < c; k++) s += perClass[k][b][j];
                        sum[j] = (float) s;
                        pntkOverSqrtC[j] = (float) (pntk[b][j] / Math.sqrt(c));
                    }
                    assertTrue(TestData.relDiff(sum, pntk[b]) <= 1e-5, name + " example " + b);
                    assertTrue(TestData.relDiff(scaled[b], pntkOverSqrtC) <= 1e-6, name + " example " + b);
                }
            }
        }
    }

    @Test
    void blocksTileTheGradientExactlyOnceAndBlockSizeDoesNotMatter() {
        int batch = 6;
        long[] shape = TestData.shape("tiny-cnn", batch);
        try (Model m = Model.builtin("tiny-cnn", 41, Device.CPU); Arena arena = Arena.ofConfined()) {
            MemorySegment x = TestData.input(arena, shape, 42);
            int p = (int) m.parameterCount();
            float[][][] reference = Gradients.dense(m, x, shape, null, OutputKind.PER_CLASS, GradStrategy.AUTO, 3);
            for (long maxBytes : new long[] {1, 4L * 77, 1 << 20}) {
                int[][][] seen = new int[3][batch][p];
                float[][][] got = new float[3][batch][p];
                Gradients.compute(m, x, shape, null, OutputKind.PER_CLASS, GradStrategy.AUTO, maxBytes, true,
                        (o, row, rows, off, cols, block) -> {
                            assertEquals((long) rows * cols * 4, block.byteSize());
                            for (int r = 0; r < rows; r++) {
                                for (int j = 0; j < cols; j++) {
                                    seen[o][(int) row + r][(int) off + j]++;
                                    got[o][(int) row + r][(int) off + j] = block.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * cols + j);
                                }
                            }
                        });
                for (int o = 0; o < 3; o++) {
                    for (int b = 0; b < batch; b++) {
                        for (int j = 0; j < p; j++) assertEquals(1, seen[o][b][j], "coverage at " + o + "," + b + "," + j);
                        assertTrue(TestData.relDiff(got[o][b], reference[o][b]) <= 1e-6, "maxBlockBytes " + maxBytes);
                    }
                }
            }
        }
    }

    @Test
    void aThrowingConsumerAbortsAndItsExceptionPropagates() {
        long[] shape = TestData.shape("tiny-cnn", 4);
        try (Model m = Model.builtin("tiny-cnn", 51, Device.CPU); Arena arena = Arena.ofConfined()) {
            MemorySegment x = TestData.input(arena, shape, 52);
            for (GradStrategy strategy : GradStrategy.values()) {
                AtomicInteger calls = new AtomicInteger();
                IllegalStateException boom = new IllegalStateException("consumer says stop");
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> Gradients.compute(m, x, shape, null,
                        OutputKind.PER_CLASS, strategy, 0, true, (o, r, n, p, c, b) -> {
                            calls.incrementAndGet();
                            throw boom;
                        }));
                assertSame(boom, e);
                assertEquals(1, calls.get(), "no block after the consumer failed (" + strategy + ")");
                AssertionError err = assertThrows(AssertionError.class, () -> Gradients.compute(m, x, shape, null,
                        OutputKind.PNTK, strategy, 0, true, (o, r, n, p, c, b) -> { throw new AssertionError("an Error too"); }));
                assertEquals("an Error too", err.getMessage());
            }
            // The model is still usable afterwards.
            float[][][] g = Gradients.dense(m, x, shape, null, OutputKind.PNTK, GradStrategy.AUTO, 3);
            assertTrue(TestData.norm(g[0][3]) > 0);
        }
    }

    /**
     * Gradients against central finite differences of the forward output, all computed from Java through
     * setParameterValues. Forward is float32, so h = 1e-2 and a 2e-2 relative tolerance (plus 1e-3 absolute for
     * near-zero coordinates); the exact float64 check is in native/tests.
     */
    @Test
    void tinyMlpGradientMatchesFiniteDifferences() {
        int batch = 3, c = 3;
        long[] shape = TestData.shape("tiny-mlp", batch);
        long[] labels = {2, 0, 1};
        double h = 1e-2;
        try (Model m = Model.builtin("tiny-mlp", 61, Device.CPU); Arena arena = Arena.ofConfined()) {
            MemorySegment x = TestData.input(arena, shape, 62);
            float[] theta = m.parameterValues();
            int p = theta.length;
            float[][][] perClass = Gradients.dense(m, x, shape, null, OutputKind.PER_CLASS, GradStrategy.AUTO, c);
            float[][] pntk = Gradients.dense(m, x, shape, null, OutputKind.PNTK, GradStrategy.AUTO, c)[0];
            float[][] margin = Gradients.dense(m, x, shape, labels, OutputKind.MARGIN, GradStrategy.AUTO, c)[0];
            int wellConditioned = 0;
            for (int j = 0; j < p; j++) {
                float[] plus = theta.clone(), minus = theta.clone();
                plus[j] += (float) h;
                minus[j] -= (float) h;
                double step = (double) plus[j] - minus[j]; // the step actually taken in float32
                m.setParameterValues(plus);
                float[][] yp = m.forward(x, shape);
                m.setParameterValues(minus);
                float[][] ym = m.forward(x, shape);
                for (int b = 0; b < batch; b++) {
                    double sumFd = 0;
                    for (int k = 0; k < c; k++) {
                        double fd = ((double) yp[b][k] - ym[b][k]) / step;
                        sumFd += fd;
                        wellConditioned += check(fd, perClass[k][b][j], "d f_" + k + " / d theta_" + j + " example " + b);
                    }
                    wellConditioned += check(sumFd, pntk[b][j], "pntk theta_" + j + " example " + b);
                    double fdMargin = (margin(yp[b], (int) labels[b]) - margin(ym[b], (int) labels[b])) / step;
                    wellConditioned += check(fdMargin, margin[b][j], "margin theta_" + j + " example " + b);
                }
            }
            m.setParameterValues(theta);
            assertTrue(wellConditioned > p * batch, "too few well-conditioned coordinates: " + wellConditioned);
        }
    }

    /** Returns 1 if |g| is large enough for the relative check to bite. */
    private static int check(double fd, float g, String what) {
        assertTrue(Math.abs(fd - g) <= 2e-2 * Math.abs(g) + 1e-3, what + ": analytic " + g + " vs finite difference " + fd);
        return Math.abs(g) >= 0.05 ? 1 : 0;
    }

    /** log(p_y / (1 - p_y)) from logits, in double. */
    static double margin(float[] logits, int y) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < logits.length; k++) if (k != y) max = Math.max(max, logits[k]);
        double s = 0;
        for (int k = 0; k < logits.length; k++) if (k != y) s += Math.exp(logits[k] - max);
        return logits[y] - (max + Math.log(s));
    }
}
