package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.Npy;

/**
 * score, gram, similar and sweep failing mid-way (after their output files were started) leave no temporary file:
 * each test lists the output directory after the failure.
 */
class FailureCleanupTest {
    @TempDir static Path tmp;
    private static Path store;

    /** A trNTK store of builtin:tiny-mlp on random npy data (K = 8), made once. */
    private static synchronized Path store() throws IOException {
        if (store == null) {
            Path s = tmp.resolve("trntk");
            CommandLineTest.ok("featurize", "--model", "builtin:tiny-mlp", "--train", npyData(tmp, "a", 30, 3), "--test",
                    npyData(tmp, "b", 10, 4), "--kernel", "trntk", "--dim", "8", "--out", s.toString());
            store = s;
        }
        return store;
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A non-empty directory where a result file should go: writing the temporary file works, renaming it over fails. */
    private static void blockWithDirectory(Path target) throws IOException {
        Files.createDirectories(target);
        Files.writeString(target.resolve("keep"), "x");
    }

    private static CommandLineTest.Run fails(String... argv) {
        CommandLineTest.Run r = CommandLineTest.run(argv);
        assertEquals(1, r.code(), String.join(" ", argv) + "\n" + r.out() + r.err());
        assertEquals(1, r.errLines().size(), r.err());
        return r;
    }

    @Test
    void gramWhoseRenameFailsRemovesItsTemporaryFile() throws IOException {
        Path out = tmp.resolve("gram");
        blockWithDirectory(out.resolve("k.npy"));
        fails("gram", "--store", store().toString(), "--rows", "train", "--cols", "test", "--out", out.resolve("k.npy").toString());
        assertEquals(List.of("k.npy"), list(out));
    }

    @Test
    void similarWhoseTableCannotBePlacedRemovesItsTemporaryFile() throws IOException {
        Path out = tmp.resolve("similar");
        blockWithDirectory(out.resolve("similar.csv"));
        fails("similar", "--store", store().toString(), "--top", "2", "--out", out.toString());
        assertEquals(List.of("similar.csv"), list(out));
    }

    @Test
    void sweepWhosePlotCannotBePlacedRemovesItsTemporaryFiles() throws IOException {
        CommandLineTest.assumeData();
        Path out = tmp.resolve("sweep");
        blockWithDirectory(out.resolve("sweep.png"));
        fails("sweep", "--model", "builtin:cnn-fmnist", "--train", "fashion-mnist:train[0:8]", "--test", "fashion-mnist:test[0:4]",
                "--dims", "4", "--proj", "sjlt", "--repeats", "1", "--out", out.toString());
        assertEquals(List.of("sweep.png"), list(out), "nothing is renamed unless every file was written");
    }

    /** npy:X,Y with n rows of 4 Gaussian features and labels in {0, 1, 2}. */
    static String npyData(Path dir, String name, int n, long seed) throws IOException {
        Random r = new Random(seed);
        float[] x = new float[n * 4];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        byte[] y = new byte[n];
        for (int i = 0; i < n; i++) y[i] = (byte) r.nextInt(3);
        Path xp = dir.resolve(name + "-x.npy"), yp = dir.resolve(name + "-y.npy");
        Npy.write(xp, Npy.Dtype.FLOAT32, x, n, 4);
        byte[] head = Npy.header(Npy.Dtype.UINT8, n);
        Files.write(yp, ByteBuffer.allocate(head.length + n).put(head).put(y).array());
        return "npy:" + xp + "," + yp;
    }

    @Test
    void scoreOverADamagedStoreRemovesItsFullSizeTemporaryFile() throws IOException {
        Path store = tmp.resolve("margin");
        CommandLineTest.ok("featurize", "--model", "builtin:tiny-mlp", "--train", npyData(tmp, "train", 40, 1), "--test",
                npyData(tmp, "test", 12, 2), "--kernel", "margin", "--dim", "8", "--out", store.toString());
        Path train = store.resolve("0/train.npy");
        try (RandomAccessFile f = new RandomAccessFile(train.toFile(), "rw")) {
            f.seek(f.length() - 7);
            int b = f.read();
            f.seek(f.length() - 7);
            f.write(b ^ 0x40);
        }
        Path out = tmp.resolve("scores");
        Files.createDirectories(out);
        CommandLineTest.Run r = fails("score", "--store", store.toString(), "--out", out.resolve("scores.npy").toString());
        assertTrue(r.err().contains("checksum mismatch in " + train) && r.err().contains("batch rows [0, 40)"), r.err());
        assertEquals(List.of(), list(out));
    }
}
