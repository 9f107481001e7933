package org.projntk.project;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.projntk.ProjntkException;
import org.projntk.torch.Device;
import org.projntk.torch.Runtime;

/** The native projector against the scalar Java reference (docs/projection.md). */
class ProjectorTest {
    private static final ProjectorKind[] DENSE_AND_SPARSE = {ProjectorKind.RADEMACHER, ProjectorKind.GAUSSIAN, ProjectorKind.SJLT};

    static ProjectorSpec spec(ProjectorKind kind, long p, int k, long seed, long modelId, int s, boolean unscaled) {
        return new ProjectorSpec(kind, p, k, seed, modelId, s, unscaled, true, false, Device.CPU);
    }

    static ReferenceProjector reference(ProjectorSpec s) {
        return new ReferenceProjector(s.kind(), s.P(), s.K(), s.seed(), s.modelId(), s.sjltS(), s.unscaled());
    }

    /** (p, k) pairs: corners, Philox block boundaries, and random ones. */
    static List<long[]> sample(long p, int k, long seed) {
        List<long[]> out = new ArrayList<>();
        long[] ps = {0, 1, p / 2, p - 2, p - 1};
        int[] ks = {0, 1, 3, 4, 31, 32, 127, 128, 129, k - 1};
        for (long pp : ps) for (int kk : ks) if (pp >= 0 && pp < p && kk < k) out.add(new long[] {pp, kk});
        Random r = new Random(seed);
        for (int i = 0; i < 150; i++) out.add(new long[] {Math.floorMod(r.nextLong(), p), r.nextInt(k)});
        return out;
    }

    @Test
    void entriesEqualTheReferenceBitForBit() {
        long nearTop = (1L << 40) - 3;
        for (ProjectorKind kind : DENSE_AND_SPARSE) {
            for (boolean unscaled : new boolean[] {false, true}) {
                for (long p : new long[] {1000, nearTop, 1L << 40}) {
                    for (int k : new int[] {1, 7, 300}) {
                        for (int s : kind == ProjectorKind.SJLT ? new int[] {1, 3, 8} : new int[] {2}) {
                            ProjectorSpec sp = spec(kind, p, k, -123456789L, 0x1234_5678_9abcL, s, unscaled);
                            ReferenceProjector ref = reference(sp);
                            int nonzero = 0;
                            try (Projector native_ = new Projector(sp)) {
                                List<long[]> pairs = sample(p, k, p + k + s);
                                // SJLT rows are sparse: compare whole rows so that the nonzero positions are checked.
                                if (kind == ProjectorKind.SJLT) for (long row : new long[] {0, p / 3, p - 1}) for (int kk = 0; kk < k; kk++) pairs.add(new long[] {row, kk});
                                for (long[] pk : pairs) {
                                    float got = native_.entry(pk[0], (int) pk[1]);
                                    double want = ref.entry(pk[0], (int) pk[1]);
                                    assertEquals(want, (double) got, 0.0, sp + " R[" + pk[0] + "," + pk[1] + "]");
                                    if (got != 0) nonzero++;
                                }
                            }
                            assertTrue(nonzero > 0, "all sampled entries are zero for " + sp);
                        }
                    }
                }
            }
        }
        // The identity.
        try (Projector id = new Projector(ProjectorSpec.of(ProjectorKind.NONE, 50, 50, 9))) {
            ReferenceProjector ref = reference(id.spec());
            for (int p = 0; p < 50; p += 7) {
                for (int k = 0; k < 50; k += 3) assertEquals(ref.entry(p, k), (double) id.entry(p, k), 0.0);
                assertEquals(1.0f, id.entry(p, p));
            }
        }
    }

    @Test
    void entryIndicesOutOfRangeAreRejected() {
        try (Projector pr = new Projector(ProjectorSpec.of(ProjectorKind.RADEMACHER, 10, 4, 1))) {
            for (long[] pk : new long[][] {{10, 0}, {-1, 0}, {0, 4}, {0, -1}}) {
                ProjntkException e = assertThrows(ProjntkException.class, () -> pr.entry(pk[0], (int) pk[1]));
                assertEquals(ProjntkException.Status.INVALID_ARGUMENT, e.status());
            }
        }
    }

    static float[][] gaussianRows(int rows, int cols, long seed) {
        Random r = new Random(seed);
        float[][] x = new float[rows][cols];
        for (float[] row : x) for (int j = 0; j < cols; j++) row[j] = (float) r.nextGaussian();
        return x;
    }

    /** |got - ref| <= tol * sum_p |x_p R_pk| elementwise: a bound float accumulation must meet whatever the order. */
    static void assertProjectionClose(float[][] x, ReferenceProjector ref, double[][] want, float[][] got, double tol, String what) {
        long p = ref.inputDim();
        int k = ref.outputDim();
        double[][] abs = new double[x.length][k];
        for (int row = 0; row < p; row++) {
            for (int col = 0; col < k; col++) {
                double r = Math.abs(ref.entry(row, col));
                if (r == 0) continue;
                for (int b = 0; b < x.length; b++) abs[b][col] += Math.abs(x[b][row]) * r;
            }
        }
        for (int b = 0; b < x.length; b++) {
            for (int col = 0; col < k; col++) {
                double err = Math.abs(got[b][col] - want[b][col]);
                assertTrue(err <= tol * abs[b][col] + 1e-30, what + " [" + b + "," + col + "]: " + got[b][col] + " vs " + want[b][col]);
            }
        }
    }

    @Test
    void projectEqualsReference() {
        int p = 1500;
        float[][] x = gaussianRows(3, p, 77);
        for (ProjectorKind kind : DENSE_AND_SPARSE) {
            for (boolean unscaled : new boolean[] {false, true}) {
                for (int k : new int[] {1, 37, 260}) {
                    ProjectorSpec sp = spec(kind, p, k, 42, 7, 3, unscaled);
                    ReferenceProjector ref = reference(sp);
                    double[][] want = ref.project(x);
                    try (Projector pr = new Projector(sp)) {
                        assertProjectionClose(x, ref, want, pr.project(x), 1e-5, sp.toString());
                    }
                }
            }
        }
        try (Projector id = new Projector(ProjectorSpec.of(ProjectorKind.NONE, p, p, 1))) {
            float[][] y = id.project(x);
            for (int b = 0; b < x.length; b++) assertArrayEquals(x[b], y[b]);
        }
    }

    @Test
    void chunkedAccumulationEqualsWholeProjectionAndThreadsDoNotMatter() {
        int p = 1000, k = 64, batch = 4;
        float[][] x = gaussianRows(batch, p, 88);
        for (ProjectorKind kind : DENSE_AND_SPARSE) {
            ProjectorSpec sp = spec(kind, p, k, 5, 0, 2, false);
            try (Projector pr = new Projector(sp); Arena arena = Arena.ofConfined()) {
                float[][] whole = pr.project(x);
                MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT, (long) batch * k);
                int[] cuts = {0, 1, 130, 131, 600, p};
                for (int c = 0; c + 1 < cuts.length; c++) {
                    int cols = cuts[c + 1] - cuts[c];
                    MemorySegment block = arena.allocate(ValueLayout.JAVA_FLOAT, (long) batch * cols);
                    for (int b = 0; b < batch; b++) {
                        MemorySegment.copy(x[b], cuts[c], block, ValueLayout.JAVA_FLOAT, (long) b * cols * 4, cols);
                    }
                    pr.accumulate(block, batch, cols, cuts[c], out);
                }
                ReferenceProjector ref = reference(sp);
                float[][] chunked = new float[batch][k];
                for (int b = 0; b < batch; b++) MemorySegment.copy(out, ValueLayout.JAVA_FLOAT, (long) b * k * 4, chunked[b], 0, k);
                double[][] asDouble = new double[batch][k];
                for (int b = 0; b < batch; b++) for (int j = 0; j < k; j++) asDouble[b][j] = whole[b][j];
                assertProjectionClose(x, ref, asDouble, chunked, 1e-5, "chunked " + kind);

                var threads = java.util.regex.Pattern.compile("\"threads\":(\\d+)").matcher(Runtime.info());
                assertTrue(threads.find(), Runtime.info());
                int original = Integer.parseInt(threads.group(1));
                float[][] one, two;
                try {
                    Runtime.setThreads(1);
                    one = pr.project(x);
                    Runtime.setThreads(2);
                    two = pr.project(x);
                } finally {
                    Runtime.setThreads(original);
                }
                for (int b = 0; b < batch; b++) {
                    assertArrayEquals(one[b], two[b], "thread count changed the result of " + kind);
                    assertArrayEquals(whole[b], two[b], "repeat changed the result of " + kind);
                }
            }
        }
    }

    @Test
    void nonFiniteInputIsNonfiniteUnlessTheCheckIsOff() {
        float[][] x = gaussianRows(2, 20, 3);
        x[1][7] = Float.NaN;
        for (ProjectorKind kind : DENSE_AND_SPARSE) {
            ProjectorSpec sp = spec(kind, 20, 8, 1, 0, 2, false);
            try (Projector pr = new Projector(sp)) {
                ProjntkException e = assertThrows(ProjntkException.class, () -> pr.project(x));
                assertEquals(ProjntkException.Status.NONFINITE, e.status(), kind.toString());
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment block = arena.allocateFrom(ValueLayout.JAVA_FLOAT, new float[] {1, Float.POSITIVE_INFINITY});
                    e = assertThrows(ProjntkException.class,
                            () -> pr.accumulate(block, 1, 2, 5, arena.allocate(ValueLayout.JAVA_FLOAT, 8)));
                    assertEquals(ProjntkException.Status.NONFINITE, e.status(), kind.toString());
                }
            }
            try (Projector unchecked = new Projector(sp.withCheckFinite(false))) {
                float[][] y = unchecked.project(x);
                boolean anyNaN = false;
                for (float v : y[1]) anyNaN |= Float.isNaN(v);
                if (kind != ProjectorKind.SJLT) assertTrue(anyNaN, "NaN should reach the dense output unchecked");
                for (float v : y[0]) assertTrue(Float.isFinite(v), "row 0 has no NaN input");
            }
        }
    }

    @Test
    void wrongSizesAreIllegalArguments() {
        try (Projector pr = new Projector(ProjectorSpec.of(ProjectorKind.GAUSSIAN, 30, 6, 1)); Arena arena = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pr.project(new float[][] {new float[29]}));
            assertTrue(e.getMessage().contains("29") && e.getMessage().contains("30"), e.getMessage());
            MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, 2 * 30);
            assertThrows(IllegalArgumentException.class, () -> pr.project(x, 3, arena.allocate(ValueLayout.JAVA_FLOAT, 18)));
            assertThrows(IllegalArgumentException.class, () -> pr.project(x, 2, arena.allocate(ValueLayout.JAVA_FLOAT, 11)));
            assertThrows(IllegalArgumentException.class,
                    () -> pr.accumulate(arena.allocate(ValueLayout.JAVA_FLOAT, 5), 2, 3, 0, arena.allocate(ValueLayout.JAVA_FLOAT, 12)));
            assertThrows(IllegalArgumentException.class,
                    () -> pr.accumulate(arena.allocate(ValueLayout.JAVA_FLOAT, 6), 2, 3, 0, arena.allocate(ValueLayout.JAVA_FLOAT, 11)));
            // A block running past P is the native side's to reject.
            ProjntkException pe = assertThrows(ProjntkException.class,
                    () -> pr.accumulate(arena.allocate(ValueLayout.JAVA_FLOAT, 6), 2, 3, 28, arena.allocate(ValueLayout.JAVA_FLOAT, 12)));
            assertEquals(ProjntkException.Status.INVALID_ARGUMENT, pe.status());
        }
        assertThrows(IllegalArgumentException.class, () -> ProjectorSpec.of(ProjectorKind.RADEMACHER, 0, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> ProjectorSpec.of(ProjectorKind.RADEMACHER, 10, 0, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new ProjectorSpec(ProjectorKind.NONE, 10, 9, 0, 0, 2, false, true, false, Device.CPU));
        assertThrows(IllegalArgumentException.class, () -> ProjectorSpec.of(ProjectorKind.SJLT, 10, 4, 1).withSjltS(0));
        assertThrows(IllegalArgumentException.class, () -> new Projector(ProjectorSpec.of(ProjectorKind.CURAND, 10, 4, 1)));
    }

    @Test
    void cudaOnACpuOnlyBuildIsUnsupported() {
        org.junit.jupiter.api.Assumptions.assumeFalse(Runtime.info().contains("\"cuda_built\":true"), "this build has CUDA");
        ProjntkException e = assertThrows(ProjntkException.class,
                () -> new Projector(ProjectorSpec.of(ProjectorKind.RADEMACHER, 10, 4, 1).withDevice(Device.CUDA)));
        assertEquals(ProjntkException.Status.UNSUPPORTED, e.status());
        assertTrue(e.getMessage().toLowerCase().contains("cuda"), e.getMessage());
    }
}
