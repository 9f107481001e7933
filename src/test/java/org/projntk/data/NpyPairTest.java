package org.projntk.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyPairTest {
    @TempDir Path tmp;

    private Path write(String name, String descr, String shape, ByteBuffer data) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, NpyTest.handMade(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }", data.array()));
        return p;
    }

    private static double x(int i) {
        return Math.cos(i * 0.37) * 3 + 1;
    }

    @Test
    void float64WithInt32LabelsUsedAsStored() throws IOException {
        ByteBuffer xb = ByteBuffer.allocate(4 * 6 * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 24; i++) xb.putDouble(x(i));
        ByteBuffer yb = ByteBuffer.allocate(4 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : new int[] {3, 0, 6, 2}) yb.putInt(v);
        Path xp = write("x.npy", "<f8", "(4, 2, 3)", xb), yp = write("y.npy", "<i4", "(4,)", yb);
        Dataset d = DatasetSpec.parse("npy:" + xp + "," + yp).open();
        assertEquals(4, d.size());
        assertArrayEquals(new int[] {2, 3}, d.exampleShape());
        assertEquals(7, d.numClasses());
        try (Arena arena = Arena.ofConfined()) {
            Batch b = d.batch(1, 3, arena);
            assertArrayEquals(new long[] {0, 6, 2}, b.labels());
            for (int i = 0; i < 18; i++) assertEquals((float) x(6 + i), b.inputs().getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }
        // given per-channel statistics (channel = first example dimension)
        Dataset s = NpyPair.open(xp, yp, Normalization.parse("standard:1,2:0.5,4"));
        float[] e = s.example(2);
        for (int j = 0; j < 6; j++) {
            double m = j < 3 ? 1 : 2, sd = j < 3 ? 0.5 : 4;
            assertEquals((x(12 + j) - m) / sd, e[j], 1e-5);
        }
    }

    @Test
    void uint8WithInt64LabelsAndErrors() throws IOException {
        ByteBuffer xb = ByteBuffer.allocate(3 * 4);
        for (int i = 0; i < 12; i++) xb.put((byte) (i * 20));
        ByteBuffer yb = ByteBuffer.allocate(3 * 8).order(ByteOrder.LITTLE_ENDIAN);
        yb.putLong(1).putLong(1).putLong(0);
        Path xp = write("x.npy", "|u1", "(3, 4)", xb), yp = write("y.npy", "<i8", "(3,)", yb);
        Dataset d = NpyPair.open(xp, yp, Normalization.UNIT);
        assertEquals(2, d.numClasses());
        assertEquals(100 / 255f, d.example(1)[1], 1e-7f);
        assertEquals(40f, NpyPair.open(xp, yp, Normalization.DEFAULT).example(0)[2]);

        Path y2 = write("y2.npy", "<i8", "(2,)", ByteBuffer.allocate(16));
        DataFormatException e = assertThrows(DataFormatException.class, () -> NpyPair.open(xp, y2, Normalization.DEFAULT));
        assertTrue(e.getMessage().contains(y2.toString()) && e.getMessage().contains("label count 2 != example count 3"), e.getMessage());

        ByteBuffer neg = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        neg.putLong(0).putLong(-1).putLong(0);
        Path yn = write("yn.npy", "<i8", "(3,)", neg);
        e = assertThrows(DataFormatException.class, () -> NpyPair.open(xp, yn, Normalization.DEFAULT));
        assertTrue(e.getMessage().contains(yn + " at byte " + (Files.size(yn) - 24 + 8)) && e.getMessage().contains("negative label"), e.getMessage());

        Path yf = write("yf.npy", "<f4", "(3,)", ByteBuffer.allocate(12));
        e = assertThrows(DataFormatException.class, () -> NpyPair.open(xp, yf, Normalization.DEFAULT));
        assertTrue(e.getMessage().contains("y dtype <f4"), e.getMessage());
    }
}
