package org.projntk.attribution;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

import org.projntk.data.Npy;

/**
 * A float32 [rows x cols] {@code .npy} filled tile by tile with positional writes. {@link #create} writes the header
 * and sizes the file, so tiles may arrive in any order, from any number of writers (processes on a shared
 * filesystem), and a tile written twice with the same values leaves the same bytes. {@link #publish} renames the
 * finished file into place. An open instance is for one thread; several instances (threads or processes) may write
 * one file at once.
 */
public final class TileNpy implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final long dataOffset;
    private final long rows;
    private final long cols;
    private ByteBuffer line = ByteBuffer.allocate(0);

    private TileNpy(Path file, FileChannel channel, long dataOffset, long rows, long cols) {
        this.file = file;
        this.channel = channel;
        this.dataOffset = dataOffset;
        this.rows = rows;
        this.cols = cols;
    }

    /**
     * Creates (or truncates) a file with the header of a float32 [rows x cols] array, at its full size (sparse where the
     * file system allows), creating missing parent folders.
     *
     * @param file the file
     * @param rows the array's rows, at least 1
     * @param cols the array's columns, at least 1
     * @throws IllegalArgumentException for a shape below 1 x 1
     * @throws ArithmeticException      when the size overflows a long
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public static void create(Path file, long rows, long cols) {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("a score file needs rows, cols >= 1, got " + rows + " x " + cols);
        byte[] header = Npy.header(Npy.Dtype.FLOAT32, rows, cols);
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap(header), 0);
                ch.write(ByteBuffer.wrap(new byte[1]), header.length + Math.multiplyExact(Math.multiplyExact(rows, cols), (long) Float.BYTES) - 1);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("creating " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Opens a file made by {@link #create} for writing tiles.
     *
     * @param file the file
     * @return the open file; close it
     * @throws IllegalArgumentException when the file is not a C-order float32 matrix {@code .npy}
     * @throws java.io.UncheckedIOException when the file cannot be opened
     */
    public static TileNpy open(Path file) {
        Npy.Header h = Npy.readHeader(file);
        if (h.dtype() != Npy.Dtype.FLOAT32 || h.shape().length != 2 || h.fortranOrder()) {
            throw new IllegalArgumentException(file + " is not a C-order float32 matrix .npy");
        }
        try {
            return new TileNpy(file, FileChannel.open(file, StandardOpenOption.WRITE), h.dataOffset(), h.shape()[0], h.shape()[1]);
        } catch (IOException e) {
            throw new UncheckedIOException("opening " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes tile[i * tileCols + j] at (r0 + i, c0 + j), little-endian.
     *
     * @param r0       the tile's first row
     * @param c0       the tile's first column
     * @param tileRows the tile's height, at least 1
     * @param tileCols the tile's width, at least 1
     * @param tile     the values, row-major [tileRows x tileCols]
     * @throws IllegalArgumentException for a tile outside the array
     * @throws java.io.UncheckedIOException when the write fails
     */
    public void write(long r0, long c0, int tileRows, int tileCols, float[] tile) {
        if (r0 < 0 || c0 < 0 || tileRows < 1 || tileCols < 1 || r0 + tileRows > rows || c0 + tileCols > cols) {
            throw new IllegalArgumentException("tile [" + r0 + "+" + tileRows + ", " + c0 + "+" + tileCols + ") outside " + rows + " x " + cols + " of " + file);
        }
        if (line.capacity() < tileCols * Float.BYTES) line = ByteBuffer.allocate(tileCols * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        try {
            for (int i = 0; i < tileRows; i++) {
                line.clear();
                line.asFloatBuffer().put(tile, i * tileCols, tileCols);
                line.limit(tileCols * Float.BYTES);
                long position = dataOffset + ((r0 + i) * cols + c0) * Float.BYTES;
                while (line.hasRemaining()) position += channel.write(line, position);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Forces the written tiles to disk and closes the file.
     *
     * @throws java.io.UncheckedIOException when the flush fails (the file is closed anyway)
     */
    @Override
    public void close() {
        try (channel) {
            channel.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Renames a finished file over its target, atomically.
     *
     * @param tmp the finished file
     * @param out the target, replaced if present
     * @throws java.io.UncheckedIOException when the rename fails (including where the file system cannot rename
     *                                      atomically)
     */
    public static void publish(Path tmp, Path out) {
        try {
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("renaming " + tmp + " to " + out + ": " + e.getMessage(), e);
        }
    }
}
