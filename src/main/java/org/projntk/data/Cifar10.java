package org.projntk.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** CIFAR-10 binary batches: records of 1 label byte followed by 3072 bytes (3x32x32, CHW). */
public final class Cifar10 {
    private Cifar10() {}

    /** Bytes per record: the label, then the image. */
    public static final int RECORD = 1 + 3 * 32 * 32;

    /**
     * The batch files of a split, as the CIFAR-10 binary archive names them.
     *
     * @param train the 50,000 training images (5 files) or the 10,000 test images (1 file)
     * @return the file names, in row order
     */
    public static List<String> files(boolean train) {
        return train ? List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin")
                : List.of("test_batch.bin");
    }

    /**
     * Reads a split into memory.
     *
     * @param dir the directory holding the .bin batch files
     * @param train which split
     * @param norm how bytes become inputs
     * @return the dataset, examples [3, 32, 32]
     * @throws DataFormatException if a file is truncated or holds a label above 9
     * @throws java.io.UncheckedIOException if a file is missing or unreadable
     */
    public static Dataset open(Path dir, boolean train, Normalization norm) {
        return new Dataset(source(dir, train), norm);
    }

    static Source source(Path dir, boolean train) {
        List<String> names = files(train);
        byte[][] contents = new byte[names.size()][];
        long total = 0;
        for (int f = 0; f < names.size(); f++) {
            Path p = dir.resolve(names.get(f));
            try {
                contents[f] = Files.readAllBytes(p);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read CIFAR-10 batch " + p + ": " + e, e);
            }
            int len = contents[f].length;
            if (len == 0 || len % RECORD != 0) {
                long at = (long) (len / RECORD) * RECORD;
                throw new DataFormatException(p + " at byte " + at + ": truncated record (file size " + len
                        + " is not a positive multiple of the " + RECORD + "-byte record)");
            }
            total += len / RECORD;
        }
        int n = Math.toIntExact(total);
        byte[] labels = new byte[n];
        byte[] pixels = new byte[Math.multiplyExact(n, RECORD - 1)];
        int row = 0;
        for (int f = 0; f < contents.length; f++) {
            byte[] c = contents[f];
            for (int r = 0; r < c.length / RECORD; r++, row++) {
                int off = r * RECORD;
                if ((c[off] & 0xFF) > 9) {
                    throw new DataFormatException(dir.resolve(names.get(f)) + " at byte " + off + ": label " + (c[off] & 0xFF) + " is not in 0..9");
                }
                labels[row] = c[off];
                System.arraycopy(c, off + 1, pixels, row * (RECORD - 1), RECORD - 1);
            }
        }
        return new ByteImageSource("cifar10:" + dir + ":" + (train ? "train" : "test"), pixels, labels, new int[] {3, 32, 32});
    }
}
