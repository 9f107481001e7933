package org.projntk.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Test-only child process: fills a store with deterministic pseudo-features (a pure function of row and column),
 * batch by batch, logging "B start" before computing each batch.
 * Args: DIR ROWS BATCH K SHARD_INDEX SHARD_COUNT SLEEP_MS LOG_FILE
 */
public final class StoreWriterProcess {
    static final String SPLIT = "train";
    static final String CHECKPOINT = "ck";

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int rows = Integer.parseInt(args[1]), batch = Integer.parseInt(args[2]), k = Integer.parseInt(args[3]);
        int shard = Integer.parseInt(args[4]), shards = Integer.parseInt(args[5]);
        long sleep = Long.parseLong(args[6]);
        Path log = Path.of(args[7]);
        fill(dir, rows, batch, k, shard, shards, sleep, log);
    }

    static StoreSpec spec(int rows, int k) {
        return new StoreSpec(new ProjectorInfo("rademacher", "philox4x32-10/v1", 42, 0, k, 2, true), "pntk", 1, "float32",
                Map.of(SPLIT, SplitInfo.of("npy:x.npy,y.npy", 0, rows)));
    }

    /** The feature value at (row, col): a seeded 64-bit mix mapped to [-1, 1). */
    static float value(long row, int col) {
        long z = row * 0x9E3779B97F4A7C15L + col * 0xBF58476D1CE4E5B9L + 12345;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 40) / (float) (1L << 23) - 1f;
    }

    static void fill(Path dir, int rows, int batch, int k, int shard, int shards, long sleep, Path log)
            throws IOException, InterruptedException {
        FeatureStore store = FeatureStore.openOrCreate(dir, spec(rows, k));
        CheckpointWriter w = store.checkpoint(CHECKPOINT, "model.pt", "sha256:abc");
        for (RowRange r : w.pendingBatches(SPLIT, batch, shard, shards)) {
            if (log != null) {
                Files.writeString(log, r.start() + "\n", StandardCharsets.US_ASCII, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND, StandardOpenOption.SYNC);
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment f = arena.allocate((long) r.count() * k * 4);
                for (int i = 0; i < r.count(); i++) {
                    for (int j = 0; j < k; j++) f.setAtIndex(ValueLayout.JAVA_FLOAT, (long) i * k + j, value(r.start() + i, j));
                }
                w.writeRows(SPLIT, r.start(), r.count(), f);
            }
            if (sleep > 0) Thread.sleep(sleep);
        }
        w.markComplete();
    }
}
