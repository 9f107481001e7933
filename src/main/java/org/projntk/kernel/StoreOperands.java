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

/** A feature store read as kernel operands: one {@link FeatureMatrix} per output (class) of a split. */
public final class StoreOperands {
    private StoreOperands() {}

    /** The checkpoint to use: the one asked for (null: the first complete one). */
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
     * complete; returns the checkpoint. Spark drivers call it before starting tasks.
     */
    public static String checkReadable(FeatureStore store, String checkpoint, String... splits) {
        String id = checkpoint(store, checkpoint);
        for (String split : splits) completeRows(store, id, split);
        return id;
    }

    /** The rows of one split at one checkpoint, which must all be done. */
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

    /** The features of one split at one checkpoint; the split must be complete. */
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

    /** The kernel kind of the store's features (margin and scaled pNTK stores are pNTK-shaped). */
    public static KernelKind kind(FeatureStore store) {
        return KernelKind.parse(store.manifest().kernel());
    }

    /** As {@link #kind}, with eNTK stores giving their trace kernel (trNTK): one value per pair of examples. */
    public static KernelKind traceKind(FeatureStore store) {
        KernelKind kind = kind(store);
        return kind == KernelKind.ENTK ? KernelKind.TRNTK : kind;
    }

    /** The dataset rows a split was featurized from (default input normalisation). */
    public static Dataset dataset(FeatureStore store, String split) {
        SplitInfo info = store.manifest().splits().get(split);
        if (info == null) throw new IllegalArgumentException("store " + store.dir() + " has no split '" + split + "'; it has " + store.manifest().splits().keySet());
        return DatasetSpec.parse(info.dataset()).withRange(info.start(), info.end()).open(Normalization.DEFAULT);
    }

    /** The model to use for a checkpoint: the one asked for (null: the one the checkpoint was featurized with). */
    public static String model(FeatureStore store, String checkpoint, String requested) {
        if (requested != null) return requested;
        return store.manifest().checkpoints().get(checkpoint).model();
    }
}
