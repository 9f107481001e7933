package org.projntk.featurize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Normalization;
import org.projntk.project.ProjectorKind;
import org.projntk.store.FeatureStore;
import org.projntk.store.IncompatibleStoreException;
import org.projntk.store.Manifest;
import org.projntk.surrogate.StoreSurrogate;
import org.projntk.surrogate.Surrogates;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;

/** surrogate and explain rebuild exactly the featurized model and inputs from the manifest, and refuse a changed model. */
class StoreProvenanceTest {
    @TempDir Path tmp;

    static final String TRAIN = "fashion-mnist:train[0:60]";
    static final String TEST = "fashion-mnist:test[0:30]";

    @BeforeAll
    static void needFashionMnist() {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST not installed");
    }

    static FeaturizeConfig config(String model, long modelSeed, String normalize, String params, Path out) {
        Map<String, String> splits = new LinkedHashMap<>();
        splits.put("train", TRAIN);
        splits.put("test", TEST);
        return new FeaturizeConfig(model, modelSeed, "ck", splits, "pntk", ProjectorKind.RADEMACHER, 64, 1, 0, 2, false,
                "float32", Device.CPU, 30, GradStrategy.AUTO, params, 0, 1, normalize, Gradients.DEFAULT_MAX_BLOCK_BYTES, out);
    }

    static float[] inputs(Dataset d) {
        try (Arena a = Arena.ofConfined()) {
            return d.batch(0, (int) d.size(), a).inputs().toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    @Test
    void surrogateUsesTheFeaturizedSeedAndNormalisation() {
        Path store = tmp.resolve("store");
        Featurizer.run(config("builtin:cnn-fmnist", 5, "none", null, store), new Featurizer.Listener() {
            @Override
            public void progress(String split, long done, long total, long thisRun, double seconds) {}
        });
        FeatureStore s = FeatureStore.open(store);
        Manifest.Checkpoint c = s.manifest().checkpoints().get("ck");
        assertEquals(5L, c.modelSeed());
        assertEquals("none", c.inputNormalization());
        assertEquals("", c.params());

        // the inputs: opened with "none", which differs from the default scaling
        Dataset rebuilt = StoreProvenance.dataset(s, "ck", "test");
        float[] none = inputs(DatasetSpec.parse(TEST).open(Normalization.NONE));
        assertArrayEquals(none, inputs(rebuilt));
        assertFalse(java.util.Arrays.equals(none, inputs(DatasetSpec.parse(TEST).open(Normalization.DEFAULT))));

        // the model: seed 5, not 0
        try (Model m = StoreProvenance.openModel(s, "ck", null, Device.CPU);
             Model seed5 = Model.open("builtin:cnn-fmnist", 5, Device.CPU);
             Model seed0 = Model.open("builtin:cnn-fmnist", 0, Device.CPU)) {
            assertEquals(seed5.checksum(), m.checksum());
            assertNotEquals(seed0.checksum(), m.checksum());
        }

        // the surrogate's network logits are those of the seed-5 model on unnormalised inputs
        StoreSurrogate.Fit fit = StoreSurrogate.fit(s, "ck", Surrogates.Options.defaults(), null);
        double[] expected;
        double[] wrong;
        try (Model seed5 = Model.open("builtin:cnn-fmnist", 5, Device.CPU)) {
            expected = org.projntk.surrogate.Surrogates.logits(seed5, DatasetSpec.parse(TEST).open(Normalization.NONE));
            wrong = org.projntk.surrogate.Surrogates.logits(seed5, DatasetSpec.parse(TEST).open(Normalization.DEFAULT));
        }
        assertArrayEquals(expected, fit.networkTestLogits(), 0.0);
        assertFalse(java.util.Arrays.equals(wrong, fit.networkTestLogits()));
        assertEquals(30, fit.report().testSize());

        // dense and matrix-free products reach the same surrogate on the store
        Surrogates.Options.Builder d = Surrogates.Options.builder().lambda(1e-3).maxIterations(1000);
        StoreSurrogate.Fit viaFeatures = StoreSurrogate.fit(s, "ck", d.products(StoreSurrogate.Products.FEATURES).build(), null);
        StoreSurrogate.Fit viaDense = StoreSurrogate.fit(s, "ck", d.products(StoreSurrogate.Products.DENSE).build(), null);
        double scale = 0;
        for (double v : viaDense.surrogateTestLogits()) scale = Math.max(scale, Math.abs(v));
        assertArrayEquals(viaDense.surrogateTestLogits(), viaFeatures.surrogateTestLogits(), 1e-3 * scale);
    }

    @Test
    void aTamperedCheckpointIsRefused() {
        Path model = tmp.resolve("model.pt");
        try (Model m = Model.open("builtin:cnn-fmnist", 1, Device.CPU)) {
            m.save(model);
        }
        Path store = tmp.resolve("store");
        Featurizer.run(config(model.toString(), 0, null, null, store), new Featurizer.Listener() {
            @Override
            public void progress(String split, long done, long total, long thisRun, double seconds) {}
        });
        FeatureStore s = FeatureStore.open(store);
        try (Model m = StoreProvenance.openModel(s, "ck", null, Device.CPU)) {
            assertEquals(s.manifest().checkpoints().get("ck").modelChecksum(), m.checksum());
        }
        // overwrite the checkpoint file with other weights
        try (Model other = Model.open("builtin:cnn-fmnist", 2, Device.CPU)) {
            other.save(model);
        }
        var e = assertThrows(IncompatibleStoreException.class, () -> StoreSurrogate.fit(s, "ck", Surrogates.Options.defaults(), null));
        assertTrue(e.getMessage().contains("model checksum mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains(model.toString()), e.getMessage());
        // the same for an explicit --model pointing at other weights
        assertThrows(IncompatibleStoreException.class, () -> StoreProvenance.openModel(s, "ck", "builtin:cnn-fmnist", Device.CPU).close());
    }

    @Test
    void aResumeWithOtherParamsOrSeedIsRefusedNamingTheField() {
        Path store = tmp.resolve("store");
        Featurizer.Listener quiet = (split, done, total, thisRun, seconds) -> {};
        Featurizer.run(config("builtin:cnn-fmnist", 5, "none", null, store), quiet);
        var e = assertThrows(IncompatibleStoreException.class,
                () -> Featurizer.run(config("builtin:cnn-fmnist", 5, "none", "fc", store), quiet));
        assertTrue(e.getMessage().contains("checkpoints.ck.params differs"), e.getMessage());
        e = assertThrows(IncompatibleStoreException.class, () -> Featurizer.run(config("builtin:cnn-fmnist", 6, "none", null, store), quiet));
        assertTrue(e.getMessage().contains("model_seed differs") || e.getMessage().contains("model_checksum differs"), e.getMessage());
        assertTrue(e.getMessage().contains("model_seed differs"), e.getMessage());
        e = assertThrows(IncompatibleStoreException.class, () -> Featurizer.run(config("builtin:cnn-fmnist", 5, "default", null, store), quiet));
        assertTrue(e.getMessage().contains("checkpoints.ck.input_normalization differs"), e.getMessage());
    }
}
