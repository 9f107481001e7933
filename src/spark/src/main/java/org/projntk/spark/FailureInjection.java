package org.projntk.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.spark.TaskContext;
import org.projntk.data.Npy;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.store.FeatureStore;
import org.projntk.store.Manifest;

/**
 * Test hook ({@link SparkFeaturize#FAIL_FIRST_ATTEMPT}): a task killed mid-write. Featurize: after the shard's first
 * batch is stored, junk bytes go into the feature rows of its next batch (as a write cut off before its completion
 * bytes would leave them), then the attempt throws. Score ({@link SparkScores}): after the task's first tile, junk
 * goes over its second tile, then the attempt throws.
 */
final class FailureInjection {
    static final AtomicInteger INJECTED = new AtomicInteger();

    private FailureInjection() {}

    /** Whether this is attempt 0 of the partition named by the local property {@link SparkFeaturize#FAIL_FIRST_ATTEMPT}. */
    static boolean firstAttemptOfMarkedPartition(TaskContext task) {
        return task != null && task.attemptNumber() == 0
                && String.valueOf(task.partitionId()).equals(task.getLocalProperty(SparkFeaturize.FAIL_FIRST_ATTEMPT));
    }

    static Featurizer.Listener afterFirstBatch(FeaturizeConfig config) {
        return new Featurizer.Listener() {
            @Override
            public void progress(String split, long doneRows, long totalRows, long rowsThisRun, double seconds) {
                if (rowsThisRun == 0) return;
                scribbleOnNextBatch(config, split);
                INJECTED.incrementAndGet();
                throw new IllegalStateException("injected failure of attempt 0 of shard " + config.shardIndex() + "/"
                        + config.shardCount() + " after its first batch of split " + split);
            }
        };
    }

    private static void scribbleOnNextBatch(FeaturizeConfig config, String split) {
        Manifest m = FeatureStore.open(config.out()).manifest();
        long rows = m.splits().get(split).rows();
        long first = (long) (config.shardIndex() + config.shardCount()) * config.batchSize();
        if (first >= rows) return;
        int count = (int) Math.min(config.batchSize(), rows - first);
        for (var f : m.files()) {
            if (!f.checkpoint().equals(config.checkpoint()) || !f.split().equals(split)) continue;
            Path file = config.out().resolve(f.path());
            Npy.Header h = Npy.readHeader(file);
            long rowBytes = (long) f.dim() * h.dtype().size;
            byte[] junk = new byte[(int) (count * rowBytes)];
            Arrays.fill(junk, (byte) 0x5a);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(junk), h.dataOffset() + first * rowBytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
