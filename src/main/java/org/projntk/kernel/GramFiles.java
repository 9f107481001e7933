package org.projntk.kernel;


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

/**
 * Kernels streamed tile by tile into a float32 {@code .npy} file ([rows x cols], numpy-readable), so the matrix is
 * never held in memory. The file is written as {@code NAME.tmp} next to the target and renamed over it only when
 * complete: a crash never leaves a truncated kernel under the final name.
 */
public final class GramFiles {
    private GramFiles() {}

    /**
     * A kernel written from a store's splits (by the workflow's Gram job).
     *
     * @param file          the {@code .npy} written
     * @param kind          how the per-class features were combined
     * @param checkpoint    the checkpoint read
     * @param rowsSplit     the split of the kernel's rows
     * @param colsSplit     the split of the kernel's columns
     * @param normalization the normalisation applied
     * @param result        the shape and scale
     * @param seconds       the time spent
     */
    public record Written(Path file, KernelKind kind, String checkpoint, String rowsSplit, String colsSplit, KernelNormalization normalization,
                          Gram.Result result, double seconds) {}

    /**
     * {@link Gram#compute} on the CPU into a {@code .npy} file, replacing any file of that name only on success.
     *
     * @param rows    the row operand
     * @param cols    the column operand
     * @param options the kernel, normalisation and tile size
     * @param out     the file written; its folder must exist
     * @return the shape and scale
     * @throws IllegalArgumentException as {@link Gram#compute} does
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public static Gram.Result write(List<FeatureMatrix> rows, List<FeatureMatrix> cols, Gram.Options options, Path out) {
        return write(rows, cols, options, out, sink -> Gram.compute(rows, cols, options, sink));
    }

    /**
     * {@link GpuGram#compute} into a {@code .npy} file, replacing any file of that name only on success.
     *
     * @param rows    the row operand
     * @param cols    the column operand
     * @param options the kernel, normalisation and tile size
     * @param gpu     the GPU computing the tiles, still open
     * @param out     the file written; its folder must exist
     * @return the shape and scale
     * @throws IllegalArgumentException as {@link GpuGram#compute} does
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public static Gram.Result write(List<FeatureMatrix> rows, List<FeatureMatrix> cols, Gram.Options options, GpuGram gpu, Path out) {
        Objects.requireNonNull(gpu, "gpu");
        return write(rows, cols, options, out, sink -> gpu.compute(rows, cols, options, sink));
    }

    private static Gram.Result write(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, Gram.Options options, Path out,
                                     Function<TileSink, Gram.Result> compute) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(out, "out");
        Gram.Shape s = Gram.validate(rowsOp, colsOp, options.kernel());
        long per = options.kernel() == KernelKind.ENTK ? s.classes() : 1;
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
