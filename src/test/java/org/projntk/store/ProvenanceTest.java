package org.projntk.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every field that determines a feature is recorded, and a resume or shard that differs in any one is refused by name. */
class ProvenanceTest {
    @TempDir Path tmp;

    static StoreSpec spec(UnaryOperator<ProjectorInfo> projector, String trainDataset, long trainEnd) {
        Map<String, SplitInfo> splits = new LinkedHashMap<>();
        splits.put("train", SplitInfo.of(trainDataset, 0, trainEnd));
        splits.put("test", SplitInfo.of("fashion-mnist:test", 0, 10));
        return new StoreSpec(projector.apply(new ProjectorInfo("rademacher", "philox4x32-10/v1", 3, 0, 16, 2, true)),
                "pntk", 1, "float32", splits);
    }

    static final Manifest.Checkpoint BASE = new Manifest.Checkpoint("builtin:cnn-fmnist", "sha256:aa", Manifest.Checkpoint.RUNNING,
            5L, "fc.", 650L, "none");

    @Test
    void provenanceIsWrittenAndReadBack() {
        FeatureStore s = FeatureStore.openOrCreate(tmp, spec(p -> p, "fashion-mnist:train", 20));
        s.checkpoint("c", BASE);
        Manifest.Checkpoint c = FeatureStore.open(tmp).manifest().checkpoints().get("c");
        assertEquals("builtin:cnn-fmnist", c.model());
        assertEquals("sha256:aa", c.modelChecksum());
        assertEquals(5L, c.modelSeed());
        assertEquals("fc.", c.params());
        assertEquals(650L, c.parameters());
        assertEquals("none", c.inputNormalization());
        assertTrue(c.hasProvenance());
        s.checkpoint("c", BASE); // the same job resumes
    }

    @Test
    void aCheckpointDifferingInAnyRecordedFieldIsRefusedByName() {
        FeatureStore s = FeatureStore.openOrCreate(tmp, spec(p -> p, "fashion-mnist:train", 20));
        s.checkpoint("c", BASE);
        Map<String, Manifest.Checkpoint> changed = new LinkedHashMap<>();
        changed.put("model", new Manifest.Checkpoint("builtin:mlp", "sha256:aa", "running", 5L, "fc.", 650L, "none"));
        changed.put("model_checksum", new Manifest.Checkpoint("builtin:cnn-fmnist", "sha256:bb", "running", 5L, "fc.", 650L, "none"));
        changed.put("model_seed", new Manifest.Checkpoint("builtin:cnn-fmnist", "sha256:aa", "running", 0L, "fc.", 650L, "none"));
        changed.put("params", new Manifest.Checkpoint("builtin:cnn-fmnist", "sha256:aa", "running", 5L, "", 650L, "none"));
        changed.put("parameters", new Manifest.Checkpoint("builtin:cnn-fmnist", "sha256:aa", "running", 5L, "fc.", 20490L, "none"));
        changed.put("input_normalization", new Manifest.Checkpoint("builtin:cnn-fmnist", "sha256:aa", "running", 5L, "fc.", 650L, "default"));
        for (var e : changed.entrySet()) {
            var ex = assertThrows(IncompatibleStoreException.class, () -> FeatureStore.open(tmp).checkpoint("c", e.getValue()), e.getKey());
            assertTrue(ex.getMessage().contains("checkpoints.c." + e.getKey() + " differs"), ex.getMessage());
            // only the changed field is named
            for (String other : changed.keySet()) {
                if (!other.equals(e.getKey()) && !e.getKey().startsWith(other) && !other.startsWith(e.getKey())) {
                    assertTrue(!ex.getMessage().contains("checkpoints.c." + other + " "), other + " in " + ex.getMessage());
                }
            }
        }
    }

    @Test
    void aStoreDifferingInProjectorOrDatasetIsRefusedByName() {
        FeatureStore.openOrCreate(tmp, spec(p -> p, "fashion-mnist:train", 20));
        Map<String, StoreSpec> changed = new LinkedHashMap<>();
        changed.put("projector.seed", spec(p -> new ProjectorInfo(p.kind(), p.rng(), 4, p.modelId(), p.k(), p.sjltS(), p.scaled()), "fashion-mnist:train", 20));
        changed.put("projector.k", spec(p -> new ProjectorInfo(p.kind(), p.rng(), p.seed(), p.modelId(), 32, p.sjltS(), p.scaled()), "fashion-mnist:train", 20));
        changed.put("projector.kind", spec(p -> new ProjectorInfo("normal", p.rng(), p.seed(), p.modelId(), p.k(), p.sjltS(), p.scaled()), "fashion-mnist:train", 20));
        changed.put("projector.model_id", spec(p -> new ProjectorInfo(p.kind(), p.rng(), p.seed(), 9, p.k(), p.sjltS(), p.scaled()), "fashion-mnist:train", 20));
        changed.put("projector.rng", spec(p -> new ProjectorInfo(p.kind(), "philox4x32-10/v2", p.seed(), p.modelId(), p.k(), p.sjltS(), p.scaled()), "fashion-mnist:train", 20));
        changed.put("splits.train.dataset", spec(p -> p, "idx:a,b", 20));
        changed.put("splits.train.end", spec(p -> p, "fashion-mnist:train", 21));
        for (var e : changed.entrySet()) {
            var ex = assertThrows(IncompatibleStoreException.class, () -> FeatureStore.openOrCreate(tmp, e.getValue()), e.getKey());
            assertTrue(ex.getMessage().contains(e.getKey() + " differs"), ex.getMessage());
        }
    }
}
