package org.projntk.attribution;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ReferenceProjector;
import org.projntk.store.FeatureStore;
import org.projntk.store.StoredMatrix;

/** Each checkpoint of a store gets its own projection (model id = store's + registration order), as in TRAK. */
class CheckpointProjectionTest {
    @TempDir Path dir;

    @Test
    void eachCheckpointIsProjectedWithItsOwnModelId() {
        String train = TinyStores.data(dir, "train", 12, 1), test = TinyStores.data(dir, "test", 5, 2);
        int k = 16;
        // the same weights under two checkpoint ids
        TinyStores.featurize(dir.resolve("s"), "x", 1, train, test, ProjectorKind.RADEMACHER, k);
        FeatureStore store = TinyStores.featurize(dir.resolve("s"), "y", 1, train, test, ProjectorKind.RADEMACHER, k);
        assertEquals(TinyStores.MODEL_ID, store.manifest().modelId("x"));
        assertEquals(TinyStores.MODEL_ID + 1, store.manifest().modelId("y"));
        assertEquals(TinyStores.P, store.manifest().checkpoints().get("x").parameters());
        TinyStores.Reference ref = TinyStores.reference(1, train);
        for (String id : List.of("x", "y")) {
            ReferenceProjector r = new ReferenceProjector(ProjectorKind.RADEMACHER, TinyStores.P, k, TinyStores.SEED, store.manifest().modelId(id), 2, false);
            try (StoredMatrix m = store.features(id, "train", null)) {
                for (int i = 0; i < 12; i++) {
                    float[] row = m.row(i);
                    for (int c = 0; c < k; c++) {
                        double want = 0;
                        for (int p = 0; p < TinyStores.P; p++) want += ref.g()[i][p] * r.entry(p, c);
                        assertEquals(want, row[c], 1e-5 * (1 + Math.abs(want)), id + " row " + i + " column " + c);
                    }
                }
            }
        }
        try (StoredMatrix x = store.features("x", "train", null); StoredMatrix y = store.features("y", "train", null)) {
            assertFalse(java.util.Arrays.equals(x.row(0), y.row(0)), "two checkpoints share a projection");
        }
    }

    @Test
    void theFirstDimColumnsOfADenseProjectionScoreLikeAStoreOfThatDim() {
        String train = TinyStores.data(dir, "train", 40, 1), test = TinyStores.data(dir, "test", 6, 2);
        FeatureStore big = TinyStores.featurize(dir.resolve("k32"), "a", 1, train, test, ProjectorKind.RADEMACHER, 32);
        FeatureStore small = TinyStores.featurize(dir.resolve("k16"), "a", 1, train, test, ProjectorKind.RADEMACHER, 16);
        TrakScores.Options o = TrakScores.Options.builder().lambda(0.1).build();
        float[][] cut = TrakScores.matrix(big, o.toBuilder().dim(16).build());
        float[][] want = TrakScores.matrix(small, o);
        float[][] full = TrakScores.matrix(big, o);
        double err = 0, max = 0, diff = 0;
        for (int i = 0; i < want.length; i++) {
            for (int j = 0; j < want[0].length; j++) {
                err = Math.max(err, Math.abs(cut[i][j] - want[i][j]));
                diff = Math.max(diff, Math.abs(full[i][j] - want[i][j]));
                max = Math.max(max, Math.abs(want[i][j]));
            }
        }
        assertTrue(err / max < 1e-5, "relative error " + err / max);
        assertTrue(diff / max > 1e-3, "K = 32 should differ from K = 16");
    }
}
