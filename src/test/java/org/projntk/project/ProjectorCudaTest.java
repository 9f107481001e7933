package org.projntk.project;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/** CUDA projectors against CPU ones. Runs only on the GPU machine (mvn -Pgpu test). */
@Tag("gpu")
class ProjectorCudaTest {
    private static final ProjectorKind[] KINDS = {ProjectorKind.RADEMACHER, ProjectorKind.GAUSSIAN, ProjectorKind.SJLT};

    private static ProjectorSpec spec(ProjectorKind kind, long p, int k, boolean unscaled, boolean strict, Device device) {
        return new ProjectorSpec(kind, p, k, 1234, 3, 4, unscaled, true, strict, device);
    }

    private static float[][] rows(int b, int p, long seed, boolean integers) {
        Random r = new Random(seed);
        float[][] x = new float[b][p];
        for (float[] row : x) for (int j = 0; j < p; j++) row[j] = integers ? r.nextInt(17) - 8 : (float) r.nextGaussian();
        return x;
    }

    private static double relDiff(float[] a, float[] b) {
        double d = 0, n = 0;
        for (int i = 0; i < a.length; i++) {
            d += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
            n += (double) b[i] * b[i];
        }
        return Math.sqrt(d / n);
    }

    /**
     * The GPU's R itself, read back by projecting identity rows in strict fp32 (out = fma(1, r, 0) plus exact zeros),
     * against the CPU's entries: Rademacher bit for bit, Gaussian within 1 ulp (both use philox.h without libm).
     */
    @Test
    void gpuEntriesEqualCpuEntries() {
        int n = 300, k = 515;
        float[][] eye = new float[n][n];
        for (int i = 0; i < n; i++) eye[i][i] = 1f;
        for (ProjectorKind kind : new ProjectorKind[] {ProjectorKind.RADEMACHER, ProjectorKind.GAUSSIAN}) {
            ProjectorSpec cpu = spec(kind, n, k, false, false, Device.CPU);
            try (Projector a = new Projector(cpu); Projector g = new Projector(spec(kind, n, k, false, true, Device.CUDA))) {
                float[][] r = g.project(eye);
                for (int p = 0; p < n; p++) {
                    for (int c = 0; c < k; c++) {
                        float want = a.entry(p, c);
                        float tol = kind == ProjectorKind.RADEMACHER ? 0f : Math.ulp(want);
                        assertEquals(want, r[p][c], tol, kind + " R[" + p + "," + c + "]");
                    }
                }
            }
        }
    }

    /** A row's features are the same bits whether it is projected in batches of 7, 32 or 128. */
    @Test
    void featuresDoNotDependOnBatchSize() {
        int p = 40_000, k = 1000, n = 128;
        float[][] x = rows(n, p, 5, false);
        for (ProjectorKind kind : KINDS) {
            for (boolean strict : new boolean[] {false, true}) {
                try (Projector g = new Projector(spec(kind, p, k, false, strict, Device.CUDA))) {
                    float[][] whole = g.project(x);
                    for (int batch : new int[] {7, 32}) {
                        for (int b0 = 0; b0 < n; b0 += batch) {
                            float[][] part = g.project(java.util.Arrays.copyOfRange(x, b0, Math.min(n, b0 + batch)));
                            for (int i = 0; i < part.length; i++) {
                                assertArrayEquals(whole[b0 + i], part[i],
                                        kind + " strict=" + strict + " batch " + batch + " row " + (b0 + i));
                            }
                        }
                    }
                }
            }
        }
    }

    /** ±1 entries times small integers sum exactly even in TF32, so the CUDA result must equal the CPU one bit for bit. */
    @Test
    void unscaledRademacherOnIntegersIsBitEqual() {
        int p = 5000, k = 300;
        float[][] x = rows(7, p, 2, true);
        ProjectorSpec cpu = spec(ProjectorKind.RADEMACHER, p, k, true, false, Device.CPU);
        try (Projector a = new Projector(cpu); Projector g = new Projector(cpu.withDevice(Device.CUDA))) {
            float[][] ya = a.project(x), yg = g.project(x);
            for (int b = 0; b < x.length; b++) assertArrayEquals(ya[b], yg[b], "row " + b);
        }
    }

    @Test
    void defaultModeIsWithinTf32AndStrictWithinFp32() {
        int p = 20_000, k = 512;
        float[][] x = rows(9, p, 3, false);
        for (ProjectorKind kind : KINDS) {
            for (boolean unscaled : new boolean[] {false, true}) {
                ProjectorSpec cpu = spec(kind, p, k, unscaled, false, Device.CPU);
                float[][] ref;
                try (Projector a = new Projector(cpu)) {
                    ref = a.project(x);
                }
                for (boolean strict : new boolean[] {false, true}) {
                    try (Projector g = new Projector(spec(kind, p, k, unscaled, strict, Device.CUDA))) {
                        float[][] y = g.project(x);
                        double tol = strict ? 1e-5 : 1e-3;
                        for (int b = 0; b < x.length; b++) {
                            double rel = relDiff(y[b], ref[b]);
                            assertTrue(rel <= tol, kind + " unscaled=" + unscaled + " strict=" + strict + " row " + b + ": " + rel);
                        }
                    }
                }
            }
        }
    }

    @Test
    void fusedPathOnCudaMatchesCpu() {
        int batch = 8, k = 256;
        long[] shape = {batch, 1, 28, 28};
        Random r = new Random(4);
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) labels[i] = r.nextInt(10);
        try (Arena arena = Arena.ofConfined();
             Model cpuModel = Model.builtin("cnn-fmnist", 5, Device.CPU);
             Model gpuModel = Model.builtin("cnn-fmnist", 5, Device.CUDA)) {
            assertEquals(cpuModel.checksum(), gpuModel.checksum());
            MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, (long) batch * 784);
            for (long i = 0; i < batch * 784L; i++) x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
            long p = cpuModel.parameterCount();
            for (OutputKind output : new OutputKind[] {OutputKind.PNTK, OutputKind.PER_CLASS, OutputKind.MARGIN}) {
                for (ProjectorKind kind : KINDS) {
                    int outputs = output == OutputKind.PER_CLASS ? 10 : 1;
                    long n = (long) outputs * batch * k;
                    MemorySegment want = arena.allocate(ValueLayout.JAVA_FLOAT, n);
                    try (Projector a = new Projector(spec(kind, p, k, false, false, Device.CPU))) {
                        a.projectGradients(cpuModel, x, shape, labels, output, GradStrategy.AUTO, 0, want);
                    }
                    for (boolean strict : new boolean[] {false, true}) {
                        MemorySegment got = arena.allocate(ValueLayout.JAVA_FLOAT, n);
                        try (Projector g = new Projector(spec(kind, p, k, false, strict, Device.CUDA))) {
                            assertEquals(outputs, g.projectGradients(gpuModel, x, shape, labels, output, GradStrategy.AUTO, 0, got));
                        }
                        // Gradients themselves differ slightly between cuDNN and CPU kernels, hence 1e-4 even when strict.
                        double tol = strict ? 1e-4 : 1e-3;
                        for (int row = 0; row < outputs * batch; row++) {
                            float[] a = want.asSlice((long) row * k * 4, k * 4L).toArray(ValueLayout.JAVA_FLOAT);
                            float[] b = got.asSlice((long) row * k * 4, k * 4L).toArray(ValueLayout.JAVA_FLOAT);
                            double rel = relDiff(b, a);
                            assertTrue(rel <= tol, output + " " + kind + " strict=" + strict + " row " + row + ": " + rel);
                        }
                    }
                }
            }
        }
    }
}
