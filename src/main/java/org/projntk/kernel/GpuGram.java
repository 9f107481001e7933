package org.projntk.kernel;

import org.projntk.GemmPrecision;
import org.projntk.internal.Buffers;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Objects;

import org.projntk.internal.Cublas;
import org.projntk.internal.Cuda;

/**
 * {@link Gram} on a CUDA device: the same operands, options, tile order and results, with each raw tile computed by
 * one cuBLAS GEMM (FP32, or TF32 on tensor cores). Row-major host tiles in, row-major host tiles out.
 *
 * <p>Every kind is one GEMM per tile, thanks to one packing of the class matrices: row i of a block is
 * [A_0[i], A_1[i], ..., A_{C-1}[i]] (C·d floats). Read as an [n x C·d] matrix, (block)·(block')ᵀ is
 * Σ_c A_c B_cᵀ (trNTK, and pNTK with C = 1). Read as an [n·C x d] matrix (row i·C+c = A_c[i]), the same bytes give
 * the eNTK block layout directly: entry (i·C+c, j·C+c') = A_c[i]·B_c'[j].
 *
 * <p>Holds a cuBLAS handle plus device and host tile buffers that grow to the largest tile seen. Calls serialise on
 * the instance, so it may be shared between threads. {@link #close()} frees the handle and buffers and is idempotent;
 * nothing frees them for an instance that is dropped without it, so use try-with-resources.
 */
public final class GpuGram implements AutoCloseable {
    private final GemmPrecision precision;
    private final Cublas.Precision gemmPrecision;
    private final int gpu;
    private final Cublas blas;
    private Cuda.DeviceBuffer aDev;
    private Cuda.DeviceBuffer bDev;
    private Cuda.DeviceBuffer cDev;
    private Arena hostArena;
    private MemorySegment aHost;
    private MemorySegment bHost;
    private MemorySegment cHost;
    private boolean closed;

    /**
     * On GPU 0.
     *
     * @param precision FP32 or TF32 GEMMs
     * @throws org.projntk.ProjntkException UNSUPPORTED when CUDA is unavailable, INVALID_ARGUMENT when there is no GPU 0
     */
    public GpuGram(GemmPrecision precision) {
        this(precision, 0);
    }

    /**
     * On one GPU; every call makes that GPU current on the calling thread first.
     *
     * @param precision FP32 or TF32 GEMMs
     * @param gpu       the GPU's CUDA ordinal, from 0
     * @throws org.projntk.ProjntkException UNSUPPORTED when CUDA is unavailable, INVALID_ARGUMENT naming the ordinal when
     *                                      this machine has no such GPU
     */
    public GpuGram(GemmPrecision precision, int gpu) {
        this.precision = Objects.requireNonNull(precision, "precision");
        this.gemmPrecision = Cublas.Precision.of(precision);
        this.gpu = gpu;
        Cuda.useDevice(gpu);
        this.blas = new Cublas();
    }

    /** {@return the GEMM precision} */
    public GemmPrecision precision() {
        return precision;
    }

    /** {@return the GPU's CUDA ordinal} */
    public int gpu() {
        return gpu;
    }

    /**
     * Host row-major C[m x n] = A[m x d] · B[n x d]ᵀ: one GEMM on the device, with copies in and out.
     *
     * @param a A, float32 row-major [m x d], host memory
     * @param m rows of A and C, at least 0
     * @param b B, float32 row-major [n x d], host memory
     * @param n rows of B and columns of C, at least 0
     * @param d the shared inner dimension, at least 1
     * @param c C, float32 row-major [m x n], overwritten
     * @throws IllegalArgumentException for a bad shape or a segment too small for it
     * @throws IllegalStateException    after {@link #close()}
     */
    public synchronized void product(MemorySegment a, int m, MemorySegment b, int n, int d, MemorySegment c) {
        ensureOpen();
        if (m < 0 || n < 0 || d < 1) throw new IllegalArgumentException("bad product shape " + m + " x " + n + " x " + d);
        Buffers.requireFloats(a, (long) m * d, "A");
        Buffers.requireFloats(b, (long) n * d, "B");
        Buffers.requireFloats(c, (long) m * n, "C");
        if (m == 0 || n == 0) return;
        Cuda.useDevice(gpu);
        ensureDevice((long) m * d, (long) n * d, (long) m * n);
        aDev.copyFromHost(a.asSlice(0, (long) m * d * Float.BYTES), 0);
        bDev.copyFromHost(b.asSlice(0, (long) n * d * Float.BYTES), 0);
        blas.gemm(false, true, m, n, d, 1f, aDev, 0, d, bDev, 0, d, 0f, cDev, 0, n, gemmPrecision);
        cDev.copyToHost(0, c.asSlice(0, (long) m * n * Float.BYTES));
    }

    /**
     * As {@link Gram#compute}, with the raw tiles from the GPU; normalisation and checks are the same. Tiles reach the
     * sink in a host buffer reused for the next tile.
     *
     * @param rowsOp the row operand
     * @param colsOp the column operand
     * @param opt    the kernel, normalisation and tile size
     * @param sink   receives every tile once, on the calling thread
     * @return the shape and scale
     * @throws IllegalArgumentException as {@link Gram#compute} does, or when classes x dim exceeds a GEMM dimension
     * @throws IllegalStateException    after {@link #close()}
     */
    public synchronized Gram.Result compute(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Gram.Options opt, TileSink sink) {
        ensureOpen();
        Objects.requireNonNull(opt, "options");
        Cuda.useDevice(gpu);
        return Gram.normalized(rowsOp, colsOp, opt, validate(rowsOp, colsOp, opt.kernel()), this::run, sink);
    }

    /**
     * As {@link Gram#computeMatrix}, on the GPU.
     *
     * @param rowsOp the row operand
     * @param colsOp the column operand
     * @param opt    the kernel, normalisation and tile size
     * @return the kernel, [N x M] or [N*C x M*C] for ENTK
     * @throws IllegalArgumentException as {@link #compute} does, or when the kernel exceeds Integer.MAX_VALUE entries
     * @throws IllegalStateException    after {@link #close()}
     */
    public KernelMatrix computeMatrix(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Gram.Options opt) {
        Gram.Shape s = validate(rowsOp, colsOp, opt.kernel());
        long per = opt.kernel() == KernelKind.ENTK ? s.classes() : 1;
        long r = s.rows() * per;
        long c = s.cols() * per;
        if (r > Integer.MAX_VALUE || c > Integer.MAX_VALUE || r * c > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("kernel of " + r + " x " + c + " is too large to hold in memory; stream it");
        }
        KernelMatrix out = KernelMatrix.allocate((int) r, (int) c);
        compute(rowsOp, colsOp, opt, Gram.copyInto(out));
        return out;
    }

    /** Gram's checks, plus the packed [rows x C·dim] operand fitting one GEMM dimension. */
    private static Gram.Shape validate(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, KernelKind kind) {
        Gram.Shape s = Gram.validate(rowsOp, colsOp, kind);
        if ((long) s.dim() * s.classes() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("classes x dim = " + (long) s.dim() * s.classes() + " exceeds a GEMM dimension");
        }
        return s;
    }

    /** Raw tiles in output coordinates, in row-major tile order; rejects non-finite values like Gram. */
    private void run(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Gram.Options opt, Gram.Shape s, TileSink sink) {
        int classes = s.classes();
        boolean entk = opt.kernel() == KernelKind.ENTK;
        int per = entk ? classes : 1;
        int d = s.dim();
        int packed = classes * d;
        int tileR = (int) Math.min(opt.tileRows(), Math.max(1, s.rows()));
        int tileC = (int) Math.min(opt.tileCols(), Math.max(1, s.cols()));
        if ((long) tileR * per > Integer.MAX_VALUE || (long) tileC * per > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tile of " + tileR + " x " + tileC + " examples with " + classes + " classes is too large");
        }
        ensureDevice((long) tileR * packed, (long) tileC * packed, (long) tileR * per * tileC * per);
        for (long r0 = 0; r0 < s.rows(); r0 += tileR) {
            int tr = (int) Math.min(tileR, s.rows() - r0);
            pack(rowsOp, r0, tr, d, aHost);
            aDev.copyFromHost(aHost.asSlice(0, (long) tr * packed * Float.BYTES), 0);
            for (long c0 = 0; c0 < s.cols(); c0 += tileC) {
                int tc = (int) Math.min(tileC, s.cols() - c0);
                pack(colsOp, c0, tc, d, bHost);
                bDev.copyFromHost(bHost.asSlice(0, (long) tc * packed * Float.BYTES), 0);
                int outR = tr * per;
                int outC = tc * per;
                int inner = entk ? d : packed;
                blas.gemm(false, true, outR, outC, inner, 1f, aDev, 0, inner, bDev, 0, inner, 0f, cDev, 0, outC, gemmPrecision);
                MemorySegment tile = cHost.asSlice(0, (long) outR * outC * Float.BYTES);
                cDev.copyToHost(0, tile);
                Gram.checkFinite(tile, outR, outC, r0 * per, c0 * per);
                sink.accept(r0 * per, c0 * per, outR, outC, tile);
            }
        }
    }

    /** Row i of the block gets [M_0[start+i], ..., M_{C-1}[start+i]]. */
    private static void pack(List<FeatureMatrix> op, long start, int count, int d, MemorySegment dst) {
        int classes = op.size();
        long rowBytes = (long) d * Float.BYTES;
        for (int c = 0; c < classes; c++) {
            MemorySegment src = op.get(c).rows(start, count);
            if (classes == 1) {
                MemorySegment.copy(src, 0, dst, 0, count * rowBytes);
                return;
            }
            for (int i = 0; i < count; i++) {
                MemorySegment.copy(src, i * rowBytes, dst, ((long) i * classes + c) * rowBytes, rowBytes);
            }
        }
    }

    private void ensureDevice(long aFloats, long bFloats, long cFloats) {
        aDev = Cuda.growFloats(aDev, aFloats);
        bDev = Cuda.growFloats(bDev, bFloats);
        cDev = Cuda.growFloats(cDev, cFloats);
        long hostBytes = (aFloats + bFloats + cFloats) * Float.BYTES;
        if (hostArena == null || aHost.byteSize() < aFloats * Float.BYTES || bHost.byteSize() < bFloats * Float.BYTES
                || cHost.byteSize() < cFloats * Float.BYTES) {
            if (hostArena != null) hostArena.close();
            hostArena = null;
            Arena arena = Arena.ofShared();
            MemorySegment all = arena.allocate(Math.max(Float.BYTES, hostBytes), 64);
            aHost = all.asSlice(0, aFloats * Float.BYTES);
            bHost = all.asSlice(aFloats * Float.BYTES, bFloats * Float.BYTES);
            cHost = all.asSlice((aFloats + bFloats) * Float.BYTES, cFloats * Float.BYTES);
            hostArena = arena;
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("GpuGram is closed");
    }

    /** Frees the cuBLAS handle and the device and host buffers; later calls throw IllegalStateException. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        Buffers.closeAll(aDev, bDev, cDev, blas, hostArena);
    }
}
