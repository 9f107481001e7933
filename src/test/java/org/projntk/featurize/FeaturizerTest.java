package org.projntk.featurize;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ReferenceProjector;
import org.projntk.store.FeatureStore;
import org.projntk.store.StoredMatrix;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/** Featurizer stores what a direct projection of dense gradients (Java reference projector) gives. */
class FeaturizerTest {
    @TempDir Path tmp;

    @BeforeAll
    static void needFashionMnist() {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST not installed");
    }

    private FeaturizeConfig config(Map<String, String> splits, String kernel, ProjectorKind proj, int dim, String params,
                                   int batch, int shard, int shards, Path out) {
        return new FeaturizeConfig("builtin:cnn-fmnist", 7, "ck0", splits, kernel, proj, dim, 3, 11, 2, false, "float32",
                Device.CPU, batch, GradStrategy.AUTO, params, shard, shards, null, Gradients.DEFAULT_MAX_BLOCK_BYTES, out);
    }

    /** Checks every stored row of split against dense gradients of the same model projected by the reference. */
    private static void assertStoreMatchesReference(FeatureStore store, String split, String dataSpec, OutputKind output,
                                                    String params, ProjectorKind kind, int dim) {
        Dataset data = DatasetSpec.parse(dataSpec).open();
        int n = (int) data.size();
        try (Model m = Model.builtin("cnn-fmnist", 7, Device.CPU); Arena arena = Arena.ofConfined()) {
            if (params != null) m.selectParameters(params);
            Batch batch = data.batch(0, n, arena);
            long[] shape = {n, 1, 28, 28};
            float[][][] g = Gradients.dense(m, batch.inputs(), shape, batch.labels(), output, GradStrategy.FUNCTIONAL, 10); // iterative agrees (GradientsTest) but is slow
            ReferenceProjector ref = new ReferenceProjector(kind, m.parameterCount(), dim, 3, 11, 2, false);
            double[][] r = new double[(int) ref.inputDim()][dim]; // R computed once: entry() is slow
            for (int p = 0; p < r.length; p++) for (int k = 0; k < dim; k++) r[p][k] = ref.entry(p, k);
            for (int o = 0; o < g.length; o++) {
                double[][] want = new double[n][dim], bound = new double[n][dim]; // bound: sum_p |x_p R_pk|
                for (int i = 0; i < n; i++) {
                    for (int p = 0; p < r.length; p++) {
                        double x = g[o][i][p];
                        if (x == 0) continue;
                        for (int k = 0; k < dim; k++) {
                            want[i][k] += x * r[p][k];
                            bound[i][k] += Math.abs(x * r[p][k]);
                        }
                    }
                }
                try (StoredMatrix stored = store.features("ck0", split, g.length == 1 ? null : o)) {
                    assertEquals(n, stored.rows());
                    assertEquals(dim, stored.dim());
                    for (int i = 0; i < n; i++) {
                        float[] row = stored.row(i);
                        for (int k = 0; k < dim; k++) {
                            assertTrue(Math.abs(row[k] - want[i][k]) <= 1e-4 * bound[i][k],
                                    split + " output " + o + " row " + i + " k " + k + ": " + row[k] + " vs " + want[i][k]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void trntkFeaturesEqualReferenceProjectionOfDenseGradients() {
        Map<String, String> splits = new LinkedHashMap<>();
        splits.put("train", "fashion-mnist:train[0:13]");
        splits.put("test", "fashion-mnist:test[5:11]");
        Path out = tmp.resolve("store");
        Featurizer.Result r = Featurizer.run(config(splits, "trntk", ProjectorKind.RADEMACHER, 12, null, 5, 0, 1, out),
                (split, done, total, thisRun, seconds) -> {});
        assertTrue(r.complete());
        assertEquals(10, r.outputs());
        assertEquals(20490, r.parameters());
        assertEquals(19, r.rowsComputed());
        FeatureStore store = FeatureStore.open(out);
        assertTrue(store.isComplete("ck0"));
        assertStoreMatchesReference(store, "train", splits.get("train"), OutputKind.PER_CLASS, null, ProjectorKind.RADEMACHER, 12);
        assertStoreMatchesReference(store, "test", splits.get("test"), OutputKind.PER_CLASS, null, ProjectorKind.RADEMACHER, 12);

        // A second run of the same job finds everything done and computes nothing.
        Featurizer.Result again = Featurizer.run(config(splits, "trntk", ProjectorKind.RADEMACHER, 12, null, 5, 0, 1, out),
                (split, done, total, thisRun, seconds) -> {});
        assertEquals(0, again.rowsComputed());
        assertTrue(again.complete());
    }

    @Test
    void shardedMarginOnSelectedParametersWithSjlt() {
        Map<String, String> splits = Map.of("train", "fashion-mnist:train[100:117]");
        Path out = tmp.resolve("sharded");
        Featurizer.Result first = Featurizer.run(config(splits, "margin", ProjectorKind.SJLT, 20, "fc.", 4, 1, 2, out),
                (split, done, total, thisRun, seconds) -> {});
        assertFalse(first.complete(), "shard 0 has not run yet");
        assertEquals(1568 * 10 + 10, first.parameters()); // fc.weight [10 x 1568] and fc.bias [10]
        assertEquals(8, first.rowsComputed()); // batches 1 and 3 of 0..4 (rows 4-7, 12-15)
        FeatureStore store = FeatureStore.open(out);
        assertEquals(8, store.doneRows("ck0", "train"));
        Featurizer.Result second = Featurizer.run(config(splits, "margin", ProjectorKind.SJLT, 20, "fc.", 4, 0, 2, out),
                (split, done, total, thisRun, seconds) -> {});
        assertTrue(second.complete());
        assertEquals(9, second.rowsComputed());
        assertStoreMatchesReference(FeatureStore.open(out), "train", splits.get("train"), OutputKind.MARGIN, "fc.", ProjectorKind.SJLT, 20);
    }
}
