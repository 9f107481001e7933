package org.projntk.store;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.Npy;

class FeatureStoreTest {
    @TempDir Path tmp;

    static final int K = 5;

    static StoreSpec spec(String kernel, int outputs, String dtype, long seed) {
        Map<String, SplitInfo> splits = new LinkedHashMap<>();
        splits.put("train", SplitInfo.of("fashion-mnist:train[0:37]", 0, 37));
        splits.put("test", SplitInfo.of("fashion-mnist:test[:10]", 0, 10));
        return new StoreSpec(new ProjectorInfo("rademacher", "philox4x32-10/v1", seed, 0, K, 2, true), kernel, outputs, dtype, splits);
    }

    static float value(String ck, String split, int out, long row, int col) {
        return (float) Math.sin(ck.hashCode() * 0.001 + split.length() * 1.7 + out * 3.1 + row * 0.37 + col * 0.11) * (1 + out);
    }

    /** Features for rows [start, start+count) as [outputs][count][K]. */
    static MemorySegment features(Arena a, String ck, String split, int outputs, long start, int count) {
        MemorySegment f = a.allocate((long) outputs * count * K * 4);
        for (int o = 0; o < outputs; o++) {
            for (int i = 0; i < count; i++) {
                for (int j = 0; j < K; j++) f.setAtIndex(ValueLayout.JAVA_FLOAT, ((long) o * count + i) * K + j, value(ck, split, o, start + i, j));
            }
        }
        return f;
    }

    static void fillAll(CheckpointWriter w, String ck, int outputs, int batch) {
        for (String split : List.of("train", "test")) {
            for (RowRange r : w.pendingBatches(split, batch, 0, 1)) {
                try (Arena a = Arena.ofConfined()) {
                    w.writeRows(split, r.start(), r.count(), features(a, ck, split, outputs, r.start(), r.count()));
                }
            }
        }
    }

    @Test
    void writeAllReopenReadBack() throws IOException {
        Path dir = tmp.resolve("s");
        FeatureStore s = FeatureStore.create(dir, spec("pntk", 1, "float32", 7));
        for (String ck : List.of("ep1", "ep2")) {
            CheckpointWriter w = s.checkpoint(ck, "/models/" + ck + ".pt", "sha256:" + ck);
            assertFalse(w.markComplete());
            fillAll(w, ck, 1, 8);
            assertEquals(37, w.doneRows("train"));
            assertTrue(w.markComplete());
        }
        assertThrows(IllegalStateException.class, () -> FeatureStore.create(dir, spec("pntk", 1, "float32", 7)));

        FeatureStore r = FeatureStore.open(dir);
        for (String ck : List.of("ep1", "ep2")) {
            assertTrue(r.isComplete(ck));
            for (String split : List.of("train", "test")) {
                try (StoredMatrix m = r.features(ck, split, null)) {
                    assertEquals(split.equals("train") ? 37 : 10, m.rows());
                    assertEquals(K, m.dim());
                    MemorySegment seg = m.rows(3, 4);
                    for (int i = 0; i < m.rows(); i++) {
                        float[] row = m.row(i);
                        for (int j = 0; j < K; j++) assertEquals(value(ck, split, 0, i, j), row[j]);
                    }
                    for (int i = 0; i < 4 * K; i++) {
                        assertEquals(value(ck, split, 0, 3 + i / K, i % K), seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i));
                    }
                }
                // an independent reader of the .npy file sees the same numbers
                float[] all = Npy.readFloats(dir.resolve(ck + "/" + split + ".npy"));
                assertEquals(value(ck, split, 0, 2, 3), all[2 * K + 3]);
            }
        }
        JsonNode man = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
        assertEquals(1, man.get("format_version").asInt());
        assertEquals(7, man.at("/projector/seed").asLong());
        assertEquals("philox4x32-10/v1", man.at("/projector/rng").asText());
        assertEquals(37, man.at("/splits/train/rows").asLong());
        assertEquals("complete", man.at("/checkpoints/ep2/status").asText());
        assertEquals("sha256:ep1", man.at("/checkpoints/ep1/model_checksum").asText());
        assertEquals(4, man.get("files").size());
        JsonNode f0 = man.get("files").get(0);
        assertTrue(f0.get("class").isNull());
        assertEquals("float32", f0.get("dtype").asText());
        assertEquals(K, f0.get("dim").asInt());
        assertTrue(Files.exists(dir.resolve(f0.get("path").asText())));
    }

    @Test
    void float16PerClassFiles() {
        Path dir = tmp.resolve("h");
        FeatureStore s = FeatureStore.openOrCreate(dir, spec("trntk", 3, "float16", 1));
        CheckpointWriter w = s.checkpoint("c", "m", "x");
        fillAll(w, "c", 3, 16);
        assertTrue(w.markComplete());
        for (int c = 0; c < 3; c++) {
            try (StoredMatrix m = FeatureStore.open(dir).features("c", "test", c)) {
                assertEquals("float16", m.dtype());
                MemorySegment seg = m.rows(0, 10);
                for (int i = 0; i < 10; i++) {
                    for (int j = 0; j < K; j++) {
                        float v = value("c", "test", c, i, j);
                        assertEquals(v, m.row(i)[j], Math.abs(v) * 0x1p-11, "float16 keeps 11 significant bits");
                        assertEquals(m.row(i)[j], seg.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * K + j));
                    }
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> s.features("c", "test", null));
    }

    @Test
    void resumeWritesOnlyPendingRows() {
        Path dir = tmp.resolve("r");
        CheckpointWriter w = FeatureStore.create(dir, spec("pntk", 1, "float32", 7)).checkpoint("c", "m", "x");
        try (Arena a = Arena.ofConfined()) {
            w.writeRows("train", 0, 8, features(a, "c", "train", 1, 0, 8));
            w.writeRows("train", 16, 3, features(a, "c", "train", 1, 16, 3)); // part of batch 2
        }
        CheckpointWriter again = FeatureStore.openOrCreate(dir, spec("pntk", 1, "float32", 7)).checkpoint("c", "m", "x");
        assertEquals(11, again.doneRows("train"));
        List<RowRange> pending = again.pendingBatches("train", 8, 0, 1);
        assertEquals(List.of(new RowRange(8, 8), new RowRange(16, 8), new RowRange(24, 8), new RowRange(32, 5)), pending);
        fillAll(again, "c", 1, 8);
        assertTrue(again.markComplete());
        try (StoredMatrix m = FeatureStore.open(dir).features("c", "train", null)) {
            for (int i = 0; i < 37; i++) assertEquals(value("c", "train", 0, i, 4), m.row(i)[4]);
        }
    }

    @Test
    void shardsPartitionTheBatchGrid() {
        CheckpointWriter w = FeatureStore.create(tmp.resolve("p"), spec("pntk", 1, "float32", 7)).checkpoint("c", "m", "x");
        for (int batch : new int[] {1, 5, 37, 50}) {
            for (int n : new int[] {1, 2, 3, 7}) {
                Set<Long> seen = new HashSet<>();
                for (int i = 0; i < n; i++) {
                    for (RowRange r : w.pendingBatches("train", batch, i, n)) {
                        assertEquals(0, r.start() % batch);
                        assertEquals(i, (r.start() / batch) % n);
                        assertEquals(Math.min(batch, 37 - r.start()), r.count());
                        assertTrue(seen.add(r.start()), "batch at " + r.start() + " given to two shards");
                    }
                }
                assertEquals((37 + batch - 1) / batch, seen.size(), "batch " + batch + ", shards " + n);
            }
        }
        try (Arena a = Arena.ofConfined()) {
            w.writeRows("train", 10, 5, features(a, "c", "train", 1, 10, 5));
        }
        assertEquals(List.of(new RowRange(0, 5), new RowRange(20, 5), new RowRange(30, 5)), w.pendingBatches("train", 5, 0, 2));
        assertEquals(List.of(new RowRange(5, 5), new RowRange(15, 5), new RowRange(25, 5), new RowRange(35, 2)), w.pendingBatches("train", 5, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> w.pendingBatches("train", 5, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> w.pendingBatches("train", 0, 0, 1));
    }

    @Test
    void incompatibleSpecIsRefused() {
        Path dir = tmp.resolve("i");
        FeatureStore.create(dir, spec("pntk", 1, "float32", 7)).checkpoint("c", "m", "sha:1");
        IncompatibleStoreException e = assertThrows(IncompatibleStoreException.class,
                () -> FeatureStore.openOrCreate(dir, spec("pntk", 1, "float32", 8)));
        assertTrue(e.getMessage().contains("projector.seed differs: store has 7, requested 8"), e.getMessage());
        e = assertThrows(IncompatibleStoreException.class, () -> FeatureStore.openOrCreate(dir, spec("pntk", 1, "float16", 7)));
        assertTrue(e.getMessage().contains("dtype differs: store has float32, requested float16"), e.getMessage());
        Map<String, SplitInfo> other = new LinkedHashMap<>(spec("pntk", 1, "float32", 7).splits());
        other.put("train", SplitInfo.of("fashion-mnist:train[0:36]", 0, 36));
        StoreSpec s2 = new StoreSpec(spec("pntk", 1, "float32", 7).projector(), "pntk", 1, "float32", other);
        e = assertThrows(IncompatibleStoreException.class, () -> FeatureStore.openOrCreate(dir, s2));
        assertTrue(e.getMessage().contains("splits.train.end differs: store has 37, requested 36"), e.getMessage());
        FeatureStore ok = FeatureStore.openOrCreate(dir, spec("pntk", 1, "float32", 7));
        e = assertThrows(IncompatibleStoreException.class, () -> ok.checkpoint("c", "m", "sha:2"));
        assertTrue(e.getMessage().contains("checkpoints.c.model_checksum differs: store has sha:1, requested sha:2"), e.getMessage());
    }

    @Test
    void nonFiniteFeaturesAreRefusedBeforeWriting() throws IOException {
        Path dir = tmp.resolve("n");
        CheckpointWriter w = FeatureStore.create(dir, spec("trntk", 2, "float32", 7)).checkpoint("c", "m", "x");
        byte[] before = Files.readAllBytes(dir.resolve("c/test.class0.npy"));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = features(a, "c", "test", 2, 0, 4);
            f.setAtIndex(ValueLayout.JAVA_FLOAT, 4 * K + 2 * K + 1, Float.NaN); // output 1, row 2, col 1
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.writeRows("test", 0, 4, f));
            assertTrue(e.getMessage().contains("output 1, row 2, column 1"), e.getMessage());
            f.setAtIndex(ValueLayout.JAVA_FLOAT, 4 * K + 2 * K + 1, Float.NEGATIVE_INFINITY);
            assertThrows(IllegalArgumentException.class, () -> w.writeRows("test", 0, 4, f));
            assertThrows(IllegalArgumentException.class, () -> w.writeRows("test", 0, 3, f), "size mismatch");
            assertThrows(IllegalArgumentException.class, () -> w.writeRows("test", 8, 4, f), "past the end");
        }
        assertEquals(0, w.doneRows("test"));
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("c/test.class0.npy")));
    }

    /** Fails with an IOException once more than budget bytes would have been written (writing the part that fits). */
    static final class FailingIo implements StoreIo {
        long budget;

        FailingIo(long budget) {
            this.budget = budget;
        }

        @Override
        public WritableFile open(Path file) throws IOException {
            WritableFile inner = StoreIo.DEFAULT.open(file);
            return new WritableFile() {
                @Override
                public void write(ByteBuffer buf, long position) throws IOException {
                    if (buf.remaining() > budget) {
                        ByteBuffer part = buf.slice(buf.position(), (int) budget);
                        inner.write(part, position);
                        budget = 0;
                        throw new IOException("No space left on device (injected)");
                    }
                    budget -= buf.remaining();
                    inner.write(buf, position);
                }

                @Override
                public void force() throws IOException {
                    inner.force();
                }

                @Override
                public void close() throws IOException {
                    inner.close();
                }
            };
        }
    }

    @Test
    void injectedIoErrorLeavesAResumableStore() throws IOException {
        Path ref = tmp.resolve("ref");
        FailingIo counter = new FailingIo(Long.MAX_VALUE);
        CheckpointWriter rw = FeatureStore.openOrCreate(ref, spec("trntk", 2, "float16", 3), counter).checkpoint("c", "m", "x");
        fillAll(rw, "c", 2, 6);
        assertTrue(rw.markComplete());
        List<Path> files = new ArrayList<>();
        try (var st = Files.walk(ref.resolve("c"))) {
            st.filter(Files::isRegularFile).forEach(p -> files.add(ref.relativize(p)));
        }
        assertEquals(6, files.size());

        long total = Long.MAX_VALUE - counter.budget;
        // fail during file creation, inside feature data, and inside the last completion-bitmap write
        for (long budget : new long[] {100, total / 3, total / 2 + 1, total - 2}) {
            Path dir = tmp.resolve("f" + budget);
            FailingIo io = new FailingIo(budget);
            StoreIOException e = assertThrows(StoreIOException.class, () -> {
                CheckpointWriter w = FeatureStore.openOrCreate(dir, spec("trntk", 2, "float16", 3), io).checkpoint("c", "m", "x");
                fillAll(w, "c", 2, 6);
            }, "budget " + budget);
            assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("injected"), e.getMessage());
            assertNotNull(e.file());

            FeatureStore again = FeatureStore.openOrCreate(dir, spec("trntk", 2, "float16", 3));
            CheckpointWriter w = again.checkpoint("c", "m", "x");
            assertFalse(w.markComplete());
            fillAll(w, "c", 2, 6);
            assertTrue(w.markComplete());
            for (Path f : files) assertEquals(-1, Files.mismatch(ref.resolve(f), dir.resolve(f)), f + " after failure at " + budget);
        }
    }

    @Test
    void concurrentOpenOrCreateAgrees() throws Exception {
        Path dir = tmp.resolve("cc");
        ExecutorService ex = Executors.newFixedThreadPool(4);
        try {
            List<Future<CheckpointWriter>> fs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                fs.add(ex.submit(() -> FeatureStore.openOrCreate(dir, spec("pntk", 1, "float32", 7)).checkpoint("c", "m", "x")));
            }
            for (int t = 0; t < 4; t++) {
                CheckpointWriter w = fs.get(t).get();
                try (Arena a = Arena.ofConfined()) {
                    w.writeRows("test", t, 1, features(a, "c", "test", 1, t, 1));
                }
            }
        } finally {
            ex.shutdown();
        }
        FeatureStore s = FeatureStore.open(dir);
        assertEquals(1, s.manifest().checkpoints().size());
        assertEquals(4, s.doneRows("c", "test"));
    }
}
