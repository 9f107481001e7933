package org.projntk.attribution;

import java.io.Serializable;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.projntk.internal.Blas;
import org.projntk.data.StagedFiles;
import org.projntk.stats.Cholesky;
import org.projntk.stats.PairwiseSum;
import org.projntk.store.FeatureStore;
import org.projntk.store.Manifest;
import org.projntk.store.StoredMatrix;

/**
 * TRAK data-attribution scores from a feature store of margin gradients (docs/attribution.md).
 *
 * <p>Default: for each checkpoint m with train features Φ_m and test features φ_m,
 * S_m = φ_m (Φ_mᵀΦ_m + λI)⁻¹ Φ_mᵀ; the scores are mean_m S_m with train column j multiplied by mean_m Q_m[j].
 * {@link Options#trakCompat()} reproduces MadryLab TRAK 0.3.2 instead: features divided by √P (on TRAK's unscaled
 * projection), λ added after that scaling, and each S_m divided by mean |(XᵀX + λI)⁻¹|.
 *
 * <p>Out of core: XᵀX is summed in float64 over row blocks (pairwise, {@link PairwiseSum}), factorised by Cholesky
 * (no inverse is formed except for the compat normalisation), and the [test x train] scores are produced tile by
 * tile. The steps are public ({@link Problem}, {@link Solver}, {@link Tiles}) so that a block job can run them as
 * tasks and write the same bytes.
 *
 * <p>Every step reads the store anew and holds its own buffers, so separate calls may run on separate threads;
 * a {@link Tiles} belongs to the thread that made it.
 */
public final class TrakScores {
    private TrakScores() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Train rows per block of XᵀX: one dgemm per block, the blocks summed in {@link PairwiseSum}'s fixed order. */
    public static final int GRAM_BLOCK = 1024;

    /**
     * How scores are computed: the ridge term, the checkpoints, TRAK's conventions or ours, the projected dimension
     * used, the splits and the tile grid. Immutable, safe to share, and Serializable (a block job ships it to tasks).
     *
     * <pre>{@code
     * TrakScores.Options options = TrakScores.Options.builder().lambda(0.01).checkpoints("0", "1").dim(512).build();
     * }</pre>
     */
    public static final class Options implements Serializable {
        private static final long serialVersionUID = 1L;

        /** The ridge term. */
        private final double lambda;
        /** The checkpoint ids, empty for all. */
        private final List<String> checkpoints;
        /** TRAK 0.3.2's conventions. */
        private final boolean trakCompat;
        /** Projected columns used, 0 for all. */
        private final int dim;
        /** The split attributed to. */
        private final String trainSplit;
        /** The split scored. */
        private final String testSplit;
        /** Test rows per tile. */
        private final int tileRows;
        /** Train columns per tile. */
        private final int tileCols;

        private Options(Builder b) {
            this.lambda = b.lambda;
            this.checkpoints = b.checkpoints;
            this.trakCompat = b.trakCompat;
            this.dim = b.dim;
            this.trainSplit = b.trainSplit;
            this.testSplit = b.testSplit;
            this.tileRows = b.tileRows;
            this.tileCols = b.tileCols;
        }

        /**
         * A builder with the defaults: λ = 0, all of the store's checkpoints, projntk's conventions (not TRAK's), all K
         * projected columns, splits "train" and "test", tiles of 1024 test rows x 4096 train columns.
         *
         * @return a new builder
         */
        public static Builder builder() {
            return new Builder();
        }

        /** {@return the defaults of {@link #builder()}} */
        public static Options defaults() {
            return builder().build();
        }

        /** {@return a builder holding these options, to change some of them} */
        public Builder toBuilder() {
            Builder b = new Builder().lambda(lambda).trakCompat(trakCompat).dim(dim).trainSplit(trainSplit).testSplit(testSplit)
                    .tiles(tileRows, tileCols);
            b.checkpoints = checkpoints;
            return b;
        }

        /** {@return the ridge term λ ≥ 0 (in compat mode added after the 1/√P scaling, like TRAK's lambda_reg)} */
        public double lambda() {
            return lambda;
        }

        /** {@return the checkpoint ids averaged over, in order; empty: all of the store's} */
        public List<String> checkpoints() {
            return checkpoints;
        }

        /** {@return whether MadryLab TRAK 0.3.2's numbers are reproduced (see {@link TrakScores})} */
        public boolean trakCompat() {
            return trakCompat;
        }

        /**
         * The first {@code dim} projected columns are used (0: all K); with a dense projector this is exactly the
         * K = dim projection, rescaled to it.
         *
         * @return the number of columns, or 0 for all
         */
        public int dim() {
            return dim;
        }

        /** {@return the split whose rows are attributed to (the columns of the scores)} */
        public String trainSplit() {
            return trainSplit;
        }

        /** {@return the split whose rows are scored (the rows of the scores)} */
        public String testSplit() {
            return testSplit;
        }

        /** {@return test rows per tile} */
        public int tileRows() {
            return tileRows;
        }

        /** {@return train columns per tile} */
        public int tileCols() {
            return tileCols;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Options x && Double.compare(lambda, x.lambda) == 0 && checkpoints.equals(x.checkpoints)
                    && trakCompat == x.trakCompat && dim == x.dim && trainSplit.equals(x.trainSplit) && testSplit.equals(x.testSplit)
                    && tileRows == x.tileRows && tileCols == x.tileCols;
        }

        @Override
        public int hashCode() {
            return Objects.hash(lambda, checkpoints, trakCompat, dim, trainSplit, testSplit, tileRows, tileCols);
        }

        @Override
        public String toString() {
            return "TrakScores.Options[lambda=" + lambda + ", checkpoints=" + (checkpoints.isEmpty() ? "all" : checkpoints)
                    + ", trakCompat=" + trakCompat + ", dim=" + dim + ", trainSplit=" + trainSplit + ", testSplit=" + testSplit
                    + ", tiles=" + tileRows + "x" + tileCols + "]";
        }

        /** Builds {@link Options}; not thread-safe. Every setting has a default. */
        public static final class Builder {
            private double lambda;
            private List<String> checkpoints = List.of();
            private String checkpointsError;
            private boolean trakCompat;
            private int dim;
            private String trainSplit = "train";
            private String testSplit = "test";
            private int tileRows = 1024;
            private int tileCols = 4096;

            private Builder() {}

            /**
             * The ridge term (default 0); finite and at least 0.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder lambda(double value) {
                this.lambda = value;
                return this;
            }

            /**
             * Average over these checkpoints, in this order (default: all of the store's); at least one id.
             *
             * @param ids the new setting
             * @return this builder
             */
            public Builder checkpoints(List<String> ids) {
                if (ids == null || ids.isEmpty() || ids.stream().anyMatch(Objects::isNull)) {
                    checkpointsError = "checkpoints must name at least one id and no null, got " + ids;
                } else {
                    checkpointsError = null;
                    checkpoints = List.copyOf(ids);
                }
                return this;
            }

            /**
             * As {@link #checkpoints(List)}.
             *
             * @param ids the new setting
             * @return this builder
             */
            public Builder checkpoints(String... ids) {
                return checkpoints(ids == null ? null : java.util.Arrays.asList(ids));
            }

            /** {@return average over all of the store's checkpoints (the default)} */
            public Builder allCheckpoints() {
                checkpointsError = null;
                checkpoints = List.of();
                return this;
            }

            /**
             * Reproduce MadryLab TRAK 0.3.2's numbers (default false: projntk's conventions, see {@link TrakScores}).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder trakCompat(boolean value) {
                this.trakCompat = value;
                return this;
            }

            /**
             * Use the first {@code columns} projected columns (default 0: all K); at least 0.
             *
             * @param columns the new setting
             * @return this builder
             */
            public Builder dim(int columns) {
                this.dim = columns;
                return this;
            }

            /**
             * The split attributed to (default "train").
             *
             * @param name the new setting
             * @return this builder
             */
            public Builder trainSplit(String name) {
                this.trainSplit = name;
                return this;
            }

            /**
             * The split scored (default "test").
             *
             * @param name the new setting
             * @return this builder
             */
            public Builder testSplit(String name) {
                this.testSplit = name;
                return this;
            }

            /**
             * Test rows and train columns per tile (default 1024 x 4096); both at least 1.
             *
             * @param rows the new setting
             * @param cols the new setting
             * @return this builder
             */
            public Builder tiles(int rows, int cols) {
                this.tileRows = rows;
                this.tileCols = cols;
                return this;
            }

            /**
             * The options.
             *
             * @return the options
             * @throws IllegalArgumentException naming the field when a value is missing or out of range
             */
            public Options build() {
                if (!(lambda >= 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("lambda must be a finite number >= 0, got " + lambda);
                if (checkpointsError != null) throw new IllegalArgumentException(checkpointsError);
                if (dim < 0) throw new IllegalArgumentException("dim must be >= 0 (0 = all projected columns), got " + dim);
                if (trainSplit == null || trainSplit.isEmpty()) throw new IllegalArgumentException("trainSplit must name a split, got " + trainSplit);
                if (testSplit == null || testSplit.isEmpty()) throw new IllegalArgumentException("testSplit must name a split, got " + testSplit);
                if (tileRows < 1) throw new IllegalArgumentException("tileRows must be >= 1, got " + tileRows);
                if (tileCols < 1) throw new IllegalArgumentException("tileCols must be >= 1, got " + tileCols);
                return new Options(this);
            }
        }
    }

    /**
     * What {@link #score} computed.
     *
     * @param testRows    the scores' rows: the test split's examples
     * @param trainRows   the scores' columns: the train split's examples
     * @param dim         the projected columns used
     * @param checkpoints the checkpoints averaged, in order
     * @param compatScale per checkpoint, TRAK's mean |(XᵀX + λI)⁻¹| (compat mode), else NaN
     * @param seconds     wall time of the whole computation
     */
    public record Result(long testRows, long trainRows, int dim, List<String> checkpoints, double[] compatScale, double seconds) {}

    /** Receives score tiles in row-major order of tiles: tile[i * cols + j] is the score of test testStart+i, train trainStart+j. */
    @FunctionalInterface
    public interface Sink {
        /**
         * Takes one tile, on the thread computing the scores; an exception stops the computation.
         *
         * @param testStart  the tile's first test row
         * @param trainStart the tile's first train column
         * @param rows       the tile's height
         * @param cols       the tile's width
         * @param tile       float32 row-major [rows x cols] scores; reused for the next tile, so copy what must outlive
         *                   the call
         */
        void accept(long testStart, long trainStart, int rows, int cols, float[] tile);
    }

    /** Thrown when XᵀX + λI cannot be factorised. */
    public static final class SingularSystemException extends IllegalArgumentException {
        SingularSystemException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Streams the [test x train] scores to a sink, tile by tile in row-major tile order, on the calling thread: the
     * whole pipeline ({@link Problem#of}, {@link Problem#solver}, {@link Tiles}) in one process.
     *
     * @param store the margin store
     * @param o     λ, checkpoints, conventions, dim, splits and tile grid
     * @param sink  receives every tile once
     * @return what was computed
     * @throws IllegalArgumentException   as {@link Problem#of} does
     * @throws SingularSystemException    when a checkpoint's XᵀX + λI is not positive definite
     * @throws ArithmeticException        for NaN or Inf in the features or the scores
     * @throws java.io.UncheckedIOException when a feature file cannot be read
     */
    public static Result score(FeatureStore store, Options o, Sink sink) {
        long start = System.nanoTime();
        Problem p = Problem.of(store, o);
        Solver solver = p.solver(store);
        try (Tiles tiles = solver.tiles(store)) {
            for (long r0 = 0; r0 < p.testRows(); r0 += p.tileRows()) {
                int tr = (int) Math.min(p.tileRows(), p.testRows() - r0);
                tiles.solve(r0, tr);
                for (long c0 = 0; c0 < p.trainRows(); c0 += p.tileCols()) {
                    int tc = (int) Math.min(p.tileCols(), p.trainRows() - c0);
                    sink.accept(r0, c0, tr, tc, tiles.tile(c0, tc));
                }
            }
        }
        return new Result(p.testRows(), p.trainRows(), p.dim(), p.checkpoints(), solver.compatScales(), (System.nanoTime() - start) / 1e9);
    }

    /**
     * A checked scoring problem: the checkpoints, the dimension, the split sizes, the feature scale per checkpoint and
     * the tile grid (tiles of tileRows test rows x tileCols train columns, cut at the ends). It names the store by its
     * directory and is Serializable, so that a block job (Spark) can ship it to its tasks.
     *
     * <p>The steps of {@link #score}, each usable on its own: {@link #gram} (XᵀX of a range of row blocks),
     * {@link #solver} (the factorised systems and Q), {@link Solver#tiles} (any tile). The featureScales array is not
     * copied.
     *
     * @param storeDir      the store's absolute directory
     * @param options       the options it was checked against
     * @param checkpoints   the checkpoints scored, in order
     * @param dim           the projected columns used, at most the store's K
     * @param trainRows     the train split's examples
     * @param testRows      the test split's examples
     * @param featureScales per checkpoint, the factor applied to the stored features (see the class comment)
     * @param tileRows      test rows per tile, at most testRows
     * @param tileCols      train columns per tile, at most trainRows
     */
    public record Problem(String storeDir, Options options, List<String> checkpoints, int dim, long trainRows, long testRows,
                          double[] featureScales, int tileRows, int tileCols) implements Serializable {
        /**
         * Checks the options against the store (re-reading its manifest) and fixes the problem.
         *
         * @param store the margin store
         * @param o     the options
         * @return the problem
         * @throws IllegalArgumentException for a store with more than one output, an unknown split or checkpoint, an
         *                                  incomplete checkpoint, dim above K, dim below K without a dense projector, or
         *                                  compat mode on a store that does not record P
         */
        public static Problem of(FeatureStore store, Options o) {
            Manifest m = store.reload();
            if (m.outputs() != 1) {
                throw new IllegalArgumentException("scores need one feature matrix per example (kernel margin); store " + store.dir()
                        + " has kernel " + m.kernel() + " with " + m.outputs() + " outputs");
            }
            List<String> ids = o.checkpoints().isEmpty() ? List.copyOf(m.checkpoints().keySet()) : o.checkpoints();
            if (ids.isEmpty()) throw new IllegalArgumentException("store " + store.dir() + " has no checkpoints");
            for (String split : List.of(o.trainSplit(), o.testSplit())) {
                if (!m.splits().containsKey(split)) {
                    throw new IllegalArgumentException("store " + store.dir() + " has no split '" + split + "' (splits: " + m.splits().keySet() + ")");
                }
            }
            for (String id : ids) {
                if (!m.checkpoints().containsKey(id)) {
                    throw new IllegalArgumentException("store has no checkpoint '" + id + "' (checkpoints: " + m.checkpoints().keySet() + ")");
                }
                if (!Manifest.Checkpoint.COMPLETE.equals(m.checkpoints().get(id).status())) {
                    throw new IllegalArgumentException("checkpoint '" + id + "' is not complete (" + store.doneRows(id, o.trainSplit()) + " of "
                            + m.spec().split(o.trainSplit()).rows() + " train rows done): finish featurize first");
                }
            }
            int k = m.projector().k();
            int d = o.dim() == 0 ? k : o.dim();
            if (d > k) throw new IllegalArgumentException("dim " + d + " exceeds the store's K = " + k);
            if (d < k && !prefixIsProjection(m.projector().kind())) {
                throw new IllegalArgumentException("dim < K needs a dense projector (rademacher or normal), whose first columns are the"
                        + " smaller projection; this store uses " + m.projector().kind());
            }
            long nTrain = m.spec().split(o.trainSplit()).rows();
            long nTest = m.spec().split(o.testSplit()).rows();
            double[] scales = new double[ids.size()];
            for (int i = 0; i < scales.length; i++) scales[i] = featureScale(m, ids.get(i), d, o.trakCompat());
            int tileR = (int) Math.max(1, Math.min(o.tileRows(), nTest));
            int tileC = (int) Math.max(1, Math.min(o.tileCols(), nTrain));
            return new Problem(store.dir().toAbsolutePath().toString(), o, ids, d, nTrain, nTest, scales, tileR, tileC);
        }

        /** {@return the store, opened again from its directory (in a task on another machine: the shared filesystem's copy)} */
        public FeatureStore store() {
            return FeatureStore.open(Path.of(storeDir));
        }

        /** {@return the number of blocks of {@link #GRAM_BLOCK} train rows (the last one cut at the end) over which XᵀX is summed} */
        public long gramBlocks() {
            return (trainRows + GRAM_BLOCK - 1) / GRAM_BLOCK;
        }

        /**
         * XᵀX of checkpoint {@code checkpoint}'s train features (first dim columns, unscaled) over the row blocks
         * [fromBlock, toBlock): one float64 dgemm per block, the blocks summed by a {@link PairwiseSum}. For all blocks
         * this is what {@link #score} factorises. For aligned ranges of 2^j blocks (the last one cut at the end), the
         * range sums added in order to a PairwiseSum give the same bits as the whole range: so tasks can sum a range each.
         *
         * @param store      the store (this problem's, opened where the call runs)
         * @param checkpoint the checkpoint's position in {@link #checkpoints()}
         * @param fromBlock  the first row block, from 0
         * @param toBlock    one past the last row block, at most {@link #gramBlocks()}
         * @return XᵀX, row-major [dim x dim] float64
         * @throws IllegalArgumentException for an empty or out-of-range block range
         */
        public double[] gram(FeatureStore store, int checkpoint, long fromBlock, long toBlock) {
            if (fromBlock < 0 || fromBlock >= toBlock || toBlock > gramBlocks()) {
                throw new IllegalArgumentException("row blocks [" + fromBlock + ", " + toBlock + ") outside [0, " + gramBlocks() + ")");
            }
            try (StoredMatrix x = store.features(checkpoints.get(checkpoint), options.trainSplit(), null); Arena arena = Arena.ofConfined()) {
                int block = (int) Math.min(GRAM_BLOCK, trainRows);
                MemorySegment rows = arena.allocate((long) block * dim * Double.BYTES, 64);
                MemorySegment product = arena.allocate((long) dim * dim * Double.BYTES, 64);
                PairwiseSum sum = new PairwiseSum();
                for (long b = fromBlock; b < toBlock; b++) {
                    long r0 = b * GRAM_BLOCK;
                    int n = (int) Math.min(GRAM_BLOCK, trainRows - r0);
                    copyRows(x, r0, n, dim, 1.0, rows);
                    Blas.dgemm(true, false, dim, dim, n, 1.0, rows, dim, rows, dim, 0.0, product, dim);
                    sum.add(product.toArray(ValueLayout.JAVA_DOUBLE));
                }
                return sum.result();
            }
        }

        /**
         * Checkpoint {@code checkpoint}'s system from its unscaled XᵀX ({@link #gram} over all blocks): times the
         * feature scale², plus λI, factorised by Cholesky; in compat mode also TRAK's mean |A⁻¹|.
         *
         * @param checkpoint the checkpoint's position in {@link #checkpoints()}
         * @param gram       its unscaled XᵀX, row-major [dim x dim]
         * @return the factor
         * @throws SingularSystemException when XᵀX + λI is not positive definite (the message says what to do)
         * @throws IllegalArgumentException when gram does not hold dim x dim entries
         * @throws ArithmeticException      for a non-finite entry
         */
        public Factor factor(int checkpoint, double[] gram) {
            if (gram.length != (long) dim * dim) throw new IllegalArgumentException("XᵀX must have " + dim + " x " + dim + " entries, got " + gram.length);
            double s2 = featureScales[checkpoint] * featureScales[checkpoint];
            double[] a = new double[gram.length];
            for (int i = 0; i < a.length; i++) {
                a[i] = gram[i] * s2;
                if (!Double.isFinite(a[i])) {
                    throw new ArithmeticException("non-finite XᵀX entry: the " + options.trainSplit() + " features of checkpoint '"
                            + checkpoints.get(checkpoint) + "' in " + storeDir + " hold NaN/Inf");
                }
            }
            for (int j = 0; j < dim; j++) a[j * dim + j] += options.lambda();
            Cholesky f;
            try {
                f = Cholesky.factor(a, dim);
            } catch (Cholesky.NotPositiveDefiniteException e) {
                throw singular(checkpoints.get(checkpoint), trainRows, dim, options.lambda(), e);
            }
            double compatScale = Double.NaN;
            if (options.trakCompat()) {
                double sum = 0;
                for (double v : f.inverse()) sum += Math.abs(v);
                compatScale = sum / ((double) dim * dim);
            }
            return new Factor(f, compatScale);
        }

        /**
         * The mean over the checkpoints of the train rows' out-to-loss weights Q.
         *
         * @param store the store
         * @return one weight per train row, in [0, 1]
         * @throws IllegalArgumentException when the store holds no weights (not a margin store)
         */
        public double[] outToLoss(FeatureStore store) {
            int c = checkpoints.size();
            double[] q = new double[Math.toIntExact(trainRows)];
            for (String id : checkpoints) {
                float[] qc = store.outToLoss(id, options.trainSplit());
                for (int j = 0; j < q.length; j++) q[j] += qc[j] / (double) c;
            }
            return q;
        }

        /**
         * The solver from each checkpoint's unscaled XᵀX and the store's Q.
         *
         * @param grams one XᵀX per checkpoint, in checkpoint order (see {@link #gram})
         * @param store the store, for Q
         * @return the solver
         * @throws IllegalArgumentException for a wrong number or shape of matrices
         * @throws SingularSystemException  when a system is not positive definite
         */
        public Solver solver(List<double[]> grams, FeatureStore store) {
            if (grams.size() != checkpoints.size()) throw new IllegalArgumentException("need one XᵀX per checkpoint, got " + grams.size());
            List<Factor> factors = new ArrayList<>();
            for (int i = 0; i < grams.size(); i++) factors.add(factor(i, grams.get(i)));
            return new Solver(this, factors, outToLoss(store));
        }

        /**
         * The solver, computed here: XᵀX of every checkpoint over all row blocks.
         *
         * @param store the store
         * @return the solver
         * @throws SingularSystemException when a system is not positive definite
         */
        public Solver solver(FeatureStore store) {
            List<double[]> grams = new ArrayList<>();
            for (int i = 0; i < checkpoints.size(); i++) grams.add(gram(store, i, 0, gramBlocks()));
            return solver(grams, store);
        }
    }

    /**
     * A checkpoint's factorised system.
     *
     * @param cholesky    the Cholesky factor of s²XᵀX + λI, s the checkpoint's feature scale
     * @param compatScale in compat mode, TRAK's mean |(XᵀX + λI)⁻¹|, else NaN
     */
    public record Factor(Cholesky cholesky, double compatScale) implements Serializable {}

    /**
     * Everything a tile needs. Serializable, so a block job can ship it to its tasks; q is not copied.
     *
     * @param problem the problem
     * @param factors one factor per checkpoint, in checkpoint order (copied)
     * @param q       the mean out-to-loss weight of each train row
     */
    public record Solver(Problem problem, List<Factor> factors, double[] q) implements Serializable {
        /**
         * Checks the sizes against the problem.
         *
         * @throws IllegalArgumentException for a factor count other than the checkpoints', or q not of trainRows
         */
        public Solver {
            factors = List.copyOf(factors);
            if (factors.size() != problem.checkpoints().size()) throw new IllegalArgumentException("need one factor per checkpoint");
            if (q.length != problem.trainRows()) throw new IllegalArgumentException("need Q for each of " + problem.trainRows() + " train rows, got " + q.length);
        }

        double[] compatScales() {
            return factors.stream().mapToDouble(Factor::compatScale).toArray();
        }

        /**
         * A tile computer over the store's features, confined to the calling thread; close it.
         *
         * @param store the store, opened where the call runs
         * @return the tile computer
         */
        public Tiles tiles(FeatureStore store) {
            return new Tiles(this, store);
        }
    }

    /**
     * Computes score tiles: {@link #solve} a block of test rows, then {@link #tile} for column blocks of it. A tile
     * depends only on its rows, columns and the solver, not on which tiles came before: the same tile computed by any
     * Tiles (another thread, another machine with the same BLAS) has the same bits. Holds native scratch memory and
     * the store's mappings: one per thread, closed after use.
     */
    public static final class Tiles implements AutoCloseable {
        private final Solver solver;
        private final Problem p;
        private final List<StoredMatrix> train = new ArrayList<>();
        private final List<StoredMatrix> test = new ArrayList<>();
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment solved;      // T_m = φ_m A_m⁻¹ (/ s_m), per checkpoint [tileRows x d]
        private final MemorySegment trainBlock;  // [tileCols x d]
        private final MemorySegment out;         // [tileRows x tileCols]
        private final double[] row;
        private final float[] tile;
        private long solvedStart = -1;
        private int solvedRows;

        Tiles(Solver solver, FeatureStore store) {
            this.solver = solver;
            this.p = solver.problem();
            int c = p.checkpoints().size(), d = p.dim();
            try {
                for (String id : p.checkpoints()) {
                    train.add(store.features(id, p.options().trainSplit(), null));
                    test.add(store.features(id, p.options().testSplit(), null));
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
            solved = arena.allocate((long) c * p.tileRows() * d * Double.BYTES, 64);
            trainBlock = arena.allocate((long) p.tileCols() * d * Double.BYTES, 64);
            out = arena.allocate((long) p.tileRows() * p.tileCols() * Double.BYTES, 64);
            row = new double[p.tileRows() * d];
            tile = new float[p.tileRows() * p.tileCols()];
        }

        /**
         * Solves a block of test rows against every checkpoint's system; later {@link #tile} calls read them.
         *
         * @param r0   the first test row
         * @param rows the block's rows, in [1, tileRows], with r0 + rows at most testRows
         * @throws IllegalArgumentException for a block out of range
         */
        public void solve(long r0, int rows) {
            if (r0 < 0 || rows < 1 || rows > p.tileRows() || r0 + rows > p.testRows()) {
                throw new IllegalArgumentException("test rows [" + r0 + ", " + (r0 + rows) + ") outside the " + p.testRows() + " rows or over the tile of " + p.tileRows());
            }
            int d = p.dim();
            for (int i = 0; i < train.size(); i++) {
                readRows(test.get(i), r0, rows, d, p.featureScales()[i], row);
                Factor f = solver.factors().get(i);
                f.cholesky().solveRows(row, rows);
                double w = p.options().trakCompat() ? 1 / f.compatScale() : 1;
                long base = (long) i * p.tileRows() * d;
                for (int x = 0; x < rows * d; x++) solved.setAtIndex(ValueLayout.JAVA_DOUBLE, base + x, row[x] * w);
            }
            solvedStart = r0;
            solvedRows = rows;
        }

        /**
         * The scores of the solved test rows x train columns [c0, c0 + cols) (cols ≤ tileCols), float32 row-major
         * [rows x cols], Q applied. The array is reused by the next call.
         *
         * @param c0   the first train column
         * @param cols the tile's columns, in [1, tileCols], with c0 + cols at most trainRows
         * @return the tile
         * @throws IllegalStateException    before the first {@link #solve}
         * @throws IllegalArgumentException for columns out of range
         * @throws ArithmeticException      for a non-finite score
         */
        public float[] tile(long c0, int cols) {
            if (solvedStart < 0) throw new IllegalStateException("solve(r0, rows) a block of test rows first");
            if (c0 < 0 || cols < 1 || cols > p.tileCols() || c0 + cols > p.trainRows()) {
                throw new IllegalArgumentException("train columns [" + c0 + ", " + (c0 + cols) + ") outside the " + p.trainRows() + " rows or over the tile of " + p.tileCols());
            }
            int d = p.dim(), c = train.size(), tr = solvedRows;
            for (int i = 0; i < c; i++) {
                copyRows(train.get(i), c0, cols, d, p.featureScales()[i], trainBlock);
                MemorySegment t = solved.asSlice((long) i * p.tileRows() * d * Double.BYTES, (long) tr * d * Double.BYTES);
                Blas.dgemm(false, true, tr, cols, d, 1.0, t, d, trainBlock, d, i == 0 ? 0.0 : 1.0, out, cols);
            }
            double[] q = solver.q();
            for (int x = 0; x < tr; x++) {
                for (int y = 0; y < cols; y++) {
                    double v = out.getAtIndex(ValueLayout.JAVA_DOUBLE, (long) x * cols + y) / c * q[(int) (c0 + y)];
                    if (!Double.isFinite(v)) {
                        throw new ArithmeticException("non-finite score at test " + (solvedStart + x) + ", train " + (c0 + y)
                                + ": the features hold NaN/Inf or the system is too ill-conditioned (raise --lambda)");
                    }
                    tile[x * cols + y] = (float) v;
                }
            }
            return tile;
        }

        /** Unmaps the feature files and frees the scratch memory; idempotent. */
        @Override
        public void close() {
            for (StoredMatrix s : train) s.close();
            for (StoredMatrix s : test) s.close();
            if (arena.scope().isAlive()) arena.close();
        }
    }

    /**
     * The whole score matrix in memory (small problems, e.g. LDS): {@link #score} into a heap array.
     *
     * @param store the margin store
     * @param o     the options
     * @return the scores, [test rows][train rows]
     * @throws IllegalArgumentException as {@link #score} does, or for more than Integer.MAX_VALUE scores
     */
    public static float[][] matrix(FeatureStore store, Options o) {
        Manifest m = store.manifest();
        long nTest = m.spec().split(o.testSplit()).rows();
        long nTrain = m.spec().split(o.trainSplit()).rows();
        if (nTest * nTrain > Integer.MAX_VALUE) throw new IllegalArgumentException(nTest + " x " + nTrain + " scores are too many to hold; stream them");
        float[][] s = new float[(int) nTest][(int) nTrain];
        score(store, o, (r0, c0, tr, tc, tile) -> {
            for (int i = 0; i < tr; i++) System.arraycopy(tile, i * tc, s[(int) r0 + i], (int) c0, tc);
        });
        return s;
    }

    /**
     * Streams the scores into a float32 [test x train] {@code .npy}: written to {@code out.tmp}, then renamed over
     * {@code out} only when complete.
     *
     * @param store the margin store
     * @param o     the options
     * @param out   the file written; missing parent folders are created
     * @return what was computed
     * @throws IllegalArgumentException as {@link #score} does
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public static Result writeNpy(FeatureStore store, Options o, Path out) {
        Manifest m = store.reload();
        long nTest = m.spec().split(o.testSplit()).rows();
        long nTrain = m.spec().split(o.trainSplit()).rows();
        try (StagedFiles staged = new StagedFiles()) {
            Path tmp = staged.stage(out);
            TileNpy.create(tmp, nTest, nTrain);
            Result result;
            try (TileNpy file = TileNpy.open(tmp)) {
                result = score(store, o, file::write);
            }
            staged.commit();
            return result;
        }
    }

    /**
     * The factor applied to stored features. Default: 1, or √(K/dim) for a scaled dense projection cut to its first dim
     * columns (= the K = dim projection). Compat: TRAK's X = G/√P on its unscaled projection, so √K/√P on a scaled one.
     */
    static double featureScale(Manifest m, String checkpoint, int d, boolean compat) {
        int k = m.projector().k();
        boolean identity = "none".equals(m.projector().kind());
        boolean scaled = m.projector().scaled() && !identity;
        if (!compat) return scaled ? Math.sqrt((double) k / d) : 1;
        long p;
        if (identity) {
            p = k;
        } else {
            Long recorded = m.checkpoints().get(checkpoint).parameters();
            if (recorded == null) {
                throw new IllegalArgumentException("--trak-compat divides by √P, but the store does not record checkpoint '" + checkpoint
                        + "''s parameter count P (featurize it again with this version)");
            }
            p = recorded;
        }
        return (scaled ? Math.sqrt(k) : 1) / Math.sqrt(p);
    }

    private static boolean prefixIsProjection(String kind) {
        return kind.equals("rademacher") || kind.equals("normal");
    }

    private static SingularSystemException singular(String id, long rows, int d, double lambda, Cholesky.NotPositiveDefiniteException e) {
        String why = lambda == 0
                ? "XᵀX of checkpoint '" + id + "' (" + rows + " train rows, K = " + d + ") is singular"
                        + (rows < d ? " (fewer rows than K)" : "") + "; pass a ridge term, e.g. --lambda 1e-3 (scaled to your features)"
                : "XᵀX + " + lambda + "·I of checkpoint '" + id + "' is numerically singular; raise --lambda";
        return new SingularSystemException(why + " [" + e.getMessage() + "]", e);
    }

    /** Rows [r0, r0+n) of x, first d columns, times scale, into a float64 [n x d] segment. */
    private static void copyRows(StoredMatrix x, long r0, int n, int d, double scale, MemorySegment dst) {
        MemorySegment src = x.rows(r0, n);
        int k = x.dim();
        for (int i = 0; i < n; i++) {
            long s = (long) i * k * Float.BYTES;
            long t = (long) i * d;
            for (int j = 0; j < d; j++) dst.setAtIndex(ValueLayout.JAVA_DOUBLE, t + j, src.get(F32, s + (long) j * Float.BYTES) * scale);
        }
    }

    private static void readRows(StoredMatrix x, long r0, int n, int d, double scale, double[] dst) {
        MemorySegment src = x.rows(r0, n);
        int k = x.dim();
        for (int i = 0; i < n; i++) {
            long s = (long) i * k * Float.BYTES;
            for (int j = 0; j < d; j++) dst[i * d + j] = src.get(F32, s + (long) j * Float.BYTES) * scale;
        }
    }
}
