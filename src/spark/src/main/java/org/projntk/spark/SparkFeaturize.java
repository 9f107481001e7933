package org.projntk.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.store.FeatureStore;
import org.projntk.torch.GradStrategy;

/**
 * {@code featurize} as a Spark job. Partition i of n computes shard i/n of the fixed batch grid (batch b when
 * b % n == i, see docs/store.md) with {@link Featurizer#run(FeaturizeConfig, org.projntk.torch.Model, Featurizer.Listener)},
 * on a model borrowed from its executor's {@link ModelPool}. Every task writes straight into the shared store.
 *
 * <p>Why a failed, retried or speculative attempt leaves the store exact: an attempt writes only rows of its own
 * batches; it forces a row's features to disk before it sets the row's completion byte, and a later attempt of the
 * partition recomputes every batch with a row not marked done. All attempts compute the same bytes for a row (same
 * model, data, projector and device kind), so whatever order their writes land in, each row ends up holding exactly
 * the single-process bytes, and a completion byte is set, never added to: no row is counted twice.
 */
public final class SparkFeaturize {
    /**
     * Test hook, a Spark local property ({@code sc.setLocalProperty}): attempt 0 of the partition it names fails after
     * its first batch, leaving junk in the rows of its next one (in {@link SparkScores}: after its first tile, with
     * junk over its second).
     */
    public static final String FAIL_FIRST_ATTEMPT = "spark.projntk.test.failFirstAttemptOfPartition";

    /**
     * @param rowsDone      rows marked done in the store for this checkpoint, over all splits
     * @param rowsComputed  rows computed by the successful task attempts (a failed attempt's finished batches are kept
     *                      and not recomputed, so this may be less than rowsDone)
     */
    public record Result(Path store, String checkpoint, int partitions, long rowsDone, long rowsComputed, boolean complete,
                         double seconds) {}

    private SparkFeaturize() {}

    /** Default partition count: a few per task slot, so that a lost task costs little and slots stay busy. */
    public static int defaultPartitions(JavaSparkContext sc) {
        return 4 * sc.defaultParallelism();
    }

    public static Result run(JavaSparkContext sc, FeaturizeConfig config, int partitions) {
        if (partitions < 1) throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        Featurizer.checkInputs(config); // on the driver, before any task
        ClusterLaunch.checkSharedFolder(sc, config.out());
        FeaturizeJob job = forCluster(sc, FeaturizeJob.of(config));
        long start = System.nanoTime();
        List<Integer> shards = new ArrayList<>();
        for (int i = 0; i < partitions; i++) shards.add(i);
        List<Long> computed = sc.parallelize(shards, partitions)
                .map(shard -> runShard(job, shard, partitions))
                .collect();
        double seconds = (System.nanoTime() - start) / 1e9;
        FeatureStore store = FeatureStore.open(config.out());
        long done = 0;
        for (String split : config.splits().keySet()) done += store.doneRows(config.checkpoint(), split);
        return new Result(config.out(), config.checkpoint(), partitions, done, computed.stream().mapToLong(Long::longValue).sum(),
                store.isComplete(config.checkpoint()), seconds);
    }

    /**
     * The config as executors must see it: dataset files, the model file and the store as absolute paths (the store
     * records them so), the model file also added to Spark's distributed files on a cluster.
     */
    static FeaturizeJob forCluster(JavaSparkContext sc, FeaturizeJob j) {
        java.util.LinkedHashMap<String, String> splits = new java.util.LinkedHashMap<>();
        for (var e : j.splits().entrySet()) splits.put(e.getKey(), ClusterLaunch.absoluteDataset(e.getValue()));
        return new FeaturizeJob(ClusterLaunch.shipModel(sc, j.model()), j.modelSeed(), j.checkpoint(), splits, j.kernel(), j.projector(),
                j.dim(), j.seed(), j.modelId(), j.sjltS(), j.unscaled(), j.dtype(), j.device(), j.batchSize(), j.strategy(), j.params(),
                j.normalization(), j.maxBlockBytes(), Path.of(j.out()).toAbsolutePath().normalize().toString());
    }

    /** One task: shard {@code shard} of {@code count}; returns the rows it computed. */
    static long runShard(FeaturizeJob job, int shard, int count) {
        FeaturizeConfig config = job.shard(shard, count);
        Featurizer.Listener listener = FailureInjection.firstAttemptOfMarkedPartition(TaskContext.get()) ? FailureInjection.afterFirstBatch(config) : new Featurizer.Listener() {
            @Override
            public void progress(String split, long doneRows, long totalRows, long rowsThisRun, double seconds) {}
        };
        try (ModelPool.Lease lease = ModelPool.borrow(job.modelKey())) {
            try {
                if (config.strategy() == GradStrategy.ITERATIVE) return Featurizer.run(config, lease.model(), listener).rowsComputed();
                synchronized (FUNCTORCH) {
                    return Featurizer.run(config, lease.model(), listener).rowsComputed();
                }
            } catch (RuntimeException | Error e) {
                lease.discard();
                throw e;
            }
        }
    }

    /**
     * One functional (vmap) featurize task at a time per JVM. libtorch 1.13's functorch keeps a process-wide map keyed
     * by transform depth, so two threads inside vmap at once trip an internal assert (DynamicLayer.cpp:256), and AUTO
     * then falls back to the per-example loop, whose float rounding differs: seen here with local[2]. Executors with one
     * core (or one GPU per task) lose nothing; --grad iterative runs tasks in parallel.
     */
    private static final Object FUNCTORCH = new Object();
}
