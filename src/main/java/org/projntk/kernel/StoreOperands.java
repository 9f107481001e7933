package org.projntk.kernel;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Normalization;
import org.projntk.store.FeatureStore;
import org.projntk.store.Manifest;
import org.projntk.store.SplitInfo;
import org.projntk.store.StoredMatrix;

/**
 * A feature store read as kernel operands: one {@link FeatureMatrix} per output (class) of a split. Stateless; safe
 * from any thread. Each method reads the store's manifest as it is at the call.
 */
public final class StoreOperands {
    private StoreOperands() {}

    /**
     * The checkpoint to use: the one asked for, or the first complete one.
     *
     * @param store     the store
     * @param requested a checkpoint id of the store, or null for its first complete checkpoint
     * @return the checkpoint id
     * @throws IllegalArgumentException naming the store's checkpoints when it has no such checkpoint
     * @throws IllegalStateException    when none was asked for and none is complete
     */
    public static String checkpoint(FeatureStore store, String requested) {
        Manifest m = store.manifest();
        if (requested != null) {
            if (!m.checkpoints().containsKey(requested)) {
                throw new IllegalArgumentException("store " + store.dir() + " has no checkpoint '" + requested + "'; it has " + m.checkpoints().keySet());
            }
            return requested;
        }
        for (var e : m.checkpoints().entrySet()) {
            if (Manifest.Checkpoint.COMPLETE.equals(e.getValue().status())) return e.getKey();
        }
        throw new IllegalStateException("store " + store.dir() + " has no complete checkpoint (" + m.checkpoints()
                + "); finish featurize first, or name a checkpoint");
    }

    /**
     * Checks, before any work, that the store opens, has the checkpoint (null: a complete one) and that each split is
     * complete. Spark drivers call it before starting tasks.
     *
     * @param store      the store
     * @param checkpoint a checkpoint id, or null for the first complete one
     * @param splits     the splits that must be complete
     * @return the checkpoint id
     * @throws IllegalArgumentException for an unknown checkpoint or split
     * @throws IllegalStateException    for no complete checkpoint, or a split with rows not done
     */
    public static String checkReadable(FeatureStore store, String checkpoint, String... splits) {
        String id = checkpoint(store, checkpoint);
        for (String split : splits) completeRows(store, id, split);
        return id;
    }

    /**
     * The rows of one split at one checkpoint, which must all be done.
     *
     * @param store      the store
     * @param checkpoint a checkpoint id of the store
     * @param split      the split's name
     * @return its row count
     * @throws IllegalArgumentException naming the store's splits when it has no such split
     * @throws IllegalStateException    with the done and total counts when some rows are not done
     */
    public static long completeRows(FeatureStore store, String checkpoint, String split) {
        Manifest m = store.manifest();
        if (!m.splits().containsKey(split)) {
            throw new IllegalArgumentException("store " + store.dir() + " has no split '" + split + "'; it has " + m.splits().keySet());
        }
        long done = store.doneRows(checkpoint, split);
        long rows = m.splits().get(split).rows();
        if (done != rows) {
            throw new IllegalStateException("split " + split + " of checkpoint " + checkpoint + " is incomplete: " + done + "/" + rows + " rows done");
        }
        return rows;
    }

    /**
     * The features of one split at one checkpoint; the split must be complete. Each matrix maps its file read-only
     * (float16 files are converted on read); the mappings are not released before the process exits.
     *
     * @param store      the store
     * @param checkpoint a checkpoint id of the store
     * @param split      the split's name
     * @return one matrix [rows x K] per output of the store, in class order
     * @throws IllegalArgumentException for an unknown split or missing file
     * @throws IllegalStateException    when some rows are not done
     * @throws org.projntk.store.ChecksumMismatchException when a feature file's bytes changed
     */
    public static List<FeatureMatrix> operand(FeatureStore store, String checkpoint, String split) {
        completeRows(store, checkpoint, split);
        Manifest m = store.manifest();
        List<FeatureMatrix> out = new ArrayList<>();
        for (int c = 0; c < m.outputs(); c++) {
            StoredMatrix matrix = store.features(checkpoint, split, m.outputs() == 1 ? null : c);
            out.add(new FeatureMatrix() {
                @Override
                public long rows() {
                    return matrix.rows();
                }

                @Override
                public int dim() {
                    return matrix.dim();
                }

                @Override
                public MemorySegment rows(long start, int count) {
                    return matrix.rows(start, count);
                }
            });
        }
        return out;
    }

    /**
     * The kernel kind of the store's features (margin and scaled pNTK stores are pNTK-shaped).
     *
     * @param store the store
     * @return the kind its manifest records
     */
    public static KernelKind kind(FeatureStore store) {
        return KernelKind.parse(store.manifest().kernel());
    }

    /**
     * As {@link #kind}, with eNTK stores giving their trace kernel (trNTK): one value per pair of examples.
     *
     * @param store the store
     * @return PNTK or TRNTK
     */
    public static KernelKind traceKind(FeatureStore store) {
        KernelKind kind = kind(store);
        return kind == KernelKind.ENTK ? KernelKind.TRNTK : kind;
    }

    /**
     * The dataset rows a split was featurized from, opened with the default input normalisation.
     *
     * @param store the store
     * @param split the split's name
     * @return the dataset over the split's row range
     * @throws IllegalArgumentException naming the store's splits when it has no such split, or when the dataset
     *                                  cannot be opened
     */
    public static Dataset dataset(FeatureStore store, String split) {
        SplitInfo info = store.manifest().splits().get(split);
        if (info == null) throw new IllegalArgumentException("store " + store.dir() + " has no split '" + split + "'; it has " + store.manifest().splits().keySet());
        return DatasetSpec.parse(info.dataset()).withRange(info.start(), info.end()).open(Normalization.DEFAULT);
    }

    /**
     * The model to use for a checkpoint: the one asked for, or the one the checkpoint was featurized with.
     *
     * @param store      the store
     * @param checkpoint a checkpoint id of the store
     * @param requested  a model spec, or null for the checkpoint's own
     * @return the model spec
     */
    public static String model(FeatureStore store, String checkpoint, String requested) {
        if (requested != null) return requested;
        return store.manifest().checkpoints().get(checkpoint).model();
    }
}
