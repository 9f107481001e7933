package org.projntk.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaSparkContext;
import org.projntk.data.Npy;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.StoreOperands;
import org.projntk.kernel.TopK;
import org.projntk.similar.SimilarExamples;
import org.projntk.stats.Moments;
import org.projntk.store.FeatureStore;

import scala.Tuple2;

/**
 * Kernel jobs over a feature store: the rows x cols kernel cut into square tiles of {@code tile} examples, one Spark
 * task per group of tiles. Each task computes its tiles with {@link Gram#compute} on the row and column blocks
 * (memory-mapped from the store on the shared filesystem). The driver never holds kernel data beyond one tile row
 * (for top-k, one row block's k best per row).
 *
 * <p>Results equal the single-process {@code gram} / {@code similar} bit for bit when {@code tile} equals the
 * single-process tile ({@link Gram#DEFAULT_TILE}): each task then makes the same BLAS calls on the same operands, the
 * cosine self-kernels are the same per-row sums, and std normalisation combines the same per-tile moments in the same
 * (row-major) order.
 */
public final class SparkKernels {
    private SparkKernels() {}

    /** What a gram job wrote: the kernel's shape in output rows/cols (eNTK: examples x classes), and its divisor. */
    public record GramResult(Path file, long rows, long cols, double scale, int tiles, int partitions, double seconds) {}

    /** What a similar job wrote. */
    public record SimilarResult(Path csv, long testRows, long trainRows, int k, int tiles, int partitions, double seconds) {}

    /**
     * A kernel job between two splits of the store in {@code storeDir}, run on {@code sc}:
     * {@code SparkKernels.gram(sc, store).rows("test").cols("train").normalization(KernelNormalization.COSINE).write(out)}.
     * See {@link GramJob} for the settings and their defaults.
     */
    public static GramJob gram(JavaSparkContext sc, Path storeDir) {
        return new GramJob(Objects.requireNonNull(sc, "sc"), Objects.requireNonNull(storeDir, "storeDir"));
    }

    /**
     * A top-k job over the store in {@code storeDir}, run on {@code sc}:
     * {@code SparkKernels.similar(sc, store).test("test").train("train").k(5).write(outDir)}. See {@link SimilarJob} for
     * the settings and their defaults.
     */
    public static SimilarJob similar(JavaSparkContext sc, Path storeDir) {
        return new SimilarJob(Objects.requireNonNull(sc, "sc"), Objects.requireNonNull(storeDir, "storeDir"));
    }

    /**
     * Builds and runs a Spark kernel job. Defaults: the store's first complete checkpoint, rows and columns from "train",
     * no normalisation, tiles of {@link Gram#DEFAULT_TILE} examples (the single-process tile, so the bytes match
     * {@code gram}'s), 4 partitions per task slot. Settings are checked when the job runs, with an
     * {@link IllegalArgumentException} naming the field. A builder is not thread-safe.
     */
    public static final class GramJob {
        private final JavaSparkContext sc;
        private final Path storeDir;
        private String checkpoint;
        private String rows = "train";
        private String cols = "train";
        private KernelNormalization normalization = KernelNormalization.NONE;
        private int tile = Gram.DEFAULT_TILE;
        private int partitions;

        private GramJob(JavaSparkContext sc, Path storeDir) {
            this.sc = sc;
            this.storeDir = storeDir;
        }

        /** The checkpoint to read (default null: the store's first complete one). */
        public GramJob checkpoint(String id) {
            this.checkpoint = id;
            return this;
        }

        /** The split of the kernel's rows (default "train"). */
        public GramJob rows(String split) {
            this.rows = split;
            return this;
        }

        /** The split of the kernel's columns (default "train"). */
        public GramJob cols(String split) {
            this.cols = split;
            return this;
        }

        /** The normalisation (default {@link KernelNormalization#NONE}). */
        public GramJob normalization(KernelNormalization value) {
            this.normalization = value;
            return this;
        }

        /** Examples per side of a square tile, one task's unit of work (default {@link Gram#DEFAULT_TILE}); at least 1. */
        public GramJob tile(int examples) {
            this.tile = examples;
            return this;
        }

        /** Spark partitions, groups of tiles (default 0: 4 per task slot); at least 0. */
        public GramJob partitions(int count) {
            this.partitions = count;
            return this;
        }

        /**
         * Writes the kernel into one float32 {@code .npy} [rows x cols] (eNTK: [rows*C x cols*C]), the file the
         * single-process {@code gram} writes. Tasks write their tiles at their offsets into {@code out.tmp} on the
         * shared filesystem (a retried tile rewrites the same bytes); the driver renames it to {@code out} at the end.
         */
        public GramResult write(Path out) {
            Objects.requireNonNull(out, "out");
            if (rows == null || rows.isEmpty()) throw new IllegalArgumentException("rows must name a split, got " + rows);
            if (cols == null || cols.isEmpty()) throw new IllegalArgumentException("cols must name a split, got " + cols);
            if (normalization == null) throw new IllegalArgumentException("normalization must be set, got null");
            if (tile < 1) throw new IllegalArgumentException("tile must be >= 1, got " + tile);
            if (partitions < 0) throw new IllegalArgumentException("partitions must be >= 0, got " + partitions);
            return runGram(sc, storeDir, checkpoint, rows, cols, normalization, tile, partitions, out);
        }
    }

    /**
     * Builds and runs a Spark top-k job. Defaults: the store's first complete checkpoint, the rows of "test" against
     * "train", k = 5, the cosine-normalised kernel (the trace kernel of an eNTK store), tiles of {@link Gram#DEFAULT_TILE}
     * examples, 4 partitions per task slot. Settings are checked when the job runs, with an
     * {@link IllegalArgumentException} naming the field. A builder is not thread-safe.
     */
    public static final class SimilarJob {
        private final JavaSparkContext sc;
        private final Path storeDir;
        private final SimilarExamples.Options.Builder options = SimilarExamples.Options.builder().images(0);
        private int tile = Gram.DEFAULT_TILE;
        private int partitions;

        private SimilarJob(JavaSparkContext sc, Path storeDir) {
            this.sc = sc;
            this.storeDir = storeDir;
        }

        /** The checkpoint to read (default null: the store's first complete one). */
        public SimilarJob checkpoint(String id) {
            options.checkpoint(id);
            return this;
        }

        /** The split whose rows get neighbours (default "test"). */
        public SimilarJob test(String split) {
            options.testSplit(split);
            return this;
        }

        /** The split searched for neighbours (default "train"). */
        public SimilarJob train(String split) {
            options.trainSplit(split);
            return this;
        }

        /** Neighbours per test row (default 5); at least 1. */
        public SimilarJob k(int value) {
            options.k(value);
            return this;
        }

        /** The kernel's normalisation (default {@link KernelNormalization#COSINE}). */
        public SimilarJob normalization(KernelNormalization value) {
            options.normalization(value);
            return this;
        }

        /** Examples per side of a square tile (default {@link Gram#DEFAULT_TILE}); at least 1. */
        public SimilarJob tile(int examples) {
            this.tile = examples;
            return this;
        }

        /** Spark partitions, groups of tiles (default 0: 4 per task slot); at least 0. */
        public SimilarJob partitions(int count) {
            this.partitions = count;
            return this;
        }

        /**
         * Writes {@code similar.csv} ({@code test_index,rank,train_index,score}, the single-process file) into
         * {@code outDir}: each tile task keeps a top-k per row of its block, and the driver merges and writes the row
         * blocks in order.
         */
        public SimilarResult write(Path outDir) {
            Objects.requireNonNull(outDir, "outDir");
            SimilarExamples.Options o = options.build();
            if (tile < 1) throw new IllegalArgumentException("tile must be >= 1, got " + tile);
            if (partitions < 0) throw new IllegalArgumentException("partitions must be >= 0, got " + partitions);
            return runSimilar(sc, storeDir, o.checkpoint(), o.trainSplit(), o.testSplit(), o.k(), o.normalization(), tile,
                    partitions, outDir);
        }
    }

    /** A tile of the example grid: row block bi, column block bj. */
    record Tile(int bi, int bj) implements Serializable {}

    /** The inputs every task needs, in serializable form. */
    record Job(String store, String checkpoint, String rowsSplit, String colsSplit, KernelKind kind, KernelNormalization norm,
               int tile, long rows, long cols) implements Serializable {
        int rowBlocks() {
            return (int) ((rows + tile - 1) / tile);
        }

        int colBlocks() {
            return (int) ((cols + tile - 1) / tile);
        }

        List<Tile> tiles() {
            List<Tile> out = new ArrayList<>();
            for (int i = 0; i < rowBlocks(); i++) for (int j = 0; j < colBlocks(); j++) out.add(new Tile(i, j));
            return out;
        }

        long rowStart(Tile t) {
            return (long) t.bi() * tile;
        }

        long colStart(Tile t) {
            return (long) t.bj() * tile;
        }

        /** The raw or normalised kernel of one tile, handed to {@code sink} in the tile's own coordinates. */
        Gram.Result compute(Tile t, Double stdScale, org.projntk.kernel.TileSink sink) {
            long r0 = rowStart(t);
            long c0 = colStart(t);
            try (StoreBlocks.Block a = StoreBlocks.block(store, checkpoint, rowsSplit, r0, Math.min(tile, rows - r0));
                 StoreBlocks.Block b = StoreBlocks.block(store, checkpoint, colsSplit, c0, Math.min(tile, cols - c0))) {
                KernelNormalization n = stdScale == null && norm == KernelNormalization.STD ? KernelNormalization.NONE : norm;
                Gram.Options.Builder opt = Gram.Options.builder().kernel(kind).normalization(n).tiles(tile, tile);
                if (n == KernelNormalization.STD) opt.stdScale(stdScale);
                Gram.Options options = opt.build();
                return Gram.compute(a.matrices(), b.matrices(), options, sink);
            }
        }
    }

    static Job job(Path storeDir, String checkpoint, String rowsSplit, String colsSplit, KernelKind kind, KernelNormalization norm, int tile) {
        if (tile < 1) throw new IllegalArgumentException("tile must be >= 1, got " + tile);
        FeatureStore store = FeatureStore.open(storeDir);
        String id = StoreOperands.checkpoint(store, checkpoint);
        long rows = StoreOperands.completeRows(store, id, rowsSplit);
        long cols = StoreOperands.completeRows(store, id, colsSplit);
        return new Job(storeDir.toAbsolutePath().toString(), id, rowsSplit, colsSplit, kind, norm, tile, rows, cols);
    }

    static int partitions(JavaSparkContext sc, int requested, int tiles) {
        if (requested < 0) throw new IllegalArgumentException("partitions must be >= 1, got " + requested);
        int p = requested == 0 ? 4 * sc.defaultParallelism() : requested;
        return Math.max(1, Math.min(p, tiles));
    }

    /**
     * The kernel between two splits into one float32 {@code .npy} [rows x cols] (eNTK: [rows*C x cols*C]), the same
     * file the single-process {@code gram} writes. Tasks write their tiles at their offsets into {@code out.tmp} on the
     * shared filesystem (a retried tile rewrites the same bytes); the driver renames it to {@code out} at the end.
     *
     * @param partitions Spark partitions (groups of tiles), or 0 for 4 per task slot
     */
    private static GramResult runGram(JavaSparkContext sc, Path storeDir, String checkpoint, String rowsSplit, String colsSplit,
                                   KernelNormalization norm, int tile, int partitions, Path out) {
        long start = System.nanoTime();
        storeDir = storeDir.toAbsolutePath().normalize();
        out = out.toAbsolutePath().normalize();   // tasks write into out.tmp: no path relative to the driver's folder
        ClusterLaunch.checkSharedFolder(sc, out.getParent());
        KernelKind kind = StoreOperands.kind(FeatureStore.open(storeDir));
        Job job = job(storeDir, checkpoint, rowsSplit, colsSplit, kind, norm, tile);
        List<Tile> tiles = job.tiles();
        int slices = partitions(sc, partitions, tiles.size());
        Double scale = norm == KernelNormalization.STD ? stdScale(sc, job, tiles, slices) : null;
        int per = kind == KernelKind.ENTK ? FeatureStore.open(storeDir).manifest().outputs() : 1;
        long n = job.rows() * per;
        long m = job.cols() * per;
        byte[] header = Npy.header(Npy.Dtype.FLOAT32, n, m);
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(ByteBuffer.wrap(header), 0);
            channel.truncate(header.length);
            channel.write(ByteBuffer.wrap(new byte[1]), header.length + n * m * Float.BYTES - 1); // full size; tiles fill it
        } catch (IOException e) {
            throw new UncheckedIOException("creating " + tmp + ": " + e.getMessage(), e);
        }
        String file = tmp.toString();
        long dataOffset = header.length;
        sc.parallelize(tiles, slices).foreachPartition(part -> writeTiles(job, part, scale, per, m, dataOffset, file));
        try {
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("renaming " + tmp + " to " + out + ": " + e.getMessage(), e);
        }
        return new GramResult(out, n, m, scale == null ? 1.0 : scale, tiles.size(), slices, (System.nanoTime() - start) / 1e9);
    }

    private static void writeTiles(Job job, Iterator<Tile> tiles, Double scale, int per, long m, long dataOffset, String file) throws IOException {
        try (FileChannel channel = FileChannel.open(Path.of(file), StandardOpenOption.WRITE)) {
            while (tiles.hasNext()) {
                Tile t = tiles.next();
                long r0 = job.rowStart(t) * per;
                long c0 = job.colStart(t) * per;
                job.compute(t, scale, (rowStart, colStart, tr, tc, tile) -> {
                    for (int r = 0; r < tr; r++) {
                        ByteBuffer line = tile.asSlice((long) r * tc * Float.BYTES, (long) tc * Float.BYTES).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                        long position = dataOffset + ((r0 + rowStart + r) * m + c0 + colStart) * Float.BYTES;
                        try {
                            while (line.hasRemaining()) position += channel.write(line, position);
                        } catch (IOException e) {
                            throw new UncheckedIOException("writing " + file + ": " + e.getMessage(), e);
                        }
                    }
                });
            }
            channel.force(false);
        }
    }

    /** The std of all raw kernel entries: per-tile moments from the tasks, combined on the driver in row-major tile order. */
    static double stdScale(JavaSparkContext sc, Job job, List<Tile> tiles, int slices) {
        List<Tuple2<Tile, Moments>> perTile = sc.parallelize(tiles, slices).map(t -> {
            Moments[] m = new Moments[1];
            job.compute(t, null, (r0, c0, tr, tc, tile) -> m[0] = m[0] == null ? Moments.ofFloats(tile, (long) tr * tc) : m[0].then(Moments.ofFloats(tile, (long) tr * tc)));
            return new Tuple2<>(t, m[0]);
        }).collect();
        Moments all = Moments.NONE;
        for (var e : perTile) all = all.then(e._2());   // collect() keeps the partition order, which is the tile order
        double std = all.std();
        if (!(std > 0)) throw new IllegalArgumentException("STD normalisation: the kernel entries have zero variance");
        return std;
    }

    /**
     * Top-k train examples per test row ({@code test_index,rank,train_index,score}, the single-process
     * {@code similar.csv}): each tile task keeps a top-k per row of its block, the blocks of one test row block are
     * merged (the best k under score, then lower index, is the same whatever the merge order), and the driver writes
     * the row blocks in order, fetching one at a time.
     */
    private static SimilarResult runSimilar(JavaSparkContext sc, Path storeDir, String checkpoint, String trainSplit, String testSplit,
                                         int k, KernelNormalization norm, int tile, int partitions, Path outDir) {
        long start = System.nanoTime();
        if (k < 1) throw new IllegalArgumentException("top-k needs k >= 1, got " + k);
        storeDir = storeDir.toAbsolutePath().normalize();
        outDir = outDir.toAbsolutePath().normalize();
        ClusterLaunch.checkSharedFolder(sc, storeDir);   // tasks read the store; the driver alone writes similar.csv
        KernelKind kind = StoreOperands.kind(FeatureStore.open(storeDir));
        if (kind == KernelKind.ENTK) kind = KernelKind.TRNTK;   // similarity of examples: the trace kernel
        Job job = job(storeDir, checkpoint, testSplit, trainSplit, kind, norm, tile);
        List<Tile> tiles = job.tiles();
        int slices = partitions(sc, partitions, tiles.size());
        Double scale = norm == KernelNormalization.STD ? stdScale(sc, job, tiles, slices) : null;
        int rowBlocks = job.rowBlocks();
        Iterator<Tuple2<Integer, Top>> blocks = sc.parallelize(tiles, slices)
                .mapToPair(t -> {
                    int rows = (int) Math.min(job.tile(), job.rows() - job.rowStart(t));
                    TopK top = new TopK(rows, k);
                    job.compute(t, scale, top);
                    return new Tuple2<>(t.bi(), Top.of(top.result(), k, job.colStart(t)));
                })
                .reduceByKey(new HashPartitioner(rowBlocks), Top::merge)   // partition i holds row block i
                .toLocalIterator();
        Path csv = outDir.resolve("similar.csv");
        try {
            Files.createDirectories(outDir);
            try (Writer w = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
                w.write("test_index,rank,train_index,score\n");
                int expected = 0;
                while (blocks.hasNext()) {
                    Tuple2<Integer, Top> block = blocks.next();
                    if (block._1() != expected) throw new IllegalStateException("row block " + block._1() + " arrived, expected " + expected);
                    StringWriter text = new StringWriter();
                    block._2().result().writeCsv(text, job.rowStart(new Tile(block._1(), 0)));
                    String s = text.toString();
                    w.write(s, s.indexOf('\n') + 1, s.length() - s.indexOf('\n') - 1);
                    expected++;
                }
                if (expected != rowBlocks) throw new IllegalStateException("got " + expected + " of " + rowBlocks + " row blocks");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + csv + ": " + e.getMessage(), e);
        }
        return new SimilarResult(csv, job.rows(), job.cols(), k, tiles.size(), slices, (System.nanoTime() - start) / 1e9);
    }

    /** The k best columns per row of one row block so far (global column indices, best first). */
    record Top(int k, long[][] indices, float[][] scores) implements Serializable {
        static Top of(TopK.Result r, int k, long colOffset) {
            long[][] idx = new long[r.rows()][];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = r.indices()[i].clone();
                for (int j = 0; j < idx[i].length; j++) idx[i][j] += colOffset;
            }
            return new Top(k, idx, r.scores());
        }

        /** Per row, the k best of both lists: higher score first, then lower index (TopK's order). */
        static Top merge(Top a, Top b) {
            int rows = a.indices.length;
            long[][] idx = new long[rows][];
            float[][] sc = new float[rows][];
            for (int r = 0; r < rows; r++) {
                long[] ai = a.indices[r], bi = b.indices[r];
                float[] as = a.scores[r], bs = b.scores[r];
                int n = Math.min(a.k, ai.length + bi.length);
                idx[r] = new long[n];
                sc[r] = new float[n];
                int x = 0, y = 0;
                for (int t = 0; t < n; t++) {
                    boolean takeA = y >= bi.length || (x < ai.length && (as[x] > bs[y] || (as[x] == bs[y] && ai[x] < bi[y])));
                    if (takeA) {
                        idx[r][t] = ai[x];
                        sc[r][t] = as[x++];
                    } else {
                        idx[r][t] = bi[y];
                        sc[r][t] = bs[y++];
                    }
                }
            }
            return new Top(a.k, idx, sc);
        }

        TopK.Result result() {
            return new TopK.Result(indices, scores);
        }
    }
}
