package org.projntk.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checks against the NPY format description (numpy/lib/format.py, "Format Version 1.0"). */
class NpyTest {
    @TempDir Path tmp;

    /** A file per the spec: magic, version, little-endian header length, ASCII dict padded with spaces, '\n'. */
    static byte[] handMade(int major, String dict, byte[] data) {
        int pre = major == 1 ? 10 : 12;
        int len = dict.length() + 1;
        int total = (pre + len + 63) / 64 * 64;
        ByteBuffer b = ByteBuffer.allocate(total + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) (total - pre)); else b.putInt(total - pre);
        b.put(dict.getBytes(StandardCharsets.US_ASCII));
        while (b.position() < total - 1) b.put((byte) ' ');
        b.put((byte) '\n');
        b.put(data);
        return b.array();
    }

    @Test
    void writtenHeaderFollowsSpec() throws IOException {
        Path p = tmp.resolve("a.npy");
        float[] v = {1, 2, 3, 4, 5, 6};
        Npy.write(p, Npy.Dtype.FLOAT32, v, 2, 3);
        byte[] b = Files.readAllBytes(p);
        assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, Arrays.copyOf(b, 8));
        int hlen = (b[8] & 0xFF) | (b[9] & 0xFF) << 8;
        assertEquals(0, (10 + hlen) % 64, "data must start at a multiple of 64");
        assertEquals('\n', b[10 + hlen - 1]);
        String dict = new String(b, 10, hlen, StandardCharsets.US_ASCII);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", dict.strip());
        ByteBuffer data = ByteBuffer.wrap(b, 10 + hlen, 24).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) assertEquals(x, data.getFloat());
        assertEquals(10 + hlen + 24, b.length);

        byte[] one = Npy.header(Npy.Dtype.FLOAT16, 7);
        String d1 = "{'descr': '<f2', 'fortran_order': False, 'shape': (7,), }";
        assertTrue(new String(one, StandardCharsets.US_ASCII).contains(d1));
        assertEquals((10 + d1.length() + 1 + 63) / 64 * 64, one.length, "smallest multiple of 64 that fits");
    }

    @Test
    void roundTripFloat32AndFloat16() {
        float[] v = new float[3 * 5];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i) * 100;
        Path f4 = tmp.resolve("f4.npy"), f2 = tmp.resolve("f2.npy");
        Npy.write(f4, Npy.Dtype.FLOAT32, v, 3, 5);
        Npy.write(f2, Npy.Dtype.FLOAT16, v, 3, 5);
        assertArrayEquals(v, Npy.readFloats(f4));
        float[] h = Npy.readFloats(f2);
        for (int i = 0; i < v.length; i++) {
            // float16 has an 11-bit significand: relative error <= 2^-11
            assertEquals(v[i], h[i], Math.abs(v[i]) * 0x1p-11 + 1e-7, "element " + i);
        }
        Npy.Header hh = Npy.readHeader(f2);
        assertEquals(Npy.Dtype.FLOAT16, hh.dtype());
        assertArrayEquals(new long[] {3, 5}, hh.shape());
        assertFalse(hh.fortranOrder());
        assertEquals(0, hh.dataOffset() % 64);
    }

    @Test
    void readsHandMadeFiles() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(6 * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) d.putDouble(i * 0.5 - 1);
        Path p = tmp.resolve("hand.npy");
        Files.write(p, handMade(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", d.array()));
        assertArrayEquals(new float[] {-1, -0.5f, 0, 0.5f, 1, 1.5f}, Npy.readFloats(p));

        // version 2.0 (4-byte header length), different key order and spacing as another writer might emit
        Path v2 = tmp.resolve("v2.npy");
        ByteBuffer h = ByteBuffer.allocate(4 * 2).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f)).putShort((short) 0x3C00).putShort((short) 0);
        Files.write(v2, handMade(2, "{'shape':(4,),'fortran_order':False,'descr':'<f2'}", h.array()));
        assertArrayEquals(new float[] {1.5f, -2f, 1f, 0f}, Npy.readFloats(v2));
        assertEquals(2, Npy.readHeader(v2).majorVersion());
    }

    @Test
    void rejectsBadFiles() throws IOException {
        byte[] good = handMade(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new byte[16]);
        Path trunc = tmp.resolve("trunc.npy");
        Files.write(trunc, Arrays.copyOf(good, good.length - 3));
        DataFormatException e = assertThrows(DataFormatException.class, () -> Npy.readFloats(trunc));
        assertTrue(e.getMessage().contains(trunc + " at byte " + (good.length - 3)) && e.getMessage().contains("truncated data"), e.getMessage());

        Path shortHeader = tmp.resolve("shorthdr.npy");
        Files.write(shortHeader, Arrays.copyOf(good, 40));
        e = assertThrows(DataFormatException.class, () -> Npy.readHeader(shortHeader));
        assertTrue(e.getMessage().contains("truncated header"), e.getMessage());

        Path magic = tmp.resolve("magic.npy");
        byte[] m = good.clone();
        m[1] = 'X';
        Files.write(magic, m);
        e = assertThrows(DataFormatException.class, () -> Npy.readHeader(magic));
        assertTrue(e.getMessage().contains(magic + " at byte 1") && e.getMessage().contains("bad magic"), e.getMessage());

        Path fortran = tmp.resolve("fortran.npy");
        Files.write(fortran, handMade(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]));
        assertTrue(Npy.readHeader(fortran).fortranOrder());
        e = assertThrows(DataFormatException.class, () -> Npy.readFloats(fortran));
        assertTrue(e.getMessage().contains(fortran.toString()) && e.getMessage().contains("fortran_order True"), e.getMessage());

        Path big = tmp.resolve("bigendian.npy");
        Files.write(big, handMade(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", new byte[16]));
        e = assertThrows(DataFormatException.class, () -> Npy.readHeader(big));
        assertTrue(e.getMessage().contains("unsupported dtype '>f4'"), e.getMessage());

        Path version = tmp.resolve("v9.npy");
        byte[] v9 = good.clone();
        v9[6] = 9;
        Files.write(version, v9);
        e = assertThrows(DataFormatException.class, () -> Npy.readHeader(version));
        assertTrue(e.getMessage().contains("at byte 6") && e.getMessage().contains("version 9"), e.getMessage());
    }
}
