package org.projntk.store;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Margin stores keep TRAK's out-to-loss weights Q per row, and one model id per checkpoint. */
class OutToLossStoreTest {
    @TempDir Path dir;

    static StoreSpec spec(String kernel) {
        Map<String, SplitInfo> splits = new LinkedHashMap<>();
        splits.put("train", SplitInfo.of("x", 0, 6));
        return new StoreSpec(new ProjectorInfo("rademacher", "philox4x32-10/v1", 1, 7, 3, 2, true), kernel, 1, "float32", splits);
    }

    static MemorySegment features(Arena arena, int rows) {
        MemorySegment f = arena.allocate(ValueLayout.JAVA_FLOAT, rows * 3L);
        for (int i = 0; i < rows * 3; i++) f.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f);
        return f;
    }

    @Test
    void qIsStoredPerRowAndDescribedInTheManifest() throws Exception {
        FeatureStore store = FeatureStore.create(dir, spec("margin"));
        CheckpointWriter w = store.checkpoint("a", "m", "sha:a", 1234L);
        try (Arena arena = Arena.ofConfined()) {
            w.writeRows("train", 0, 4, features(arena, 4), new float[] {0.1f, 0.2f, 0.3f, 0.4f});
            var e = assertThrows(IllegalArgumentException.class, () -> w.writeRows("train", 4, 2, features(arena, 2)));
            assertTrue(e.getMessage().contains("out-to-loss"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> w.writeRows("train", 4, 2, features(arena, 2), new float[] {0.5f, 1.5f}));
            assertTrue(e.getMessage().contains("[0, 1]"), e.getMessage());
            assertEquals(4, store.doneRows("a", "train"), "a rejected write marks nothing");
            w.writeRows("train", 4, 2, features(arena, 2), new float[] {0.5f, 0.6f});
        }
        assertTrue(w.markComplete());
        FeatureStore reopened = FeatureStore.open(dir);
        assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, reopened.outToLoss("a", "train"));
        JsonNode man = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
        JsonNode q = man.get("out_to_loss").get(0);
        assertEquals("a/train.q.npy", q.get("path").asText());
        assertEquals(6, q.get("rows").asLong());
        assertEquals(7, man.get("checkpoints").get("a").get("model_id").asLong());
        assertEquals(1234, man.get("checkpoints").get("a").get("parameters").asLong());
        store.checkpoint("b", "m", "sha:b");
        assertEquals(8, FeatureStore.open(dir).manifest().modelId("b"), "the second checkpoint takes the next model id");
    }

    @Test
    void otherKernelsKeepNoQ() {
        FeatureStore store = FeatureStore.create(dir, spec("pntk"));
        CheckpointWriter w = store.checkpoint("a", "m", "sha:a");
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> w.writeRows("train", 0, 1, features(arena, 1), new float[] {0.5f}));
            w.writeRows("train", 0, 1, features(arena, 1));
        }
        var e = assertThrows(IllegalArgumentException.class, () -> store.outToLoss("a", "train"));
        assertTrue(e.getMessage().contains("margin"), e.getMessage());
        assertNull(FeatureStore.open(dir).manifest().outToLoss());
    }

    @Test
    void storesWithoutRecordedModelIdsUseTheProjectorsForEveryCheckpoint() throws Exception {
        FeatureStore.create(dir, spec("pntk")).checkpoint("a", "m", "sha:a");
        FeatureStore.open(dir).checkpoint("b", "m", "sha:b");
        ObjectMapper json = new ObjectMapper();
        ObjectNode man = (ObjectNode) json.readTree(dir.resolve("manifest.json").toFile());
        for (String id : new String[] {"a", "b"}) ((ObjectNode) man.get("checkpoints").get(id)).remove("model_id");
        Files.write(dir.resolve("manifest.json"), json.writeValueAsBytes(man));
        Manifest m = FeatureStore.open(dir).manifest();
        assertEquals(7, m.modelId("a"));
        assertEquals(7, m.modelId("b"));
    }
}
