package org.projntk.baseline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.projntk.GemmPrecision;
import org.projntk.internal.Cuda;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;

/** The cuRAND + cuBLAS projector on a real GPU, against fp64 host references that use the same (copied back) R. */
@Tag("gpu")
class CurandProjectorGpuTest {
    @BeforeEach
    void needsCuda() {
        assertTrue(Cuda.available(), "gpu-tagged tests need CUDA: " + Cuda.unavailableReason());
    }

    private static MemorySegment gaussian(Arena arena, long n, long seed) {
        Random r = new Random(seed);
        MemorySegment s = arena.allocate(n * Float.BYTES, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
        return s;
    }

    /** All of R, row-major [P x K], as the projector uses it. */
    private static float[] wholeR(CurandProjector proj, Arena arena) {
        float[] r = new float[Math.toIntExact(proj.P() * proj.K())];
        MemorySegment tile = arena.allocate((long) proj.tileRows() * proj.K() * Float.BYTES);
        for (long j = 0; j < proj.tileCount(); j++) {
            int t = proj.rowsOfTile(j);
            proj.copyTile(j, tile);
            MemorySegment.copy(tile, ValueLayout.JAVA_FLOAT, 0, r, (int) (j * proj.tileRows() * proj.K()), t * proj.K());
        }
        return r;
    }

    /** out must equal x·R (fp64, naive) within tol·|x_b|·|R_:k| per entry. */
    private static void assertMatchesHost(MemorySegment x, int batch, long P, int K, float[] r, MemorySegment out, double tol) {
        double[] colNorm = new double[K];
        for (int p = 0; p < P; p++) {
            for (int k = 0; k < K; k++) colNorm[k] += (double) r[p * K + k] * r[p * K + k];
        }
        for (int b = 0; b < batch; b++) {
            double[] exp = new double[K];
            double xNorm = 0;
            for (int p = 0; p < P; p++) {
                double xv = x.getAtIndex(ValueLayout.JAVA_FLOAT, (long) b * P + p);
                xNorm += xv * xv;
                for (int k = 0; k < K; k++) exp[k] += xv * r[p * K + k];
            }
            for (int k = 0; k < K; k++) {
                double got = out.getAtIndex(ValueLayout.JAVA_FLOAT, (long) b * K + k);
                double bound = tol * Math.sqrt(xNorm * colNorm[k]) + 1e-7;
                assertTrue(Math.abs(got - exp[k]) <= bound, "out[" + b + "," + k + "] = " + got + ", host " + exp[k] + ", bound " + bound);
            }
        }
    }

    private static void matchesHost(GemmPrecision precision, double tol) {
        long P = 2500; // tiles of 999, 999 and 502 rows: T*K = 256743 is odd (rounded up to even), 502*257 is not
        int K = 257;
        int batch = 7;
        try (Arena arena = Arena.ofConfined();
             CurandProjector proj = new CurandProjector(P, K, 42, false, precision, 999)) {
            assertEquals(999, proj.tileRows());
            assertEquals(3, proj.tileCount());
            assertEquals(P - 2 * 999, proj.rowsOfTile(2));
            MemorySegment x = gaussian(arena, batch * P, 1);
            MemorySegment out = arena.allocate((long) batch * K * Float.BYTES);
            proj.project(x, batch, out);
            float[] r = wholeR(proj, arena);
            assertMatchesHost(x, batch, P, K, r, out, tol);

            // the device-resident path gives the same numbers
            try (Cuda.DeviceBuffer dx = Cuda.allocateFloats(batch * P); Cuda.DeviceBuffer dout = Cuda.allocateFloats((long) batch * K)) {
                dx.copyFromHost(x.asSlice(0, batch * P * Float.BYTES), 0);
                proj.projectOnDevice(dx, batch, dout);
                MemorySegment out2 = arena.allocate((long) batch * K * Float.BYTES);
                dout.copyToHost(0, out2);
                assertMatchesHost(x, batch, P, K, r, out2, tol);
            }
        }
    }

    @Test
    void fp32MatchesHostProductWithTheSameR() {
        matchesHost(GemmPrecision.FP32, 1e-5);
    }

    @Test
    void tf32MatchesHostProductWithTheSameR() {
        matchesHost(GemmPrecision.TF32, 1e-3);
    }

    @Test
    void deterministicForAFixedSeedAndIndependentOfBatching() {
        long P = 5000;
        int K = 128;
        int batch = 6;
        try (Arena arena = Arena.ofConfined();
             CurandProjector a = new CurandProjector(P, K, 7, false, GemmPrecision.FP32, 2048);
             CurandProjector b = new CurandProjector(P, K, 7, false, GemmPrecision.FP32, 2048);
             CurandProjector c = new CurandProjector(P, K, 8, false, GemmPrecision.FP32, 2048)) {
            MemorySegment x = gaussian(arena, batch * P, 3);
            float[] outA = project(a, x, batch, arena);
            float[] outB = project(b, x, batch, arena);
            float[] outA2 = project(a, x, batch, arena);
            assertArrayEquals(outA, outB, "same seed, fresh projector");
            assertArrayEquals(outA, outA2, "same projector, second call");
            float[] outC = project(c, x, batch, arena);
            assertFalse(java.util.Arrays.equals(outA, outC), "another seed must give another R");
            // tiles reproduce whatever order they are read in
            MemorySegment t1 = arena.allocate((long) a.tileRows() * K * Float.BYTES);
            MemorySegment t2 = arena.allocate((long) a.tileRows() * K * Float.BYTES);
            a.copyTile(2, t1);
            b.copyTile(0, t2);
            b.copyTile(2, t2);
            long tileBytes = (long) a.rowsOfTile(2) * K * Float.BYTES; // the last tile is partial
            assertEquals(-1, t1.asSlice(0, tileBytes).mismatch(t2.asSlice(0, tileBytes)));
            // one row at a time gives the same rows (up to GEMM rounding for another shape)
            for (int i = 0; i < batch; i++) {
                float[] row = project(b, x.asSlice(i * P * Float.BYTES, P * Float.BYTES), 1, arena);
                for (int k = 0; k < K; k++) {
                    assertEquals(outA[i * K + k], row[k], 1e-4 * (1 + Math.abs(outA[i * K + k])), "row " + i + " k " + k);
                }
            }
        }
    }

    private static float[] project(CurandProjector p, MemorySegment x, int batch, Arena arena) {
        MemorySegment out = arena.allocate((long) batch * p.K() * Float.BYTES);
        p.project(x, batch, out);
        return out.toArray(ValueLayout.JAVA_FLOAT);
    }

    @Test
    void preservesNormsAndInnerProducts() {
        long P = 200_000;
        int K = 2048;
        int batch = 16;
        try (Arena arena = Arena.ofConfined();
             CurandProjector proj = new CurandProjector(P, K, 2024, false, GemmPrecision.FP32, CurandProjector.DEFAULT_TILE_ROWS);
             CurandProjector raw = new CurandProjector(P, K, 2024, true, GemmPrecision.FP32, CurandProjector.DEFAULT_TILE_ROWS)) {
            MemorySegment x = gaussian(arena, batch * P, 11);
            float[] y = project(proj, x, batch, arena);
            float[] yRaw = project(raw, x, batch, arena);
            double meanRatio = 0;
            double sigma = Math.sqrt(2.0 / K); // ‖Rx‖²/‖x‖² ~ χ²_K / K
            for (int b = 0; b < batch; b++) {
                double xx = 0;
                for (long p = 0; p < P; p++) {
                    double v = x.getAtIndex(ValueLayout.JAVA_FLOAT, b * P + p);
                    xx += v * v;
                }
                double yy = 0;
                double yyRaw = 0;
                for (int k = 0; k < K; k++) {
                    yy += (double) y[b * K + k] * y[b * K + k];
                    yyRaw += (double) yRaw[b * K + k] * yRaw[b * K + k];
                }
                double ratio = yy / xx;
                assertTrue(Math.abs(ratio - 1) < 6 * sigma, "row " + b + ": |Rx|²/|x|² = " + ratio);
                // the unscaled R is the scaled one times √K
                assertEquals(ratio * K, yyRaw / xx, 1e-3 * ratio * K, "unscaled row " + b);
                meanRatio += ratio / batch;
            }
            assertTrue(Math.abs(meanRatio - 1) < 6 * sigma / Math.sqrt(batch), "mean ratio " + meanRatio);
            // ⟨Rx, Rz⟩ ≈ ⟨x, z⟩ ≈ 0 for independent rows, with spread |x||z|/√K
            for (int b = 1; b < batch; b++) {
                double dotY = 0;
                for (int k = 0; k < K; k++) dotY += (double) y[k] * y[b * K + k];
                double dotX = 0;
                double n0 = 0;
                double nb = 0;
                for (long p = 0; p < P; p++) {
                    double u = x.getAtIndex(ValueLayout.JAVA_FLOAT, p);
                    double v = x.getAtIndex(ValueLayout.JAVA_FLOAT, b * P + p);
                    dotX += u * v;
                    n0 += u * u;
                    nb += v * v;
                }
                assertTrue(Math.abs(dotY - dotX) < 6 * Math.sqrt(n0 * nb / K), "row 0 vs " + b + ": " + dotY + " vs " + dotX);
            }
        }
    }

    @Test
    void entriesAreNormalWithVarianceOneOverK() {
        int K = 512;
        try (Arena arena = Arena.ofConfined();
             CurandProjector proj = new CurandProjector(4096, K, 5, false, GemmPrecision.FP32, 4096)) {
            MemorySegment tile = arena.allocate(4096L * K * Float.BYTES);
            proj.copyTile(0, tile);
            long n = 4096L * K;
            double sum = 0;
            double sq = 0;
            for (long i = 0; i < n; i++) {
                double v = tile.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                sum += v;
                sq += v * v;
            }
            double mean = sum / n;
            double var = sq / n - mean * mean;
            assertTrue(Math.abs(mean) < 6 / Math.sqrt(n * K), "mean " + mean);
            assertEquals(1.0, var * K, 6 * Math.sqrt(2.0 / n), "variance x K");
        }
    }

    @Test
    void badInputAndUseAfterClose() {
        CurandProjector proj = new CurandProjector(100, 8, 1, false, GemmPrecision.FP32, 64);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(2 * 100 * Float.BYTES);
            MemorySegment small = arena.allocate(8 * Float.BYTES);
            assertThrows(IllegalArgumentException.class, () -> proj.project(x, 3, arena.allocate(3 * 8 * Float.BYTES)));
            assertThrows(IllegalArgumentException.class, () -> proj.project(x, 2, small));
            assertThrows(IllegalArgumentException.class, () -> proj.copyTile(0, small));
            assertThrows(IndexOutOfBoundsException.class, () -> proj.copyTile(2, arena.allocate(64 * 8 * Float.BYTES)));
            proj.close();
            proj.close();
            assertThrows(IllegalStateException.class, () -> proj.project(x, 2, arena.allocate(2 * 8 * Float.BYTES)));
        }
        assertThrows(IllegalArgumentException.class, () -> new CurandProjector(ProjectorSpec.of(ProjectorKind.GAUSSIAN, 10, 4, 1)));
        Cuda.DeviceBuffer buf = Cuda.allocate(64);
        buf.close();
        buf.close();
        assertThrows(IllegalStateException.class, () -> buf.zero());
    }
}
