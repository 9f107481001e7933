package org.projntk.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir Path tmp;

    static byte[] images(int n, int r, int c, int seed) {
        ByteBuffer b = ByteBuffer.allocate(16 + n * r * c); // big-endian by default, as IDX requires
        b.putInt(0x00000803).putInt(n).putInt(r).putInt(c);
        for (int i = 0; i < n * r * c; i++) b.put((byte) ((i * 37 + seed) % 256));
        return b.array();
    }

    static byte[] labels(int n) {
        ByteBuffer b = ByteBuffer.allocate(8 + n);
        b.putInt(0x00000801).putInt(n);
        for (int i = 0; i < n; i++) b.put((byte) ((i * 7) % 10));
        return b.array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private void checkContents(Dataset d, byte[] img, int n, int r, int c) {
        assertEquals(n, d.size());
        assertArrayEquals(new int[] {1, r, c}, d.exampleShape());
        assertEquals(10, d.numClasses());
        try (Arena arena = Arena.ofConfined()) {
            Batch b = d.batch(0, n, arena);
            assertEquals((long) n * r * c * 4, b.inputs().byteSize());
            for (int i = 0; i < n * r * c; i++) {
                float expected = (img[16 + i] & 0xFF) / 255f;
                assertEquals(expected, b.inputs().getAtIndex(ValueLayout.JAVA_FLOAT, i), 1e-7f, "pixel " + i);
            }
            for (int i = 0; i < n; i++) {
                assertEquals((i * 7) % 10, b.labels()[i]);
                assertEquals((i * 7) % 10, d.label(i));
            }
        }
    }

    @Test
    void readsRawAndGzipIdentically() throws IOException {
        byte[] img = images(5, 3, 4, 11);
        byte[] lab = labels(5);
        checkContents(Idx.open(write("i.raw", img), write("l.raw", lab), Normalization.DEFAULT), img, 5, 3, 4);
        checkContents(Idx.open(write("i.gz", gzip(img)), write("l.gz", gzip(lab)), Normalization.DEFAULT), img, 5, 3, 4);
    }

    @Test
    void normalisationsAndImageHwc() throws IOException {
        byte[] img = images(3, 2, 2, 200);
        Path i = write("i", img), l = write("l", labels(3));
        Dataset none = Idx.open(i, l, Normalization.NONE);
        Dataset unit = Idx.open(i, l, Normalization.UNIT);
        Dataset std = Idx.open(i, l, Normalization.standard(new float[] {0.5f}, new float[] {0.25f}));
        for (int row = 0; row < 3; row++) {
            float[] a = none.example(row), b = unit.example(row), s = std.example(row);
            int[] hwc = none.imageHWC(row);
            for (int k = 0; k < 4; k++) {
                int raw = img[16 + row * 4 + k] & 0xFF;
                assertEquals(raw, a[k]);
                assertEquals(raw / 255.0, b[k], 1e-7);
                assertEquals((raw / 255.0 - 0.5) / 0.25, s[k], 1e-5);
                assertEquals(raw, hwc[k]);
            }
        }
        assertArrayEquals(new int[] {2, 2, 1}, none.imageDims());
    }

    @Test
    void truncatedImagesNameFileAndOffset() throws IOException {
        byte[] img = Arrays.copyOf(images(4, 3, 3, 0), 16 + 4 * 9 - 5);
        Path i = write("trunc-images", img), l = write("labels", labels(4));
        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.open(i, l, Normalization.DEFAULT));
        assertTrue(e.getMessage().contains(i.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("at byte " + img.length), e.getMessage());
        assertTrue(e.getMessage().contains("short read"), e.getMessage());

        Path shortHeader = write("short-header", Arrays.copyOf(images(1, 1, 1, 0), 10));
        e = assertThrows(DataFormatException.class, () -> Idx.open(shortHeader, l, Normalization.DEFAULT));
        assertTrue(e.getMessage().contains("short-header at byte 10"), e.getMessage());
    }

    @Test
    void truncatedGzipNamesFile() throws IOException {
        byte[] gz = gzip(images(50, 8, 8, 3));
        Path i = write("cut.gz", Arrays.copyOf(gz, gz.length / 2)), l = write("l", labels(50));
        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.open(i, l, Normalization.DEFAULT));
        assertTrue(e.getMessage().contains(i.toString()) && e.getMessage().contains("decompressed"), e.getMessage());
    }

    @Test
    void badMagicAndCountMismatch() throws IOException {
        byte[] img = images(4, 2, 2, 0);
        Path good = write("img", img);
        // labels file passed as images: magic 0x801 instead of 0x803
        Path l = write("lab", labels(4));
        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.open(l, l, Normalization.DEFAULT));
        assertTrue(e.getMessage().contains(l + " at byte 0") && e.getMessage().contains("bad magic 0x00000801"), e.getMessage());

        Path l3 = write("lab3", labels(3));
        e = assertThrows(DataFormatException.class, () -> Idx.open(good, l3, Normalization.DEFAULT));
        assertTrue(e.getMessage().contains(l3 + " at byte 4") && e.getMessage().contains("label count 3 != image count 4"), e.getMessage());

        byte[] bad = labels(4);
        bad[8 + 2] = 12;
        Path lb = write("lab-bad", bad);
        e = assertThrows(DataFormatException.class, () -> Idx.open(good, lb, Normalization.DEFAULT));
        assertTrue(e.getMessage().contains(lb + " at byte 10") && e.getMessage().contains("label 12"), e.getMessage());
    }

    @Test
    void rowRangeThroughSpec() throws IOException {
        byte[] img = images(6, 2, 3, 5);
        Path i = write("i", img), l = write("l", labels(6));
        Dataset d = DatasetSpec.parse("idx:" + i + "," + l + "[2:5]").open(Normalization.NONE);
        assertEquals(3, d.size());
        for (int row = 0; row < 3; row++) {
            assertEquals(((row + 2) * 7) % 10, d.label(row));
            float[] x = d.example(row);
            for (int k = 0; k < 6; k++) assertEquals(img[16 + (row + 2) * 6 + k] & 0xFF, x[k]);
        }
        Dataset tail = DatasetSpec.parse("idx:" + i + "," + l + "[-2:]").open();
        assertEquals(2, tail.size());
        assertEquals((4 * 7) % 10, tail.label(0));
        assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse("idx:" + i + "," + l + "[2:7]").open());
    }

    @Test
    void realFashionMnist() {
        Path root = DatasetSpec.fashionMnistRoot();
        Assumptions.assumeTrue(Files.exists(root.resolve("train-images-idx3-ubyte.gz")), "no Fashion-MNIST at " + root);
        Dataset train = DatasetSpec.parse("fashion-mnist:train").open();
        Dataset test = DatasetSpec.parse("fashion-mnist:test").open();
        assertEquals(60000, train.size());
        assertEquals(10000, test.size());
        assertArrayEquals(new int[] {1, 28, 28}, train.exampleShape());
        long[] counts = new long[10];
        for (long i = 0; i < train.size(); i++) counts[(int) train.label(i)]++;
        for (long c : counts) assertEquals(6000, c, "Fashion-MNIST train is balanced, 6000 per class");
        for (long i = 0; i < test.size(); i++) assertTrue(test.label(i) >= 0 && test.label(i) <= 9);
        assertEquals(9, train.label(0), "the first training image is an ankle boot (class 9)");
        try (Arena arena = Arena.ofConfined()) {
            Batch b = test.batch(9990, 10, arena);
            for (long i = 0; i < 10 * 784; i++) {
                float v = b.inputs().getAtIndex(ValueLayout.JAVA_FLOAT, i);
                assertTrue(v >= 0 && v <= 1);
            }
        }
    }
}
