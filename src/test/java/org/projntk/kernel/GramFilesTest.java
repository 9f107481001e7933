package org.projntk.kernel;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.Npy;

/** Kernels streamed into .npy files, against fp64 loops; a failed run leaves neither a partial file nor a temporary. */
class GramFilesTest {
    @TempDir Path dir;

    private static float[][][] random(int classes, int rows, int dim, long seed) {
        Random r = new Random(seed);
        float[][][] x = new float[classes][rows][dim];
        for (float[][] c : x) for (float[] row : c) for (int d = 0; d < dim; d++) row[d] = (float) r.nextGaussian();
        return x;
    }

    private static List<FeatureMatrix> operand(float[][][] x, Arena arena) {
        List<FeatureMatrix> out = new ArrayList<>();
        for (float[][] c : x) {
            MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, (long) c.length * c[0].length);
            for (int i = 0; i < c.length; i++) MemorySegment.copy(c[i], 0, s, ValueLayout.JAVA_FLOAT, (long) i * c[0].length * Float.BYTES, c[0].length);
            out.add(new ArrayFeatureMatrix(s, c.length, c[0].length));
        }
        return out;
    }

    @Test
    void trntkAndEntkFilesMatchFp64Loops() {
        int classes = 3, n = 37, m = 21, dim = 9;
        float[][][] a = random(classes, n, dim, 1), b = random(classes, m, dim, 2);
        try (Arena arena = Arena.ofConfined()) {
            Path tr = dir.resolve("tr.npy");
            Gram.Result r = GramFiles.write(operand(a, arena), operand(b, arena), Gram.Options.builder().kernel(KernelKind.TRNTK).normalization(KernelNormalization.NONE).tiles(8, 5).build(), tr);
            assertEquals(n, r.rows());
            assertArrayEquals(new long[] {n, m}, Npy.readHeader(tr).shape());
            float[] k = Npy.readFloats(tr);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    double s = 0;
                    for (int c = 0; c < classes; c++) for (int d = 0; d < dim; d++) s += (double) a[c][i][d] * b[c][j][d];
                    assertEquals(s, k[i * m + j], 1e-4 * (1 + Math.abs(s)), "trNTK[" + i + "," + j + "]");
                }
            }

            Path entk = dir.resolve("entk.npy");
            GramFiles.write(operand(a, arena), operand(b, arena), Gram.Options.builder().kernel(KernelKind.ENTK).normalization(KernelNormalization.NONE).tiles(8, 5).build(), entk);
            assertArrayEquals(new long[] {(long) n * classes, (long) m * classes}, Npy.readHeader(entk).shape());
            float[] e = Npy.readFloats(entk);
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < classes; c++) {
                    for (int j = 0; j < m; j++) {
                        for (int c2 = 0; c2 < classes; c2++) {
                            double s = 0;
                            for (int d = 0; d < dim; d++) s += (double) a[c][i][d] * b[c2][j][d];
                            assertEquals(s, e[(i * classes + c) * m * classes + j * classes + c2], 1e-4 * (1 + Math.abs(s)));
                        }
                    }
                }
            }
            assertFalse(Files.exists(dir.resolve("tr.npy.tmp")) || Files.exists(dir.resolve("entk.npy.tmp")));
        }
    }

    @Test
    void aFailedKernelLeavesTheOldFileAndNoTemporary() throws Exception {
        float[][][] a = random(1, 20, 4, 3);
        a[0][17][2] = Float.NaN;
        Path out = dir.resolve("k.npy");
        Files.writeString(out, "previous");
        try (Arena arena = Arena.ofConfined()) {
            List<FeatureMatrix> op = operand(a, arena);
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> GramFiles.write(op, op, Gram.Options.builder().kernel(KernelKind.PNTK).normalization(KernelNormalization.NONE).tiles(8, 8).build(), out));
            assertTrue(e.getMessage().contains("17") || e.getMessage().toLowerCase().contains("finite"), e.getMessage());
        }
        assertEquals("previous", Files.readString(out));
        assertFalse(Files.exists(dir.resolve("k.npy.tmp")));
    }
}
