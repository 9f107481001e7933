package org.projntk.workflow;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import org.projntk.GemmPrecision;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.GpuGram;
import org.projntk.kernel.Gram;
import org.projntk.kernel.GramFiles;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.TileSink;
import org.projntk.torch.Device;

/**
 * Builds and runs a Gram (kernel) job between two splits of a store, from {@link Store#gram()}:
 *
 * <pre>{@code
 * KernelMatrix k = store.gram().rows("test").cols("train").normalization(KernelNormalization.COSINE).compute();
 * GramFiles.Written w = store.gram().normalization(KernelNormalization.STD).write(Path.of("k.npy"));
 * }</pre>
 *
 * Defaults: rows and columns from "train", the store's kernel ({@link Store#kernel()}), no normalisation, tiles of
 * {@link Gram#DEFAULT_TILE} x {@link Gram#DEFAULT_TILE}, on the CPU. The settings are checked when the job runs, with
 * an {@link IllegalArgumentException} naming the field. A builder is not thread-safe; the job it runs is.
 */
public final class GramJob {
    private final Store store;
    private final Gram.Options.Builder options;
    private String rows = "train";
    private String cols = "train";
    private Device device = Device.CPU;
    private GemmPrecision precision = GemmPrecision.FP32;
    private int gpu;

    GramJob(Store store) {
        this.store = store;
        this.options = Gram.Options.builder().kernel(store.kernel()).normalization(KernelNormalization.NONE);
    }

    /**
     * The split of the kernel's rows (default "train").
     *
     * @param split the new setting
     * @return this builder
     */
    public GramJob rows(String split) {
        this.rows = split;
        return this;
    }

    /**
     * The split of the kernel's columns (default "train").
     *
     * @param split the new setting
     * @return this builder
     */
    public GramJob cols(String split) {
        this.cols = split;
        return this;
    }

    /**
     * How the per-class features are combined (default: the kernel the store was featurized for; an eNTK store gives
     * an N·C x M·C matrix, or its trace kernel with {@link KernelKind#TRNTK}).
     *
     * @param value the kernel
     * @return this job
     */
    public GramJob kernel(KernelKind value) {
        options.kernel(value);
        return this;
    }

    /**
     * The normalisation (default {@link KernelNormalization#NONE}).
     *
     * @param value the new setting
     * @return this builder
     */
    public GramJob normalization(KernelNormalization value) {
        options.normalization(value);
        return this;
    }

    /**
     * Kernel rows and columns per tile (default {@link Gram#DEFAULT_TILE} each); both at least 1.
     *
     * @param tileRows the new setting
     * @param tileCols the new setting
     * @return this builder
     */
    public GramJob tiles(int tileRows, int tileCols) {
        options.tiles(tileRows, tileCols);
        return this;
    }

    /**
     * With {@link KernelNormalization#STD}: divide by this fixed positive value (default: the kernel's own std).
     *
     * @param value the new setting
     * @return this builder
     */
    public GramJob stdScale(double value) {
        options.stdScale(value);
        return this;
    }

    /**
     * Where the tiles are computed (default {@link Device#CPU}).
     *
     * @param value the new setting
     * @return this builder
     */
    public GramJob device(Device value) {
        this.device = value;
        return this;
    }

    /**
     * With {@link Device#CUDA}: the GEMM arithmetic (default {@link GemmPrecision#FP32}); the CPU always computes in float32.
     *
     * @param value the new setting
     * @return this builder
     */
    public GramJob precision(GemmPrecision value) {
        this.precision = value;
        return this;
    }

    /**
     * With {@link Device#CUDA}: the GPU's ordinal (default 0).
     *
     * @param ordinal the new setting
     * @return this builder
     */
    public GramJob gpu(int ordinal) {
        this.gpu = ordinal;
        return this;
    }

    /** {@return the options this job computes with} */
    public Gram.Options options() {
        return options.build();
    }

    /** {@return the whole kernel in memory (rows x cols; eNTK: rows·C x cols·C)} */
    public KernelMatrix compute() {
        Gram.Options opt = checked();
        List<FeatureMatrix> a = store.features(rows);
        List<FeatureMatrix> b = store.features(cols);
        if (device == Device.CUDA) {
            try (GpuGram g = new GpuGram(precision, gpu)) {
                return g.computeMatrix(a, b, opt);
            }
        }
        return Gram.computeMatrix(a, b, opt);
    }

    /**
     * Streams the kernel to {@code sink}, tile by tile in row-major order of tiles, never holding all of it.
     *
     * @param sink see above
     * @return the result
     */
    public Gram.Result stream(TileSink sink) {
        Objects.requireNonNull(sink, "sink");
        Gram.Options opt = checked();
        List<FeatureMatrix> a = store.features(rows);
        List<FeatureMatrix> b = store.features(cols);
        if (device == Device.CUDA) {
            try (GpuGram g = new GpuGram(precision, gpu)) {
                return g.compute(a, b, opt, sink);
            }
        }
        return Gram.compute(a, b, opt, sink);
    }

    /**
     * Streams the kernel into a float32 {@code .npy} at {@code out}, written as {@code out.tmp} and renamed when
     * complete (see {@link GramFiles}).
     *
     * @param out the {@code .npy} file
     * @return what was written
     */
    public GramFiles.Written write(Path out) {
        Objects.requireNonNull(out, "out");
        long start = System.nanoTime();
        Gram.Options opt = checked();
        List<FeatureMatrix> a = store.features(rows);
        List<FeatureMatrix> b = store.features(cols);
        Gram.Result result;
        if (device == Device.CUDA) {
            try (GpuGram g = new GpuGram(precision, gpu)) {
                result = GramFiles.write(a, b, opt, g, out);
            }
        } else {
            result = GramFiles.write(a, b, opt, out);
        }
        return new GramFiles.Written(out, opt.kernel(), store.checkpoint(), rows, cols, opt.normalization(), result,
                (System.nanoTime() - start) / 1e9);
    }

    private Gram.Options checked() {
        if (rows == null || rows.isEmpty()) throw new IllegalArgumentException("rows must name a split, got " + rows);
        if (cols == null || cols.isEmpty()) throw new IllegalArgumentException("cols must name a split, got " + cols);
        if (device == null) throw new IllegalArgumentException("device must be set, got null");
        if (precision == null) throw new IllegalArgumentException("precision must be set, got null");
        device.checkGpu(gpu);
        return options.build();
    }
}
