package org.projntk.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Cifar10Test {
    @TempDir Path tmp;

    /** 2 records per file: label (file*2 + r) % 10, pixel j = (file*31 + r*7 + j) % 256. */
    private byte[] batchFile(int file) {
        byte[] b = new byte[2 * Cifar10.RECORD];
        for (int r = 0; r < 2; r++) {
            b[r * Cifar10.RECORD] = (byte) ((file * 2 + r) % 10);
            for (int j = 0; j < 3072; j++) b[r * Cifar10.RECORD + 1 + j] = (byte) ((file * 31 + r * 7 + j) % 256);
        }
        return b;
    }

    private void writeAll() throws IOException {
        for (int f = 0; f < 5; f++) Files.write(tmp.resolve("data_batch_" + (f + 1) + ".bin"), batchFile(f));
        Files.write(tmp.resolve("test_batch.bin"), batchFile(5));
    }

    @Test
    void readsTrainAndTest() throws IOException {
        writeAll();
        Dataset train = DatasetSpec.parse("cifar10:" + tmp + ":train").open();
        Dataset test = DatasetSpec.parse("cifar10:" + tmp + ":test").open(Normalization.NONE);
        assertEquals(10, train.size());
        assertEquals(2, test.size());
        assertArrayEquals(new int[] {3, 32, 32}, train.exampleShape());
        try (Arena arena = Arena.ofConfined()) {
            Batch b = train.batch(3, 4, arena);
            for (int i = 0; i < 4; i++) {
                int row = 3 + i, file = row / 2, r = row % 2;
                assertEquals((file * 2 + r) % 10, b.labels()[i]);
                for (int j = 0; j < 3072; j += 97) {
                    float expected = ((file * 31 + r * 7 + j) % 256) / 255f;
                    assertEquals(expected, b.inputs().getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * 3072 + j), 1e-7f);
                }
            }
        }
        // HWC: pixel (y, x, c) comes from CHW index c*1024 + y*32 + x
        int[] hwc = test.imageHWC(1);
        float[] chw = test.example(1);
        for (int y = 0; y < 32; y += 5) {
            for (int x = 0; x < 32; x += 3) {
                for (int c = 0; c < 3; c++) assertEquals((int) chw[c * 1024 + y * 32 + x], hwc[(y * 32 + x) * 3 + c]);
            }
        }
        assertArrayEquals(new int[] {32, 32, 3}, test.imageDims());
    }

    @Test
    void computedStandardisationHasZeroMeanUnitStd() throws IOException {
        writeAll();
        Dataset d = DatasetSpec.parse("cifar10:" + tmp + ":train[1:9]").open(Normalization.STANDARD_COMPUTED);
        assertEquals(8, d.size());
        double[] sum = new double[3], sq = new double[3];
        for (int i = 0; i < 8; i++) {
            float[] x = d.example(i);
            for (int j = 0; j < 3072; j++) {
                sum[j / 1024] += x[j];
                sq[j / 1024] += (double) x[j] * x[j];
            }
        }
        for (int c = 0; c < 3; c++) {
            double n = 8 * 1024.0, mean = sum[c] / n;
            assertEquals(0, mean, 1e-5, "channel " + c);
            assertEquals(1, Math.sqrt(sq[c] / n - mean * mean), 1e-4, "channel " + c);
        }
    }

    @Test
    void truncatedAndBadLabel() throws IOException {
        writeAll();
        Path f3 = tmp.resolve("data_batch_3.bin");
        byte[] cut = Arrays.copyOf(batchFile(2), Cifar10.RECORD + 100);
        Files.write(f3, cut);
        DataFormatException e = assertThrows(DataFormatException.class, () -> DatasetSpec.parse("cifar10:" + tmp + ":train").open());
        assertTrue(e.getMessage().contains(f3 + " at byte " + Cifar10.RECORD) && e.getMessage().contains("truncated"), e.getMessage());

        byte[] bad = batchFile(2);
        bad[Cifar10.RECORD] = 10;
        Files.write(f3, bad);
        e = assertThrows(DataFormatException.class, () -> DatasetSpec.parse("cifar10:" + tmp + ":train").open());
        assertTrue(e.getMessage().contains(f3 + " at byte " + Cifar10.RECORD) && e.getMessage().contains("label 10"), e.getMessage());
    }
}
