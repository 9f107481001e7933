package org.projntk.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.projntk.attribution.TileNpy;
import org.projntk.attribution.TrakScores;
import org.projntk.stats.PairwiseSum;
import org.projntk.store.FeatureStore;

/**
 * TRAK scores ({@link TrakScores}) as a Spark block job, writing the single-process {@code projntk score} file byte
 * for byte:
 * <ol>
 * <li>XᵀX per checkpoint: tasks sum aligned ranges of 2^j row blocks ({@link TrakScores.Problem#gram}); the driver
 * fetches the range sums one at a time, in order, into a {@link PairwiseSum} per checkpoint. The single process sums
 * the same blocks in the same tree, so the float64 XᵀX is the same bits.</li>
 * <li>The driver factorises each K x K system and averages Q ({@link TrakScores.Problem#solver}), and broadcasts them.</li>
 * <li>The [test x train] tiles of the single-process grid (tileRows x tileCols, row-major) are cut into contiguous
 * groups, one task each; a task solves a block of test rows once for its tiles of that row block, computes each tile
 * with {@link TrakScores.Tiles} (the single-process code) and writes it at its offset into {@code out.tmp}, which the
 * driver created at full size ({@link TileNpy}). A retried task rewrites its tiles with the same bytes. The driver
 * renames the file to {@code out} when every task is done.</li>
 * </ol>
 * The driver holds no score data at all, and at most log2(ranges) + 2 K x K arrays per checkpoint.
 */
public final class SparkScores {
    private SparkScores() {}

    /** What a score job wrote, with the single-process result record (sizes, checkpoints, compat scales, seconds). */
    public record Result(Path file, TrakScores.Result scores, int gramTasks, int tiles, int partitions) {}

    /**
     * Writes the scores of {@code options} into {@code out} (float32 [n_test x n_train]).
     *
     * @param partitions tasks of each stage (XᵀX ranges per checkpoint are rounded to powers of two blocks), or 0 for
     *                   4 per task slot
     */
    public static Result score(JavaSparkContext sc, Path storeDir, TrakScores.Options options, int partitions, Path out) {
        long start = System.nanoTime();
        if (partitions < 0) throw new IllegalArgumentException("partitions must be >= 1 (or 0 for the default), got " + partitions);
        int target = partitions == 0 ? 4 * sc.defaultParallelism() : partitions;
        storeDir = storeDir.toAbsolutePath().normalize();
        out = out.toAbsolutePath().normalize();
        ClusterLaunch.checkSharedFolder(sc, out.getParent());
        FeatureStore store = FeatureStore.open(storeDir);
        TrakScores.Problem p = TrakScores.Problem.of(store, options);

        List<Range> ranges = ranges(p, target);
        TrakScores.Solver solver = p.solver(grams(sc, p, ranges), store);
        Broadcast<TrakScores.Solver> shared = sc.broadcast(solver);

        List<SparkKernels.Tile> tiles = new ArrayList<>();
        long rowBlocks = (p.testRows() + p.tileRows() - 1) / p.tileRows(), colBlocks = (p.trainRows() + p.tileCols() - 1) / p.tileCols();
        if (rowBlocks * colBlocks > Integer.MAX_VALUE) throw new IllegalArgumentException(rowBlocks + " x " + colBlocks + " tiles are too many: raise --tile");
        for (int i = 0; i < rowBlocks; i++) for (int j = 0; j < colBlocks; j++) tiles.add(new SparkKernels.Tile(i, j));
        int slices = Math.max(1, Math.min(target, tiles.size()));

        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        TileNpy.create(tmp, p.testRows(), p.trainRows());
        String file = tmp.toAbsolutePath().toString();
        try {
            sc.parallelize(tiles, slices).foreachPartition(part -> writeTiles(shared.value(), part, file));
        } finally {
            shared.destroy();
        }
        TileNpy.publish(tmp, out);

        double seconds = (System.nanoTime() - start) / 1e9;
        double[] compat = solver.factors().stream().mapToDouble(TrakScores.Factor::compatScale).toArray();
        TrakScores.Result r = new TrakScores.Result(p.testRows(), p.trainRows(), p.dim(), p.checkpoints(), compat, seconds);
        return new Result(out, r, ranges.size(), tiles.size(), slices);
    }

    /** Row blocks [from, to) of checkpoint i's XᵀX, summed by one task. */
    record Range(int checkpoint, long from, long to) implements java.io.Serializable {}

    /**
     * Aligned ranges of 2^j blocks per checkpoint (the last one cut at the end), with the smallest j that gives at most
     * {@code target} ranges in all (but at least one per checkpoint), in checkpoint then block order.
     */
    static List<Range> ranges(TrakScores.Problem p, int target) {
        int c = p.checkpoints().size();
        long blocks = p.gramBlocks();
        long span = 1;
        while (span < blocks && c * ((blocks + span - 1) / span) > target) span *= 2;
        List<Range> out = new ArrayList<>();
        for (int i = 0; i < c; i++) for (long b = 0; b < blocks; b += span) out.add(new Range(i, b, Math.min(b + span, blocks)));
        return out;
    }

    /**
     * Each checkpoint's unscaled XᵀX over all row blocks, the same bits as {@link TrakScores.Problem#gram}: the ranges are
     * computed in parallel (one per partition, kept on the executors), then fetched in order, one at a time.
     */
    static List<double[]> grams(JavaSparkContext sc, TrakScores.Problem p, List<Range> ranges) {
        JavaRDD<double[]> sums = sc.parallelize(ranges, ranges.size())
                .map(r -> p.gram(p.store(), r.checkpoint(), r.from(), r.to()))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            sums.count();   // all ranges at once; toLocalIterator alone would run them one after another
            List<PairwiseSum> perCheckpoint = new ArrayList<>();
            for (int i = 0; i < p.checkpoints().size(); i++) perCheckpoint.add(new PairwiseSum());
            Iterator<double[]> it = sums.toLocalIterator();
            for (Range r : ranges) perCheckpoint.get(r.checkpoint()).add(it.next());
            if (it.hasNext()) throw new IllegalStateException("more XᵀX range sums than ranges");
            return perCheckpoint.stream().map(PairwiseSum::result).toList();
        } finally {
            sums.unpersist(false);
        }
    }

    /** One task: its tiles (consecutive in row-major order), each solved, computed and written at its offset. */
    static void writeTiles(TrakScores.Solver solver, Iterator<SparkKernels.Tile> tiles, String file) {
        TrakScores.Problem p = solver.problem();
        boolean fail = FailureInjection.firstAttemptOfMarkedPartition(TaskContext.get());
        try (TrakScores.Tiles computer = solver.tiles(p.store()); TileNpy out = TileNpy.open(Path.of(file))) {
            int solvedBlock = -1;
            int written = 0;
            while (tiles.hasNext()) {
                SparkKernels.Tile t = tiles.next();
                long r0 = (long) t.bi() * p.tileRows(), c0 = (long) t.bj() * p.tileCols();
                int tr = (int) Math.min(p.tileRows(), p.testRows() - r0), tc = (int) Math.min(p.tileCols(), p.trainRows() - c0);
                if (t.bi() != solvedBlock) {
                    computer.solve(r0, tr);
                    solvedBlock = t.bi();
                }
                if (fail && written == 1) {   // a write cut off: junk over this tile, then the attempt dies
                    float[] junk = new float[tr * tc];
                    Arrays.fill(junk, Float.intBitsToFloat(0x5a5a5a5a));
                    out.write(r0, c0, tr, tc, junk);
                    FailureInjection.INJECTED.incrementAndGet();
                    throw new IllegalStateException("injected failure of attempt 0 of score partition " + TaskContext.getPartitionId()
                            + " after its first tile, with junk over its second");
                }
                out.write(r0, c0, tr, tc, computer.tile(c0, tc));
                written++;
            }
        }
    }
}
