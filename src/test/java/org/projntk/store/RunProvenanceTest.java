package org.projntk.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device and precision of a checkpoint's run are recorded; the precision (TF32 and fp32 features differ in their low
 * bits) must be shared by every run that joins the checkpoint, the device need not (shards may run on other GPUs).
 */
class RunProvenanceTest {
    @TempDir Path tmp;

    static final Manifest.Checkpoint BASE = ProvenanceTest.BASE;

    @Test
    void deviceAndPrecisionAreWrittenAndReadBack() {
        FeatureStore s = FeatureStore.openOrCreate(tmp, ProvenanceTest.spec(p -> p, "fashion-mnist:train", 20));
        s.checkpoint("c", BASE.withRun("cuda:1", "tf32"));
        Manifest.Checkpoint c = FeatureStore.open(tmp).manifest().checkpoints().get("c");
        assertEquals("cuda:1", c.device());
        assertEquals("tf32", c.precision());
        assertEquals("complete", c.withStatus("complete").status());
        assertEquals("tf32", c.withStatus("complete").precision(), "a status change keeps the run's fields");
    }

    @Test
    void aShardOnAnotherGpuJoinsButAnotherPrecisionIsRefusedByName() {
        FeatureStore s = FeatureStore.openOrCreate(tmp, ProvenanceTest.spec(p -> p, "fashion-mnist:train", 20));
        s.checkpoint("c", BASE.withRun("cuda:0", "fp32"));
        FeatureStore.open(tmp).checkpoint("c", BASE.withRun("cuda:3", "fp32"));
        FeatureStore.open(tmp).checkpoint("c", BASE.withRun("cpu", "fp32"));
        var ex = assertThrows(IncompatibleStoreException.class,
                () -> FeatureStore.open(tmp).checkpoint("c", BASE.withRun("cuda:0", "tf32")));
        assertTrue(ex.getMessage().contains("checkpoints.c.precision differs: store has fp32, requested tf32"), ex.getMessage());
        assertEquals("cuda:0", FeatureStore.open(tmp).manifest().checkpoints().get("c").device(), "the first run's device stays");
    }

    @Test
    void aStoreWrittenWithoutThemStillOpensAndJoins() {
        FeatureStore s = FeatureStore.openOrCreate(tmp, ProvenanceTest.spec(p -> p, "fashion-mnist:train", 20));
        s.checkpoint("c", BASE);
        Manifest.Checkpoint c = FeatureStore.open(tmp).manifest().checkpoints().get("c");
        assertNull(c.device());
        assertNull(c.precision());
        FeatureStore.open(tmp).checkpoint("c", BASE.withRun("cpu", "fp32"));
    }
}
