package org.projntk.cli;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Normalization;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.KernelKind;
import org.projntk.store.FeatureStore;
import org.projntk.store.Manifest;
import org.projntk.store.SplitInfo;
import org.projntk.store.StoredMatrix;

/** Reads a feature store as kernel operands: one FeatureMatrix per output (class) of a split. */
final class StoreOperands {
    private StoreOperands() {}

    /** The checkpoint to use: the one asked for, or the only/first complete one. */
    static String checkpoint(FeatureStore store, String requested) {
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
                + "); finish featurize first, or pass --checkpoint");
    }

    static List<FeatureMatrix> operand(FeatureStore store, String checkpoint, String split) {
        Manifest m = store.manifest();
        if (!m.splits().containsKey(split)) {
            throw new IllegalArgumentException("store " + store.dir() + " has no split '" + split + "'; it has " + m.splits().keySet());
        }
        long done = store.doneRows(checkpoint, split);
        long rows = m.splits().get(split).rows();
        if (done != rows) {
            throw new IllegalStateException("split " + split + " of checkpoint " + checkpoint + " is incomplete: " + done + "/" + rows + " rows done");
        }
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

    /** The kernel implied by the store's kernel kind (eNTK stores give the trace kernel here, as trNTK). */
    static KernelKind traceKind(FeatureStore store) {
        KernelKind kind = KernelKind.parse(store.manifest().kernel());
        return kind == KernelKind.ENTK ? KernelKind.TRNTK : kind;
    }

    /** The dataset rows a split was featurized from. */
    static Dataset dataset(FeatureStore store, String split) {
        SplitInfo info = store.manifest().splits().get(split);
        if (info == null) throw new IllegalArgumentException("store " + store.dir() + " has no split '" + split + "'");
        return DatasetSpec.parse(info.dataset()).withRange(info.start(), info.end()).open(Normalization.DEFAULT);
    }

    static String model(FeatureStore store, String checkpoint, String requested) {
        if (requested != null) return requested;
        return store.manifest().checkpoints().get(checkpoint).model();
    }
}
