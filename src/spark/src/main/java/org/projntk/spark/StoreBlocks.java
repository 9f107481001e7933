package org.projntk.spark;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.projntk.kernel.FeatureMatrix;
import org.projntk.store.FeatureStore;
import org.projntk.store.StoredMatrix;

/** Row blocks of a complete split of a feature store, as kernel operands (one matrix per output class). */
final class StoreBlocks {
    private StoreBlocks() {}

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
