package org.projntk.kernel;

import org.projntk.GemmPrecision;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

import org.projntk.data.Npy;
import org.projntk.data.StagedFiles;
import org.projntk.store.FeatureStore;
import org.projntk.torch.Device;

/**
 * Kernels streamed tile by tile into a float32 {@code .npy} file ([rows x cols], numpy-readable), so the matrix is
 * never held in memory. The file is written as {@code NAME.tmp} next to the target and renamed over it only when
 * complete: a crash never leaves a truncated kernel under the final name.
 */
public final class GramFiles {
    private GramFiles() {}

    /** What {@link #write(FeatureStore, Request)} computed. */
    public record Written(Path file, KernelKind kind, String checkpoint, String rowsSplit, String colsSplit, KernelNormalization normalization,
                          Gram.Result result, double seconds) {}

    /**
     * A kernel between two splits of a store.
     *
     * @param checkpoint null: the store's first complete checkpoint
     * @param precision  GEMM arithmetic on CUDA; ignored on the CPU, which always computes in float32
     * @param gpu        the CUDA device's ordinal (0 with the CPU)
     */
    public record Request(String checkpoint, String rowsSplit, String colsSplit, KernelNormalization normalization, Device device,
                          GemmPrecision precision, int gpu, Path out) {
        public Request {
            Objects.requireNonNull(rowsSplit, "rowsSplit");
            Objects.requireNonNull(colsSplit, "colsSplit");
            Objects.requireNonNull(normalization, "normalization");
            Objects.requireNonNull(device, "device");
            Objects.requireNonNull(precision, "precision");
            Objects.requireNonNull(out, "out");
            device.checkGpu(gpu);
        }

        /** On GPU 0 (or the CPU). */
        public Request(String checkpoint, String rowsSplit, String colsSplit, KernelNormalization normalization, Device device,
                       GemmPrecision precision, Path out) {
            this(checkpoint, rowsSplit, colsSplit, normalization, device, precision, 0, out);
        }
    }

    /** The kernel of a store's features between two splits, into {@code request.out()}. */
    public static Written write(FeatureStore store, Request request) {
        long start = System.nanoTime();
        String checkpoint = StoreOperands.checkpoint(store, request.checkpoint());
        KernelKind kind = StoreOperands.kind(store);
        List<FeatureMatrix> rows = StoreOperands.operand(store, checkpoint, request.rowsSplit());
        List<FeatureMatrix> cols = StoreOperands.operand(store, checkpoint, request.colsSplit());
        Gram.Options options = Gram.Options.of(kind, request.normalization());
        Gram.Result result;
        if (request.device() == Device.CUDA) {
            try (GpuGram gpu = new GpuGram(request.precision(), request.gpu())) {
                result = write(rows, cols, options, gpu, request.out());
            }
        } else {
            result = write(rows, cols, options, request.out());
        }
        return new Written(request.out(), kind, checkpoint, request.rowsSplit(), request.colsSplit(), request.normalization(), result,
                (System.nanoTime() - start) / 1e9);
    }

    /** {@link Gram#compute} on the CPU into {@code out}. */
    public static Gram.Result write(List<FeatureMatrix> rows, List<FeatureMatrix> cols, Gram.Options options, Path out) {
        return write(rows, cols, options, out, sink -> Gram.compute(rows, cols, options, sink));
    }

    /** {@link GpuGram#compute} into {@code out}. */
    public static Gram.Result write(List<FeatureMatrix> rows, List<FeatureMatrix> cols, Gram.Options options, GpuGram gpu, Path out) {
        Objects.requireNonNull(gpu, "gpu");
        return write(rows, cols, options, out, sink -> gpu.compute(rows, cols, options, sink));
    }

    private static Gram.Result write(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Gram.Options options, Path out,
                                     Function<TileSink, Gram.Result> compute) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(out, "out");
        Gram.Shape s = Gram.validate(rowsOp, colsOp, options.kind());
        long per = options.kind() == KernelKind.ENTK ? s.classes() : 1;
        long n = s.rows() * per;
        long m = s.cols() * per;
        try (StagedFiles staged = new StagedFiles()) {
            Path tmp = staged.stage(out);
            Gram.Result result;
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] header = Npy.header(Npy.Dtype.FLOAT32, n, m);
                channel.write(ByteBuffer.wrap(header), 0);
                long dataOffset = header.length;
                result = compute.apply((rowStart, colStart, tr, tc, tile) -> {
                    for (int r = 0; r < tr; r++) {
                        ByteBuffer line = tile.asSlice((long) r * tc * Float.BYTES, (long) tc * Float.BYTES).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                        long position = dataOffset + ((rowStart + r) * m + colStart) * Float.BYTES;
                        try {
                            while (line.hasRemaining()) position += channel.write(line, position);
                        } catch (IOException e) {
                            throw new UncheckedIOException("writing " + tmp + ": " + e.getMessage(), e);
                        }
                    }
                });
                channel.force(true);
            } catch (IOException e) {
                throw new UncheckedIOException("writing " + tmp + ": " + e.getMessage(), e);
            }
            staged.commit();
            return result;
        }
    }
}
