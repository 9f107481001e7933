package org.projntk.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed (detected by the gzip magic). */
public final class Idx {
    private Idx() {}

    /** The magic number of an images file: unsigned bytes, 3 dimensions. */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** The magic number of a labels file: unsigned bytes, 1 dimension. */
    public static final int LABELS_MAGIC = 0x00000801;

    /**
     * Reads an images/labels pair into memory; labels must be 0..9 and both files must hold the same count.
     *
     * @param images the images file, e.g. train-images-idx3-ubyte.gz
     * @param labels the labels file
     * @param norm how bytes become inputs
     * @return the dataset, examples [1, rows, cols]
     * @throws DataFormatException naming the file and byte offset of a bad magic, size, count or label
     * @throws java.io.UncheckedIOException if a file is missing or unreadable
     */
    public static Dataset open(Path images, Path labels, Normalization norm) {
        return new Dataset(source(images, labels), norm);
    }

    static Source source(Path images, Path labels) {
        String where = images.getFileName().toString().endsWith(".gz") || isGzip(images) ? " (offsets in the decompressed stream)" : "";
        byte[] img = decode(images);
        byte[] lab = decode(labels);
        int n = header(img, images, IMAGES_MAGIC, where);
        int rows = readInt(img, 8), cols = readInt(img, 12);
        if (rows <= 0 || cols <= 0) throw new DataFormatException(images + " at byte 8: bad image size " + rows + "x" + cols + where);
        long need = 16 + (long) n * rows * cols;
        if (img.length < need) {
            throw new DataFormatException(images + " at byte " + img.length + ": short read, " + n + " images of " + rows + "x"
                    + cols + " need " + need + " bytes but the file has " + img.length + where);
        }
        int m = header(lab, labels, LABELS_MAGIC, where);
        if (m != n) {
            throw new DataFormatException(labels + " at byte 4: label count " + m + " != image count " + n + " in " + images);
        }
        if (lab.length < 8L + m) {
            throw new DataFormatException(labels + " at byte " + lab.length + ": short read, " + m + " labels need "
                    + (8L + m) + " bytes but the file has " + lab.length + where);
        }
        byte[] pixels = new byte[Math.toIntExact(need - 16)];
        System.arraycopy(img, 16, pixels, 0, pixels.length);
        byte[] y = new byte[m];
        System.arraycopy(lab, 8, y, 0, m);
        for (int i = 0; i < m; i++) {
            if ((y[i] & 0xFF) > 9) throw new DataFormatException(labels + " at byte " + (8 + i) + ": label " + (y[i] & 0xFF) + " is not in 0..9");
        }
        return new ByteImageSource("idx:" + images + "," + labels, pixels, y, new int[] {1, rows, cols});
    }

    private static int header(byte[] b, Path file, int magic, String where) {
        if (b.length < 4) {
            throw new DataFormatException(file + " at byte " + b.length + ": short read, the file is too short for an IDX magic" + where);
        }
        int got = readInt(b, 0);
        if (got != magic) {
            throw new DataFormatException(file + " at byte 0: bad magic 0x" + String.format("%08x", got) + ", expected 0x"
                    + String.format("%08x", magic) + (magic == IMAGES_MAGIC ? " (IDX ubyte images)" : " (IDX ubyte labels)"));
        }
        int headerLen = 4 + 4 * (magic & 0xFF);
        if (b.length < headerLen) {
            throw new DataFormatException(file + " at byte " + b.length + ": short read, the IDX header needs " + headerLen
                    + " bytes but the file has " + b.length + where);
        }
        int n = readInt(b, 4);
        if (n < 0) throw new DataFormatException(file + " at byte 4: negative count " + n);
        return n;
    }

    static int readInt(byte[] b, int off) {
        return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
    }

    private static boolean isGzip(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        } catch (IOException e) {
            return false;
        }
    }

    /** The file's bytes, decompressed when it starts with the gzip magic. */
    static byte[] decode(Path file) {
        if (!Files.isRegularFile(file)) throw new UncheckedIOException(new java.io.FileNotFoundException("no such file: " + file));
        if (!isGzip(file)) {
            try {
                return Files.readAllBytes(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) out.write(buf, 0, n);
        } catch (IOException e) {
            throw new DataFormatException(file + " at byte " + out.size() + " (decompressed): corrupt or truncated gzip stream: "
                    + e.getMessage(), e);
        }
        return out.toByteArray();
    }
}
