package org.projntk.featurize;

import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Normalization;
import org.projntk.store.FeatureStore;
import org.projntk.store.IncompatibleStoreException;
import org.projntk.store.Manifest;
import org.projntk.store.SplitInfo;
import org.projntk.torch.Device;
import org.projntk.torch.Model;

/**
 * Rebuilds what a store's features were computed from, as its manifest records it: the model (spec, seed, parameter
 * selection, verified against the recorded checksum and P) and each split's inputs (dataset spec, row range and input
 * normalisation). Analyses that need the network (surrogate, explain) go through here, so they use exactly the model
 * and inputs that were featurized, or fail naming what differs.
 */
public final class StoreProvenance {
    private StoreProvenance() {}

    /**
     * The canonical form of a --params value, as manifests record it.
     *
     * @param params comma-separated parameter names or prefixes; null or blank for all
     * @return "" for all parameters, else the trimmed, non-empty prefixes joined by ","
     */
    public static String paramsKey(String params) {
        if (params == null || params.isBlank()) return "";
        return Arrays.stream(params.split(",")).map(String::strip).filter(p -> !p.isEmpty()).collect(Collectors.joining(","));
    }

    /**
     * A checkpoint's manifest entry, which must record its provenance.
     *
     * @param store the store
     * @param checkpoint the checkpoint id
     * @return its entry
     * @throws IllegalArgumentException if the store has no such checkpoint (the message lists those it has)
     * @throws IllegalStateException if the entry predates provenance records
     */
    public static Manifest.Checkpoint checkpoint(FeatureStore store, String checkpoint) {
        Manifest.Checkpoint c = store.manifest().checkpoints().get(checkpoint);
        if (c == null) {
            throw new IllegalArgumentException("store " + store.dir() + " has no checkpoint '" + checkpoint + "'; it has "
                    + store.manifest().checkpoints().keySet());
        }
        if (!c.hasProvenance()) {
            throw new IllegalStateException("checkpoint '" + checkpoint + "' of store " + store.dir() + " does not record its "
                    + "model seed, parameter selection and input normalisation (written by an older projntk); featurize it again");
        }
        return c;
    }

    /**
     * Opens the checkpoint's model with its recorded seed and parameter selection and verifies it. {@code modelOverride}
     * (for example the same weights at another path) replaces the recorded spec, and must pass the same checks.
     *
     * @param store the store
     * @param checkpoint the checkpoint id
     * @param modelOverride a model spec to use instead of the recorded one, or null
     * @param device where the model runs
     * @return the model, verified; the caller closes it
     * @throws IncompatibleStoreException when the weights' checksum or the selected parameter count differ
     */
    public static Model openModel(FeatureStore store, String checkpoint, String modelOverride, Device device) {
        Manifest.Checkpoint c = checkpoint(store, checkpoint);
        String spec = modelOverride != null ? modelOverride : c.model();
        Model model = Model.open(spec, c.modelSeed(), Objects.requireNonNull(device, "device"));
        try {
            String checksum = model.checksum();
            if (!checksum.equals(c.modelChecksum())) {
                throw new IncompatibleStoreException("model checksum mismatch for checkpoint '" + checkpoint + "' of store "
                        + store.dir() + ": its features were computed from " + c.model() + " (seed " + c.modelSeed()
                        + ") with checksum " + c.modelChecksum() + ", but " + spec + " with seed " + c.modelSeed()
                        + " has checksum " + checksum + " (the checkpoint file was changed or replaced)");
            }
            if (!c.params().isEmpty()) model.selectParameters(c.params());
            if (model.parameterCount() != c.parameters()) {
                throw new IncompatibleStoreException("checkpoint '" + checkpoint + "' recorded P = " + c.parameters()
                        + " selected parameters (params '" + c.params() + "'), the rebuilt model has " + model.parameterCount());
            }
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * The inputs of a split, as featurized: its dataset spec and rows, opened with the recorded input normalisation.
     *
     * @param store the store
     * @param checkpoint the checkpoint whose normalisation applies
     * @param split the split's name
     * @return the dataset, its rows in the order the store holds their features
     * @throws IllegalArgumentException if the store has no such split or checkpoint
     */
    public static Dataset dataset(FeatureStore store, String checkpoint, String split) {
        Manifest.Checkpoint c = checkpoint(store, checkpoint);
        SplitInfo info = store.manifest().splits().get(split);
        if (info == null) {
            throw new IllegalArgumentException("store " + store.dir() + " has no split '" + split + "'; it has "
                    + store.manifest().splits().keySet());
        }
        return DatasetSpec.parse(info.dataset()).withRange(info.start(), info.end())
                .open(Normalization.parse(c.inputNormalization()));
    }
}
