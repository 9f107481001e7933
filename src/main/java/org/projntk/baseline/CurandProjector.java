package org.projntk.baseline;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

import org.projntk.GemmPrecision;
import org.projntk.internal.Buffers;
import org.projntk.internal.Cublas;
import org.projntk.internal.Cuda;
import org.projntk.internal.Curand;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;

/**
 * The cuRAND + cuBLAS dense Gaussian projector: a speed baseline on CUDA, <b>not</b> the projection contract.
 *
 * <p>Its R is NOT the Philox R[p,k] of {@link Projector} (docs/projection.md): it is cuRAND's Philox4x32-10 normal
 * stream, cut into tiles of T rows. Tile j (rows [jT, jT+t), t = min(T, P-jT)) is the row-major [t x K] matrix that
 * {@code curandGenerateNormal(n = t·K rounded up to even, mean 0, stddev 1/√K or 1)} writes after
 * {@code curandSetGeneratorOffset(j · (T·K rounded up to even))}. So R depends on (seed, P, K, T, unscaled) and on
 * cuRAND's own algorithm, and it is the same for every batch, batch size and call order, but it is not
 * reproducible on the CPU, or by another library, and it changes if T does.
 *
 * <p>The GEMM, per tile: out[B x K] (+)= x[:, tile] · R_tile, all row-major. cuBLAS is column-major, and a row-major
 * [r x c] matrix with leading dimension ld is the column-major [c x r] matrix (its transpose) with the same ld. So:
 * <ul>
 *   <li>row-major out [B x K], ld K = column-major outᵀ [K x B], ldc = K;</li>
 *   <li>row-major R_tile [t x K], ld K = column-major R_tileᵀ [K x t], lda = K;</li>
 *   <li>row-major x_tile [B x t] with ld L (L = t when packed, P when x is whole on the device) = column-major
 *       x_tileᵀ [t x B], ldb = L;</li>
 *   <li>outᵀ = (x_tile · R_tile)ᵀ = R_tileᵀ · x_tileᵀ, i.e.
 *       {@code cublasSgemm(N, N, m = K, n = B, k = t, 1, R_tile, K, x_tile, L, beta, out, K)} with beta 0 on the first
 *       tile and 1 after it.</li>
 * </ul>
 * {@link Cublas#gemm} performs exactly this translation from its row-major arguments (see Cublas.ColumnMajorGemm).
 *
 * <p>Not thread-safe beyond the method-level lock; close() frees device memory and is idempotent.
 */
public final class CurandProjector implements AutoCloseable {
    public static final int DEFAULT_TILE_ROWS = 1 << 16;
    /** At most 512 MiB of R per tile: T shrinks for large K. */
    static final long MAX_TILE_FLOATS = 1L << 27;
    /** At most 256 MiB of x per uploaded block: the batch is split for large B·T. */
    static final long MAX_X_FLOATS = 1L << 26;

    private final long P;
    private final int K;
    private final long seed;
    private final boolean unscaled;
    private final GemmPrecision precision;
    private final int tileRows;
    private final long tiles;
    private final long tileStride;

    private final Curand rng;
    private final Cublas blas;
    private final Cuda.DeviceBuffer rTile;
    private Cuda.DeviceBuffer xBlock;
    private Cuda.DeviceBuffer outBlock;
    private Arena hostArena;
    private MemorySegment hostStaging;
    private boolean closed;

    /**
     * @param tileRows rows of R generated at a time (T); capped by P and by {@link #MAX_TILE_FLOATS}/K
     */
    public CurandProjector(long P, int K, long seed, boolean unscaled, GemmPrecision precision, int tileRows) {
        if (P < 1) throw new IllegalArgumentException("P must be >= 1, got " + P);
        if (K < 1) throw new IllegalArgumentException("K must be >= 1, got " + K);
        if (tileRows < 1) throw new IllegalArgumentException("tileRows must be >= 1, got " + tileRows);
        this.P = P;
        this.K = K;
        this.seed = seed;
        this.unscaled = unscaled;
        this.precision = Objects.requireNonNull(precision, "precision");
        this.tileRows = (int) Math.min(Math.min(tileRows, P), Math.max(1, MAX_TILE_FLOATS / K));
        this.tiles = (P + this.tileRows - 1) / this.tileRows;
        this.tileStride = even((long) this.tileRows * K);
        Cuda.require();
        Curand r = null;
        Cublas b = null;
        try {
            r = new Curand(seed);
            b = new Cublas();
            this.rTile = Cuda.allocateFloats(tileStride);
        } catch (RuntimeException e) {
            if (b != null) b.close();
            if (r != null) r.close();
            throw e;
        }
        this.rng = r;
        this.blas = b;
    }

    /** From a spec of kind CURAND: fp32Strict selects FP32 GEMMs, otherwise TF32; the default tile height. */
    public CurandProjector(ProjectorSpec spec) {
        this(checkKind(spec).P(), spec.K(), spec.seed(), spec.unscaled(),
                spec.fp32Strict() ? GemmPrecision.FP32 : GemmPrecision.TF32, DEFAULT_TILE_ROWS);
    }

    private static ProjectorSpec checkKind(ProjectorSpec spec) {
        Objects.requireNonNull(spec, "spec");
        if (spec.kind() != ProjectorKind.CURAND) {
            throw new IllegalArgumentException("CurandProjector needs a curand spec, got " + spec.kind().cliName()
                    + " (use Projector for the native projectors)");
        }
        return spec;
    }

    public long P() {
        return P;
    }

    public int K() {
        return K;
    }

    public long seed() {
        return seed;
    }

    public GemmPrecision precision() {
        return precision;
    }

    /** T, the rows of R per tile. */
    public int tileRows() {
        return tileRows;
    }

    public long tileCount() {
        return tiles;
    }

    /** Rows of R in tile j (T, or fewer for the last tile). */
    public int rowsOfTile(long j) {
        if (j < 0 || j >= tiles) throw new IndexOutOfBoundsException("tile " + j + " outside [0, " + tiles + ")");
        return (int) Math.min(tileRows, P - j * tileRows);
    }

    /** out[B x K] = x[B x P] · R, with x and out row-major float32 host segments. */
    public synchronized void project(MemorySegment x, int batch, MemorySegment out) {
        ensureOpen();
        if (batch < 0) throw new IllegalArgumentException("negative batch " + batch);
        Buffers.requireFloats(x, (long) batch * P, "x");
        Buffers.requireFloats(out, (long) batch * K, "out");
        if (batch == 0) return;
        int chunk = (int) Math.max(1, Math.min(batch, MAX_X_FLOATS / Math.max(tileRows, K)));
        ensureBlocks(chunk);
        for (int b0 = 0; b0 < batch; b0 += chunk) {
            int bc = Math.min(chunk, batch - b0);
            for (long j = 0; j < tiles; j++) {
                int t = rowsOfTile(j);
                long p0 = j * tileRows;
                generateTile(j);
                if (tiles == 1) {
                    // whole rows: the block of x is contiguous
                    xBlock.copyFromHost(x.asSlice((long) b0 * P * Float.BYTES, (long) bc * P * Float.BYTES), 0);
                } else {
                    for (int i = 0; i < bc; i++) {
                        MemorySegment.copy(x, ((long) (b0 + i) * P + p0) * Float.BYTES,
                                hostStaging, (long) i * t * Float.BYTES, (long) t * Float.BYTES);
                    }
                    xBlock.copyFromHost(hostStaging.asSlice(0, (long) bc * t * Float.BYTES), 0);
                }
                blas.gemm(false, false, bc, K, t, 1f, xBlock, 0, t, rTile, 0, K, j == 0 ? 0f : 1f, outBlock, 0, K, Cublas.Precision.of(precision));
            }
            outBlock.copyToHost(0, out.asSlice((long) b0 * K * Float.BYTES, (long) bc * K * Float.BYTES));
        }
    }

    /**
     * out[B x K] = x[B x P] · R with x and out already on the device (no transfers; for benchmarks). Needs
     * {@code P <= Integer.MAX_VALUE} (x's leading dimension). Asynchronous: call {@link Cuda#synchronize()} before timing.
     */
    public synchronized void projectOnDevice(Cuda.DeviceBuffer x, int batch, Cuda.DeviceBuffer out) {
        ensureOpen();
        if (batch < 0) throw new IllegalArgumentException("negative batch " + batch);
        if (P > Integer.MAX_VALUE) throw new IllegalArgumentException("projectOnDevice needs P <= " + Integer.MAX_VALUE + ", got " + P);
        if (batch == 0) return;
        for (long j = 0; j < tiles; j++) {
            int t = rowsOfTile(j);
            generateTile(j);
            blas.gemm(false, false, batch, K, t, 1f, x, j * tileRows, (int) P, rTile, 0, K, j == 0 ? 0f : 1f, out, 0, K, Cublas.Precision.of(precision));
        }
    }

    /** Copies tile j of R (scaled as used) into dst as a row-major [rowsOfTile(j) x K] float32 host matrix. */
    public synchronized void copyTile(long j, MemorySegment dst) {
        ensureOpen();
        int t = rowsOfTile(j);
        Buffers.requireFloats(dst, (long) t * K, "dst");
        generateTile(j);
        rTile.copyToHost(0, dst.asSlice(0, (long) t * K * Float.BYTES));
    }

    private void generateTile(long j) {
        int t = rowsOfTile(j);
        float stddev = unscaled ? 1f : (float) (1.0 / Math.sqrt(K));
        rng.normal(rTile, 0, even((long) t * K), j * tileStride, 0f, stddev);
    }

    private void ensureBlocks(int chunk) {
        long xFloats = (long) chunk * tileRows;
        long outFloats = (long) chunk * K;
        xBlock = Cuda.growFloats(xBlock, xFloats);
        outBlock = Cuda.growFloats(outBlock, outFloats);
        if (tiles > 1 && (hostStaging == null || hostStaging.byteSize() < xFloats * Float.BYTES)) {
            if (hostArena != null) hostArena.close();
            hostArena = Arena.ofShared();
            hostStaging = hostArena.allocate(xFloats * Float.BYTES, 64);
        }
    }

    private static long even(long n) {
        return (n + 1) & ~1L;
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("CurandProjector is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        Buffers.closeAll(xBlock, outBlock, rTile, blas, rng, hostArena);
    }

    @Override
    public String toString() {
        return "CurandProjector[P=" + P + ", K=" + K + ", seed=" + seed + (unscaled ? ", unscaled" : "") + ", " + precision
                + ", T=" + tileRows + "]";
    }
}
