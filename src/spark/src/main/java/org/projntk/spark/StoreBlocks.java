package org.projntk.spark;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.KernelKind;
import org.projntk.store.FeatureStore;
import org.projntk.store.Manifest;
import org.projntk.store.StoredMatrix;

/** Row blocks of a complete split of a feature store, as kernel operands (one matrix per output class). */
final class StoreBlocks {
    private StoreBlocks() {}

    /** The checkpoint to use: the one asked for, or the first complete one. */
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
        throw new IllegalStateException("store " + store.dir() + " has no complete checkpoint; finish featurize first, or pass --checkpoint");
    }

    /** Rows of a split, checking that all of them are done. */
    static long rows(FeatureStore store, String checkpoint, String split) {
        Manifest m = store.manifest();
        if (!m.splits().containsKey(split)) {
            throw new IllegalArgumentException("store " + store.dir() + " has no split '" + split + "'; it has " + m.splits().keySet());
        }
        long rows = m.splits().get(split).rows();
        long done = store.doneRows(checkpoint, split);
        if (done != rows) {
            throw new IllegalStateException("split " + split + " of checkpoint " + checkpoint + " is incomplete: " + done + "/" + rows + " rows done");
        }
        return rows;
    }

    static KernelKind kind(FeatureStore store) {
        return KernelKind.parse(store.manifest().kernel());
    }

    /** Rows [start, start + count) of a split, one matrix per class, read through the store's read-only mappings. */
    record Block(List<FeatureMatrix> matrices, List<StoredMatrix> files) implements AutoCloseable {
        @Override
        public void close() {
            for (StoredMatrix f : files) f.close();
        }
    }

    static Block block(String dir, String checkpoint, String split, long start, long count) {
        FeatureStore store = FeatureStore.open(Path.of(dir));
        int outputs = store.manifest().outputs();
        List<FeatureMatrix> matrices = new ArrayList<>();
        List<StoredMatrix> files = new ArrayList<>();
        for (int c = 0; c < outputs; c++) {
            StoredMatrix matrix = store.features(checkpoint, split, outputs == 1 ? null : c);
            files.add(matrix);
            if (start < 0 || count < 1 || start + count > matrix.rows()) {
                for (StoredMatrix f : files) f.close();
                throw new IllegalArgumentException("rows [" + start + ", " + (start + count) + ") outside split " + split + " of " + matrix.rows() + " rows");
            }
            matrices.add(new FeatureMatrix() {
                @Override
                public long rows() {
                    return count;
                }

                @Override
                public int dim() {
                    return matrix.dim();
                }

                @Override
                public MemorySegment rows(long first, int n) {
                    return matrix.rows(start + first, n);
                }
            });
        }
        return new Block(matrices, files);
    }
}
