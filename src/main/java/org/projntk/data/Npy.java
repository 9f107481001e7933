package org.projntk.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The NumPy {@code .npy} format (versions 1.0, 2.0 and 3.0 read; 1.0 written, or 2.0 when the header is too long).
 * Only C-order arrays of the little-endian (or byte-sized) dtypes in {@link Dtype} are supported.
 */
public final class Npy {
    private Npy() {}

    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy aligns the start of the data to this many bytes. */
    static final int ALIGN = 64;

    /** The element types a .npy file may hold, with their numpy descriptors and sizes in bytes. */
    public enum Dtype {
        /** IEEE half precision, read only (as float32) and written. */
        FLOAT16("<f2", 2),
        /** IEEE single precision. */
        FLOAT32("<f4", 4),
        /** IEEE double precision. */
        FLOAT64("<f8", 8),
        /** Unsigned bytes: pixels, small labels. */
        UINT8("|u1", 1),
        /** Signed bytes. */
        INT8("|i1", 1),
        /** Little-endian 32-bit integers. */
        INT32("<i4", 4),
        /** Little-endian 64-bit integers: token ids, labels. */
        INT64("<i8", 8),
        /** numpy's bool, one byte 0 or 1. */
        BOOL("|b1", 1);

        /** numpy's descriptor as written into headers, e.g. {@code <f4}. */
        public final String descr;
        /** Bytes per element. */
        public final int size;

        Dtype(String descr, int size) {
            this.descr = descr;
            this.size = size;
        }

        /** Accepts numpy's spellings of a descr ("<f4", "|u1", "u1", "=f4" is not accepted: byte order must be explicit). */
        static Dtype fromDescr(String d) {
            for (Dtype t : values()) {
                if (t.descr.equals(d)) return t;
                // single-byte types may be written with '<', '|' or no order character
                if (t.size == 1 && (d.equals("<" + t.descr.substring(1)) || d.equals(t.descr.substring(1)))) return t;
            }
            return null;
        }
    }

    /**
     * A parsed header.
     *
     * @param dtype the element type
     * @param fortranOrder whether the array is column-major (no projntk reader accepts it)
     * @param shape the dimensions; empty for a scalar
     * @param dataOffset the byte position of the first element (a multiple of 64 in files projntk writes)
     * @param majorVersion the format version, 1, 2 or 3
     */
    public record Header(Dtype dtype, boolean fortranOrder, long[] shape, long dataOffset, int majorVersion) {
        /**
         * The number of elements.
         *
         * @return the product of the shape (1 for a scalar)
         * @throws ArithmeticException if it overflows a long
         */
        public long count() {
            long n = 1;
            for (long s : shape) n = Math.multiplyExact(n, s);
            return n;
        }

        /** {@return the size of the data in bytes, count() · dtype.size} */
        public long dataBytes() {
            return Math.multiplyExact(count(), (long) dtype.size);
        }

        @Override
        public String toString() {
            return "npy " + dtype.descr + " shape=" + Arrays.toString(shape) + (fortranOrder ? " fortran" : "");
        }
    }

    // ------------------------------------------------------------------ header writing

    /**
     * The header of a C-order array, version 1.0 (2.0 when the dict does not fit in 65535 bytes).
     *
     * @param dtype the element type
     * @param shape the dimensions, each 0 or more
     * @return the bytes from the magic through the final '\n', a multiple of 64 long
     * @throws IllegalArgumentException for a negative dimension
     */
    public static byte[] header(Dtype dtype, long... shape) {
        StringBuilder dict = new StringBuilder("{'descr': '").append(dtype.descr)
                .append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            dict.append(shape[i]);
            if (shape.length == 1 || i < shape.length - 1) dict.append(i < shape.length - 1 ? ", " : ",");
        }
        dict.append("), }");
        byte[] d = dict.toString().getBytes(StandardCharsets.US_ASCII);
        boolean v1 = true;
        int pre = 10;
        int total = roundUp(pre + d.length + 1, ALIGN);
        if (total - pre > 0xFFFF) {
            v1 = false;
            pre = 12;
            total = roundUp(pre + d.length + 1, ALIGN);
        }
        byte[] out = new byte[total];
        Arrays.fill(out, (byte) ' ');
        System.arraycopy(MAGIC, 0, out, 0, 6);
        out[6] = (byte) (v1 ? 1 : 2);
        out[7] = 0;
        int hlen = total - pre;
        ByteBuffer bb = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        if (v1) bb.putShort(8, (short) hlen); else bb.putInt(8, hlen);
        System.arraycopy(d, 0, out, pre, d.length);
        out[total - 1] = '\n';
        return out;
    }

    private static int roundUp(int n, int a) {
        return (n + a - 1) / a * a;
    }

    // ------------------------------------------------------------------ header reading

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /**
     * Reads and checks a header, including that the file holds all the data it announces.
     *
     * @param file the .npy file
     * @return the header
     * @throws DataFormatException naming the byte offset of a bad magic, version, dict, dtype or a truncation
     * @throws java.io.UncheckedIOException if the file cannot be read
     */
    public static Header readHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(ch, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static Header readHeader(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, pre, 0, 0, 10, file);
        for (int i = 0; i < 6; i++) {
            if (pre.get(i) != MAGIC[i]) throw bad(file, i, "bad magic (not a .npy file)");
        }
        int major = pre.get(6) & 0xFF;
        long hlen;
        int preLen;
        if (major == 1) {
            hlen = pre.getShort(8) & 0xFFFF;
            preLen = 10;
        } else if (major == 2 || major == 3) {
            readFully(ch, pre, 10, 10, 2, file);
            hlen = pre.getInt(8) & 0xFFFFFFFFL;
            preLen = 12;
        } else {
            throw bad(file, 6, "unsupported npy version " + major + "." + (pre.get(7) & 0xFF));
        }
        if (preLen + hlen > size) {
            throw bad(file, size, "truncated header: header length " + hlen + " but file has " + size + " bytes");
        }
        if (hlen > 1 << 20) throw bad(file, 8, "implausible header length " + hlen);
        ByteBuffer hb = ByteBuffer.allocate((int) hlen);
        readFully(ch, hb, preLen, 0, (int) hlen, file);
        String dict = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).strip();
        if (!dict.startsWith("{") || !dict.endsWith("}")) throw bad(file, preLen, "header is not a dict: " + dict);
        Matcher m = DESCR.matcher(dict);
        if (!m.find()) throw bad(file, preLen, "header has no 'descr': " + dict);
        Dtype dtype = Dtype.fromDescr(m.group(1));
        if (dtype == null) throw bad(file, preLen, "unsupported dtype '" + m.group(1) + "' (supported: <f2 <f4 <f8 |u1 |i1 <i4 <i8)");
        m = FORTRAN.matcher(dict);
        if (!m.find()) throw bad(file, preLen, "header has no 'fortran_order': " + dict);
        boolean fortran = m.group(1).equals("True");
        m = SHAPE.matcher(dict);
        if (!m.find()) throw bad(file, preLen, "header has no 'shape': " + dict);
        List<Long> dims = new ArrayList<>();
        for (String part : m.group(1).split(",")) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            if (p.endsWith("L")) p = p.substring(0, p.length() - 1); // python 2 longs
            try {
                long v = Long.parseLong(p);
                if (v < 0) throw new NumberFormatException();
                dims.add(v);
            } catch (NumberFormatException e) {
                throw bad(file, preLen, "bad shape entry '" + part.strip() + "' in " + dict);
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        Header h = new Header(dtype, fortran, shape, preLen + hlen, major);
        long need;
        try {
            need = h.dataOffset() + h.dataBytes();
        } catch (ArithmeticException e) {
            throw bad(file, preLen, "shape " + Arrays.toString(shape) + " overflows");
        }
        if (size < need) {
            throw bad(file, size, "truncated data: " + h + " needs " + need + " bytes but file has " + size);
        }
        return h;
    }

    /** Reads len bytes at file position filePos into buf[bufOff ..]. */
    private static void readFully(FileChannel ch, ByteBuffer buf, long filePos, int bufOff, int len, Path file) throws IOException {
        buf.limit(bufOff + len).position(bufOff);
        long at = filePos;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, at);
            if (n < 0) throw bad(file, at, "unexpected end of file (wanted " + len + " bytes at offset " + filePos + ")");
            at += n;
        }
    }

    static DataFormatException bad(Path file, long offset, String what) {
        return new DataFormatException(file + " at byte " + offset + ": " + what);
    }

    /**
     * Reads the header and rejects Fortran order, which no projntk reader supports.
     *
     * @param file the .npy file
     * @return the header of a C-order array
     * @throws DataFormatException as {@link #readHeader(Path)}, or for Fortran order
     */
    public static Header readCHeader(Path file) {
        Header h = readHeader(file);
        if (h.fortranOrder()) throw bad(file, 0, "fortran_order True is not supported (save a C-contiguous array)");
        return h;
    }

    // ------------------------------------------------------------------ data access

    /**
     * Maps the data of a C-order file read-only; nothing is copied.
     *
     * @param file the .npy file
     * @param h its header
     * @param arena the segment's lifetime (an auto arena unmaps it when unreachable)
     * @return dataBytes() bytes, little-endian elements
     * @throws java.io.UncheckedIOException if the file cannot be mapped
     */
    public static MemorySegment map(Path file, Header h, Arena arena) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (h.dataBytes() == 0) return arena.allocate(0);
            return ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset(), h.dataBytes(), arena);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a whole C-order array as float32 (integers converted, float64 rounded).
     *
     * @param file the .npy file
     * @return its elements in C order
     * @throws IllegalArgumentException if it holds too many elements for a float[]
     */
    public static float[] readFloats(Path file) {
        Header h = readCHeader(file);
        long n = h.count();
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException(file + " has too many elements for a float[]: " + n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = map(file, h, arena);
            float[] out = new float[(int) n];
            for (int i = 0; i < n; i++) out[i] = element(seg, h.dtype(), i, file);
            return out;
        }
    }

    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One element as float; integers are converted, float64 is rounded.
     *
     * @param seg the mapped data
     * @param t its dtype
     * @param i the element index
     * @param file the file, for messages
     * @return the value
     */
    public static float element(MemorySegment seg, Dtype t, long i, Path file) {
        return switch (t) {
            case FLOAT16 -> Float.float16ToFloat(seg.get(SHORT_LE, i * 2));
            case FLOAT32 -> seg.get(FLOAT_LE, i * 4);
            case FLOAT64 -> (float) seg.get(DOUBLE_LE, i * 8);
            case UINT8 -> seg.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            case INT8, BOOL -> seg.get(ValueLayout.JAVA_BYTE, i);
            case INT32 -> seg.get(INT_LE, i * 4);
            case INT64 -> seg.get(LONG_LE, i * 8);
        };
    }

    /**
     * One element of an integer array.
     *
     * @param seg the mapped data
     * @param t its dtype: uint8, int8, int32 or int64
     * @param i the element index
     * @param file the file, for messages
     * @return the value
     * @throws DataFormatException for another dtype
     */
    public static long integer(MemorySegment seg, Dtype t, long i, Path file) {
        return switch (t) {
            case UINT8 -> seg.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            case INT8 -> seg.get(ValueLayout.JAVA_BYTE, i);
            case INT32 -> seg.get(INT_LE, i * 4);
            case INT64 -> seg.get(LONG_LE, i * 8);
            default -> throw new DataFormatException(file + ": expected an integer dtype, found " + t.descr);
        };
    }

    /**
     * Writes a C-order float array, replacing the file.
     *
     * @param file the .npy file
     * @param dtype FLOAT32, FLOAT16 or FLOAT64
     * @param data the elements in C order
     * @param shape the dimensions, whose product is data.length
     * @throws IllegalArgumentException if the shape does not match the data, or for another dtype
     * @throws java.io.UncheckedIOException if the file cannot be written
     */
    public static void write(Path file, Dtype dtype, float[] data, long... shape) {
        long n = 1;
        for (long s : shape) n = Math.multiplyExact(n, s);
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n + " elements but data has " + data.length);
        }
        byte[] head = header(dtype, shape);
        ByteBuffer body = encode(dtype, data, 0, data.length);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer hb = ByteBuffer.wrap(head);
            while (hb.hasRemaining()) ch.write(hb);
            while (body.hasRemaining()) ch.write(body);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Little-endian encoding of data[from, from+count) as float32 or float16. */
    static ByteBuffer encode(Dtype dtype, float[] data, int from, int count) {
        ByteBuffer b = ByteBuffer.allocate(count * dtype.size).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case FLOAT32 -> { for (int i = 0; i < count; i++) b.putFloat(data[from + i]); }
            case FLOAT16 -> { for (int i = 0; i < count; i++) b.putShort(Float.floatToFloat16(data[from + i])); }
            case FLOAT64 -> {
                b = ByteBuffer.allocate(count * 8).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < count; i++) b.putDouble(data[from + i]);
            }
            default -> throw new IllegalArgumentException("cannot write floats as " + dtype.descr);
        }
        return b.flip();
    }
}
