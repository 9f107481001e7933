package org.projntk.attribution;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.projntk.data.Npy;
import org.projntk.internal.Blas;
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
 * <p>Out of core: XᵀX is accumulated in float64 over row blocks, factorised by Cholesky (no inverse is formed except
 * for the compat normalisation), and the [test x train] scores are produced tile by tile.
 */
public final class TrakScores {
    private TrakScores() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int GRAM_BLOCK = 1024;

    /**
     * @param lambda      ridge term λ ≥ 0 (in compat mode added after the 1/√P scaling, like TRAK's lambda_reg)
     * @param checkpoints checkpoint ids to average over, or null for all of the store's
     * @param trakCompat  reproduce MadryLab TRAK 0.3.2's numbers
     * @param dim         use the first dim projected columns (0 = all K); with a dense projector this is exactly the
     *                    K = dim projection, rescaled to it
     * @param tileRows    test rows per tile
     * @param tileCols    train columns per tile
     */
    public record Options(double lambda, List<String> checkpoints, boolean trakCompat, int dim, String trainSplit,
                          String testSplit, int tileRows, int tileCols) {
        public Options {
            if (!(lambda >= 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("lambda must be a finite number >= 0, got " + lambda);
            if (dim < 0) throw new IllegalArgumentException("dim must be >= 0 (0 = all projected columns), got " + dim);
            if (tileRows < 1 || tileCols < 1) throw new IllegalArgumentException("tile sizes must be >= 1, got " + tileRows + " x " + tileCols);
            Objects.requireNonNull(trainSplit, "trainSplit");
            Objects.requireNonNull(testSplit, "testSplit");
            if (checkpoints != null) {
                if (checkpoints.isEmpty()) throw new IllegalArgumentException("checkpoints: give at least one id, or null for all");
                checkpoints = List.copyOf(checkpoints);
            }
        }

        public static Options defaults() {
            return new Options(0, null, false, 0, "train", "test", 1024, 4096);
        }

        public Options withLambda(double value) {
            return new Options(value, checkpoints, trakCompat, dim, trainSplit, testSplit, tileRows, tileCols);
        }

        public Options withCheckpoints(List<String> ids) {
            return new Options(lambda, ids, trakCompat, dim, trainSplit, testSplit, tileRows, tileCols);
        }

        public Options withTrakCompat(boolean compat) {
            return new Options(lambda, checkpoints, compat, dim, trainSplit, testSplit, tileRows, tileCols);
        }

        public Options withDim(int d) {
            return new Options(lambda, checkpoints, trakCompat, d, trainSplit, testSplit, tileRows, tileCols);
        }

        public Options withTiles(int rows, int cols) {
            return new Options(lambda, checkpoints, trakCompat, dim, trainSplit, testSplit, rows, cols);
        }
    }

    /**
     * @param compatScale per checkpoint, TRAK's mean |(XᵀX + λI)⁻¹| (compat mode), else NaN
     */
    public record Result(long testRows, long trainRows, int dim, List<String> checkpoints, double[] compatScale, double seconds) {}

    /** Receives score tiles in row-major order of tiles: tile[i * cols + j] is the score of test testStart+i, train trainStart+j. */
    public interface Sink {
        void accept(long testStart, long trainStart, int rows, int cols, float[] tile);
    }

    /** Thrown when XᵀX + λI cannot be factorised. */
    public static final class SingularSystemException extends IllegalArgumentException {
        SingularSystemException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Streams the [test x train] scores to sink, tile by tile. */
    public static Result score(FeatureStore store, Options o, Sink sink) {
        long start = System.nanoTime();
        Manifest m = store.reload();
        if (m.outputs() != 1) {
            throw new IllegalArgumentException("scores need one feature matrix per example (kernel margin); store " + store.dir()
                    + " has kernel " + m.kernel() + " with " + m.outputs() + " outputs");
        }
        List<String> ids = o.checkpoints() == null ? List.copyOf(m.checkpoints().keySet()) : o.checkpoints();
        if (ids.isEmpty()) throw new IllegalArgumentException("store " + store.dir() + " has no checkpoints");
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
        int c = ids.size();
        long nTrain = m.spec().split(o.trainSplit()).rows();
        long nTest = m.spec().split(o.testSplit()).rows();

        double[] q = new double[Math.toIntExact(nTrain)];
        for (String id : ids) {
            float[] qc = store.outToLoss(id, o.trainSplit());
            for (int j = 0; j < q.length; j++) q[j] += qc[j] / (double) c;
        }

        List<StoredMatrix> train = new ArrayList<>();
        List<StoredMatrix> test = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            double[] scale = new double[c];
            double[] compatScale = new double[c];
            Cholesky[] factors = new Cholesky[c];
            for (int i = 0; i < c; i++) {
                train.add(store.features(ids.get(i), o.trainSplit(), null));
                test.add(store.features(ids.get(i), o.testSplit(), null));
                scale[i] = featureScale(m, ids.get(i), d, o.trakCompat());
                double[] a = gram(train.get(i), d, scale[i], arena);
                for (int j = 0; j < d; j++) a[j * d + j] += o.lambda();
                try {
                    factors[i] = Cholesky.factor(a, d);
                } catch (Cholesky.NotPositiveDefiniteException e) {
                    throw singular(ids.get(i), nTrain, d, o.lambda(), e);
                }
                compatScale[i] = Double.NaN;
                if (o.trakCompat()) {
                    double sum = 0;
                    for (double v : factors[i].inverse()) sum += Math.abs(v);
                    compatScale[i] = sum / ((double) d * d);
                }
            }

            int tileR = (int) Math.max(1, Math.min(o.tileRows(), nTest));
            int tileC = (int) Math.max(1, Math.min(o.tileCols(), nTrain));
            MemorySegment solved = arena.allocate((long) c * tileR * d * Double.BYTES, 64);   // T_m = φ_m A_m⁻¹ (/ s_m)
            MemorySegment trainBlock = arena.allocate((long) tileC * d * Double.BYTES, 64);
            MemorySegment out = arena.allocate((long) tileR * tileC * Double.BYTES, 64);
            double[] row = new double[tileR * d];
            float[] tile = new float[tileR * tileC];
            for (long r0 = 0; r0 < nTest; r0 += tileR) {
                int tr = (int) Math.min(tileR, nTest - r0);
                for (int i = 0; i < c; i++) {
                    readRows(test.get(i), r0, tr, d, scale[i], row);
                    factors[i].solveRows(row, tr);
                    double w = o.trakCompat() ? 1 / compatScale[i] : 1;
                    long base = (long) i * tileR * d;
                    for (int x = 0; x < tr * d; x++) solved.setAtIndex(ValueLayout.JAVA_DOUBLE, base + x, row[x] * w);
                }
                for (long c0 = 0; c0 < nTrain; c0 += tileC) {
                    int tc = (int) Math.min(tileC, nTrain - c0);
                    for (int i = 0; i < c; i++) {
                        copyRows(train.get(i), c0, tc, d, scale[i], trainBlock);
                        MemorySegment t = solved.asSlice((long) i * tileR * d * Double.BYTES, (long) tr * d * Double.BYTES);
                        Blas.dgemm(false, true, tr, tc, d, 1.0, t, d, trainBlock, d, i == 0 ? 0.0 : 1.0, out, tc);
                    }
                    for (int x = 0; x < tr; x++) {
                        for (int y = 0; y < tc; y++) {
                            double v = out.getAtIndex(ValueLayout.JAVA_DOUBLE, (long) x * tc + y) / c * q[(int) (c0 + y)];
                            if (!Double.isFinite(v)) {
                                throw new ArithmeticException("non-finite score at test " + (r0 + x) + ", train " + (c0 + y)
                                        + ": the features hold NaN/Inf or the system is too ill-conditioned (raise --lambda)");
                            }
                            tile[x * tc + y] = (float) v;
                        }
                    }
                    sink.accept(r0, c0, tr, tc, tile);
                }
            }
            return new Result(nTest, nTrain, d, ids, compatScale, (System.nanoTime() - start) / 1e9);
        } finally {
            for (StoredMatrix s : train) s.close();
            for (StoredMatrix s : test) s.close();
        }
    }

    /** The whole [test x train] score matrix in memory (small problems, e.g. LDS). */
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

    /** Streams the scores into a float32 [test x train] {@code .npy}: written to {@code out.tmp}, then renamed over out. */
    public static Result writeNpy(FeatureStore store, Options o, Path out) {
        Manifest m = store.reload();
        long nTest = m.spec().split(o.testSplit()).rows();
        long nTrain = m.spec().split(o.trainSplit()).rows();
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        Result result;
        try {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] header = Npy.header(Npy.Dtype.FLOAT32, nTest, nTrain);
                channel.write(ByteBuffer.wrap(header), 0);
                long dataOffset = header.length;
                ByteBuffer line = ByteBuffer.allocate(o.tileCols() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                result = score(store, o, (r0, c0, tr, tc, tile) -> {
                    for (int i = 0; i < tr; i++) {
                        line.clear();
                        line.asFloatBuffer().put(tile, i * tc, tc);
                        line.limit(tc * Float.BYTES);
                        long position = dataOffset + ((r0 + i) * nTrain + c0) * Float.BYTES;
                        try {
                            while (line.hasRemaining()) position += channel.write(line, position);
                        } catch (IOException e) {
                            throw new UncheckedIOException("writing " + tmp + ": " + e.getMessage(), e);
                        }
                    }
                });
                channel.force(true);
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + out + ": " + e.getMessage(), e);
        }
        return result;
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

    /** XᵀX of the first d columns of x (times scale²), accumulated in float64 over row blocks. */
    static double[] gram(StoredMatrix x, int d, double scale, Arena arena) {
        int block = (int) Math.max(1, Math.min(GRAM_BLOCK, x.rows()));
        MemorySegment rows = arena.allocate((long) block * d * Double.BYTES, 64);
        MemorySegment acc = arena.allocate((long) d * d * Double.BYTES, 64);
        for (long r0 = 0; r0 < x.rows(); r0 += block) {
            int n = (int) Math.min(block, x.rows() - r0);
            copyRows(x, r0, n, d, 1.0, rows);
            Blas.dgemm(true, false, d, d, n, 1.0, rows, d, rows, d, r0 == 0 ? 0.0 : 1.0, acc, d);
        }
        double[] a = acc.toArray(ValueLayout.JAVA_DOUBLE);
        double s2 = scale * scale;
        for (int i = 0; i < a.length; i++) {
            a[i] *= s2;
            if (!Double.isFinite(a[i])) throw new ArithmeticException("non-finite XᵀX entry: the features of " + x.file() + " hold NaN/Inf");
        }
        return a;
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
