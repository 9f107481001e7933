package org.projntk.store;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.Npy;

/** CRC32C per feature file and per batch: recorded on write, checked by every read, by verify(), and backfilled by rehash(). */
class StoreChecksumTest {
    @TempDir Path tmp;

    @AfterEach
    void restoreWarnings() {
        Checksums.setWarningListener(null);
    }

    /** A trNTK store (3 classes, float32), batches of 8 rows; the checkpoint completed unless running is set. */
    private Path store(String name, boolean complete) {
        Path dir = tmp.resolve(name);
        FeatureStore s = FeatureStore.create(dir, FeatureStoreTest.spec("trntk", 3, "float32", 5));
        CheckpointWriter w = s.checkpoint("ck", "m.pt", "sha256:0");
        FeatureStoreTest.fillAll(w, "ck", 3, 8);
        assertEquals(complete, complete && w.markComplete());
        return dir;
    }

    private static String crcOf(byte[] bytes, int from, int to) {
        CRC32C c = new CRC32C();
        c.update(bytes, from, to - from);
        return String.format(Locale.ROOT, "%08x", c.getValue());
    }

    /** Offset of byte b of element (row, col) of a [rows x K] float32 .npy. */
    private static long offset(Path file, long row, int col, int b) throws IOException {
        return Npy.header(Npy.Dtype.FLOAT32, 37, FeatureStoreTest.K).length + (row * FeatureStoreTest.K + col) * 4L + b;
    }

    private static void flip(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int v = f.read();
            f.seek(at);
            f.write(v ^ 0x01);
        }
    }

    @Test
    void manifestRecordsTheCrc32cOfEveryFileAndBatch() throws IOException {
        Path dir = store("s", true);
        Manifest m = FeatureStore.open(dir).manifest();
        for (Manifest.FileEntry f : m.files()) {
            byte[] bytes = Files.readAllBytes(dir.resolve(f.path()));
            assertEquals(crcOf(bytes, 0, bytes.length), f.crc32c(), f.path());
            int header = Npy.header(Npy.Dtype.FLOAT32, f.rows(), f.dim()).length;
            List<Manifest.BatchEntry> batches = m.batches("ck", f.split());
            assertEquals((f.rows() + 7) / 8, batches.size());
            for (Manifest.BatchEntry b : batches) {
                int from = (int) (header + b.start() * f.dim() * 4), to = (int) (from + b.rows() * f.dim() * 4);
                assertEquals(crcOf(bytes, from, to), b.crc32c().get(f.clazz()), f.path() + " " + b);
            }
        }
    }

    @Test
    void aFlippedMantissaOrExponentByteFailsTheReadNamingFileBatchAndBothChecksums() throws IOException {
        for (int b : new int[] {0, 3}) { // little endian: byte 0 is the lowest mantissa byte, byte 3 holds sign and exponent
            Path dir = store("flip" + b, true);
            Path file = dir.resolve("ck/train.class2.npy");
            flip(file, offset(file, 19, 2, b));
            FeatureStore s = FeatureStore.open(dir);
            ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, () -> s.features("ck", "train", 2));
            assertEquals(file, e.file());
            assertEquals("batch rows [16, 24)", e.batch());
            assertNotEquals(e.recorded(), e.actual());
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("batch rows [16, 24)")
                    && e.getMessage().contains(e.recorded()) && e.getMessage().contains(e.actual()), e.getMessage());
            s.features("ck", "train", 1).close(); // the other classes are intact
            List<String> problems = s.verify();
            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.get(0).contains("train.class2.npy") && problems.get(0).contains("batch rows [16, 24)"), problems.get(0));
        }
    }

    @Test
    void aDamagedHeaderIsAWholeFileMismatch() throws IOException {
        Path dir = store("h", true);
        Path file = dir.resolve("ck/test.class0.npy");
        byte[] bytes = Files.readAllBytes(file);
        int quote = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("fortran_order");
        bytes[quote + 30] = (byte) (bytes[quote + 30] == ' ' ? '\t' : ' ');
        Files.write(file, bytes);
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, () -> FeatureStore.open(dir).features("ck", "test", 0));
        assertEquals("whole file", e.batch());
    }

    @Test
    void aRunningCheckpointIsCheckedBatchByBatch() throws IOException {
        Path dir = store("r", false);
        assertNull(FeatureStore.open(dir).manifest().file("ck", "test", 0).crc32c());
        Path file = dir.resolve("ck/test.class1.npy");
        flip(file, Npy.header(Npy.Dtype.FLOAT32, 10, FeatureStoreTest.K).length + 9L * FeatureStoreTest.K * 4);
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, () -> FeatureStore.open(dir).features("ck", "test", 1));
        assertEquals("batch rows [8, 10)", e.batch());
    }

    @Test
    void verificationIsCachedPerFileSizeAndModificationTime() throws IOException {
        Path dir = store("c", true);
        Path file = dir.resolve("ck/train.class0.npy");
        FeatureStore.open(dir).features("ck", "train", 0).close();
        FileTime before = Files.getLastModifiedTime(file);
        flip(file, offset(file, 3, 0, 1));
        Files.setLastModifiedTime(file, before);
        // same path, size, mtime and recorded checksum: not read again in this process
        FeatureStore.open(dir).features("ck", "train", 0).close();
        Files.setLastModifiedTime(file, FileTime.fromMillis(before.toMillis() + 5000));
        assertThrows(ChecksumMismatchException.class, () -> FeatureStore.open(dir).features("ck", "train", 0));
    }

    @Test
    void anOldStoreIsReadUnverifiedWithOneWarningAndRehashRecordsItsChecksums() throws IOException {
        Path dir = store("old", true);
        // the manifest as written before checksums existed: no batches, no crc32c
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(dir.resolve(FeatureStore.MANIFEST).toFile());
        root.remove("batches");
        for (JsonNode f : root.get("files")) ((ObjectNode) f).remove("crc32c");
        json.writeValue(dir.resolve(FeatureStore.MANIFEST).toFile(), root);
        Path file = dir.resolve("ck/train.class1.npy");
        byte[] original = Files.readAllBytes(file);

        List<String> warnings = new ArrayList<>();
        Checksums.setWarningListener(warnings::add);
        FeatureStore s = FeatureStore.open(dir);
        for (int c = 0; c < 3; c++) s.features("ck", "train", c).close();
        FeatureStore.open(dir).features("ck", "test", 0).close();
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("verify --rehash"), warnings.get(0));
        List<String> problems = s.verify();
        assertEquals(6, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("no checksum recorded"), problems.get(0));

        assertEquals(6, s.rehash());
        assertEquals(List.of(), s.verify());
        assertEquals(crcOf(original, 0, original.length), FeatureStore.open(dir).manifest().file("ck", "train", 1).crc32c());
        flip(file, offset(file, 30, 4, 3));
        assertThrows(ChecksumMismatchException.class, () -> FeatureStore.open(dir).features("ck", "train", 1));
        assertEquals(0, s.rehash() - 0, "rehash keeps recorded checksums: nothing new to record");
        assertEquals(1, s.verify().size());
    }

    @Test
    void rehashOfARunningOldCheckpointRecordsRunsOfDoneRows() throws IOException {
        Path dir = store("oldrun", false);
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(dir.resolve(FeatureStore.MANIFEST).toFile());
        root.remove("batches");
        json.writeValue(dir.resolve(FeatureStore.MANIFEST).toFile(), root);
        // rows 8..15 of test were never done
        Path done = dir.resolve("ck/test.done");
        byte[] d = Files.readAllBytes(done);
        java.util.Arrays.fill(d, 8, 10, (byte) 0);
        Files.write(done, d);
        FeatureStore s = FeatureStore.open(dir);
        s.rehash();
        Manifest m = FeatureStore.open(dir).manifest();
        assertEquals(1, m.batches("ck", "test").size());
        assertEquals(8, m.batches("ck", "test").get(0).rows());
        assertEquals(1, m.batches("ck", "train").size());
        assertEquals(37, m.batches("ck", "train").get(0).rows());
        assertEquals(List.of(), s.verify());
    }
}
