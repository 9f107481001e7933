package org.projntk.attribution;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.Npy;

class TileNpyTest {
    @TempDir Path dir;

    @Test
    void tilesInAnyOrderAndTwiceGiveTheFileNpyWrites() throws Exception {
        int rows = 5, cols = 7;
        float[] data = new float[rows * cols];
        for (int i = 0; i < data.length; i++) data[i] = i * 0.5f - 3;
        Path want = dir.resolve("want.npy");
        Npy.write(want, Npy.Dtype.FLOAT32, data, rows, cols);

        Path tmp = dir.resolve("sub/got.npy.tmp");
        TileNpy.create(tmp, rows, cols);
        assertEquals(Files.size(want), Files.size(tmp), "created at full size");
        try (TileNpy f = TileNpy.open(tmp)) {
            int[][] order = {{3, 4}, {0, 0}, {3, 0}, {0, 4}, {3, 4}};   // tiles of 3 x 4, cut at the ends; the last one again
            for (int[] t : order) {
                int tr = Math.min(3, rows - t[0]), tc = Math.min(4, cols - t[1]);
                float[] tile = new float[tr * tc];
                for (int i = 0; i < tr; i++) for (int j = 0; j < tc; j++) tile[i * tc + j] = data[(t[0] + i) * cols + t[1] + j];
                f.write(t[0], t[1], tr, tc, tile);
            }
            assertThrows(IllegalArgumentException.class, () -> f.write(4, 0, 2, 1, new float[2]));
        }
        Path got = dir.resolve("sub/got.npy");
        TileNpy.publish(tmp, got);
        assertFalse(Files.exists(tmp));
        assertArrayEquals(Files.readAllBytes(want), Files.readAllBytes(got));
        Path vector = dir.resolve("vector.npy");
        Npy.write(vector, Npy.Dtype.FLOAT32, data, data.length);
        var e = assertThrows(IllegalArgumentException.class, () -> TileNpy.open(vector));
        assertTrue(e.getMessage().contains("vector.npy"), e.getMessage());
    }
}
