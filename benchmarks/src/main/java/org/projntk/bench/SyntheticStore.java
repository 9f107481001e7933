package org.projntk.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.projntk.store.CheckpointWriter;
import org.projntk.store.FeatureStore;
import org.projntk.store.ProjectorInfo;
import org.projntk.store.SplitInfo;
import org.projntk.store.StoreSpec;

/**
 * A margin store of random features (standard normal, Q uniform in [0, 1]) for scoring benchmarks:
 * {@code java -cp benchmarks.jar org.projntk.bench.SyntheticStore DIR N_TRAIN N_TEST K [CHECKPOINTS]}.
 */
public final class SyntheticStore {
    private SyntheticStore() {}

    public static FeatureStore create(Path dir, long nTrain, long nTest, int k, int checkpoints, long seed) {
        Map<String, SplitInfo> splits = new LinkedHashMap<>();
        splits.put("train", SplitInfo.of("synthetic:train", 0, nTrain));
        splits.put("test", SplitInfo.of("synthetic:test", 0, nTest));
        StoreSpec spec = new StoreSpec(new ProjectorInfo("rademacher", "synthetic", seed, 0, k, 2, true), "margin", 1, "float32", splits);
        FeatureStore store = FeatureStore.openOrCreate(dir, spec);
        SplittableRandom random = new SplittableRandom(seed);
        int block = Math.max(1, (1 << 22) / k);
        for (int c = 0; c < checkpoints; c++) {
            CheckpointWriter w = store.checkpoint("c" + c, "synthetic", "sha256:synthetic-" + c, 1L << 20);
            for (String split : splits.keySet()) {
                long rows = splits.get(split).rows();
                for (long r0 = 0; r0 < rows; r0 += block) {
                    int n = (int) Math.min(block, rows - r0);
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment f = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * k);
                        for (long i = 0; i < (long) n * k; i++) f.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
                        float[] q = new float[n];
                        for (int i = 0; i < n; i++) q[i] = (float) random.nextDouble();
                        w.writeRows(split, r0, n, f, q);
                    }
                }
            }
            w.markComplete();
        }
        return FeatureStore.open(dir);
    }

    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: SyntheticStore DIR N_TRAIN N_TEST K [CHECKPOINTS]");
            System.exit(2);
        }
        long start = System.nanoTime();
        create(Path.of(args[0]), Long.parseLong(args[1]), Long.parseLong(args[2]), Integer.parseInt(args[3]),
                args.length > 4 ? Integer.parseInt(args[4]) : 1, 0);
        System.out.printf("synthetic store %s written in %.1f s%n", args[0], (System.nanoTime() - start) / 1e9);
    }
}
