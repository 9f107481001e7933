package org.projntk.featurize;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import org.projntk.GemmPrecision;
import org.projntk.project.ProjectorKind;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.OutputKind;

/**
 * One featurize job, checked: a model checkpoint, named dataset splits, the kernel and the projection. Build it with
 * {@link Featurize}; it is immutable and may be shared between threads.
 */
public final class FeaturizeConfig {
    private final String model;
    private final long modelSeed;
    private final String checkpoint;
    private final Map<String, String> splits;
    private final String kernel;
    private final ProjectorKind projector;
    private final int dim;
    private final long seed;
    private final long modelId;
    private final int sjltS;
    private final boolean unscaled;
    private final String dtype;
    private final Device device;
    private final GemmPrecision precision;
    private final int gpu;
    private final int batchSize;
    private final GradStrategy strategy;
    private final String params;
    private final int shardIndex;
    private final int shardCount;
    private final String normalization;
    private final long maxBlockBytes;
    private final Path out;

    /** In strict float32 on GPU 0 (or the CPU). */
    FeaturizeConfig(String model, long modelSeed, String checkpoint, Map<String, String> splits, String kernel, ProjectorKind projector, int dim, long seed, long modelId, int sjltS, boolean unscaled, String dtype, Device device, int batchSize, GradStrategy strategy, String params, int shardIndex, int shardCount, String normalization, long maxBlockBytes, Path out) {
        this(model, modelSeed, checkpoint, splits, kernel, projector, dim, seed, modelId, sjltS, unscaled, dtype, device, batchSize,
                strategy, params, shardIndex, shardCount, normalization, maxBlockBytes, out, GemmPrecision.FP32, 0);
    }

    FeaturizeConfig(String model, long modelSeed, String checkpoint, Map<String, String> splits, String kernel, ProjectorKind projector, int dim, long seed, long modelId, int sjltS, boolean unscaled, String dtype, Device device, int batchSize, GradStrategy strategy, String params, int shardIndex, int shardCount, String normalization, long maxBlockBytes, Path out,
                    GemmPrecision precision, int gpu) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(projector, "projector");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(precision, "precision");
        device.checkGpu(gpu);
        Objects.requireNonNull(strategy, "strategy");
        Objects.requireNonNull(out, "out (the store folder)");
        if (splits.isEmpty()) throw new IllegalArgumentException("give at least one split (train)");
        splits = Collections.unmodifiableMap(new LinkedHashMap<>(splits));
        kernel = kernel.toLowerCase(Locale.ROOT);
        if (outputKind(kernel) == null) throw new IllegalArgumentException("unknown kernel '" + kernel + "' (pntk, trntk, entk or margin)");
        if (!dtype.equals("float32") && !dtype.equals("float16")) throw new IllegalArgumentException("unknown store dtype '" + dtype + "' (float32 or float16)");
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount) {
            throw new IllegalArgumentException("bad shard " + shardIndex + "/" + shardCount + " (expected i/n with 0 <= i < n)");
        }
        if (projector == ProjectorKind.CURAND) {
            throw new IllegalArgumentException("the curand projector is a GPU benchmark baseline; featurize with rademacher, normal, sjlt or none");
        }
        this.model = model;
        this.modelSeed = modelSeed;
        this.checkpoint = checkpoint;
        this.splits = splits;
        this.kernel = kernel;
        this.projector = projector;
        this.dim = dim;
        this.seed = seed;
        this.modelId = modelId;
        this.sjltS = sjltS;
        this.unscaled = unscaled;
        this.dtype = dtype;
        this.device = device;
        this.precision = precision;
        this.gpu = gpu;
        this.batchSize = batchSize;
        this.strategy = strategy;
        this.params = params;
        this.shardIndex = shardIndex;
        this.shardCount = shardCount;
        this.normalization = normalization;
        this.maxBlockBytes = maxBlockBytes;
        this.out = out;
    }

    /** The model: a TorchScript file or builtin:NAME. */
    public String model() {
        return model;
    }

    /** The initialisation seed of a built-in model. */
    public long modelSeed() {
        return modelSeed;
    }

    /** The checkpoint id in the store. */
    public String checkpoint() {
        return checkpoint;
    }

    /** Split name to dataset spec text, in order (a copy). */
    public Map<String, String> splits() {
        return splits;
    }

    /** The kernel name: pntk, trntk, entk or margin. */
    public String kernel() {
        return kernel;
    }

    /** The projection matrix kind. */
    public ProjectorKind projector() {
        return projector;
    }

    /** The projected dimension K. */
    public int dim() {
        return dim;
    }

    /** The projection seed. */
    public long seed() {
        return seed;
    }

    /** The model id mixed into the projection seed. */
    public long modelId() {
        return modelId;
    }

    /** Non-zeros per SJLT column. */
    public int sjltS() {
        return sjltS;
    }

    /** Whether the 1/sqrt(K) scaling is left out (TRAK). */
    public boolean unscaled() {
        return unscaled;
    }

    /** The stored element type: float32 or float16. */
    public String dtype() {
        return dtype;
    }

    /** Where gradients are computed. */
    public Device device() {
        return device;
    }

    /** Examples per batch. */
    public int batchSize() {
        return batchSize;
    }

    /** How per-example gradients are computed. */
    public GradStrategy strategy() {
        return strategy;
    }

    /** Parameter-name prefixes to differentiate (comma-separated); null for all. */
    public String params() {
        return params;
    }

    /** This process's shard, 0-based. */
    public int shardIndex() {
        return shardIndex;
    }

    /** The number of shards. */
    public int shardCount() {
        return shardCount;
    }

    /** The input normalisation spec; null for the default. */
    public String normalization() {
        return normalization;
    }

    /** Bound on gradient bytes alive at once; 0 for the default. */
    public long maxBlockBytes() {
        return maxBlockBytes;
    }

    /** The feature store folder. */
    public Path out() {
        return out;
    }

    /** The network output whose per-example gradient a kernel kind needs. */
    /** The projection's arithmetic on CUDA (FP32: strict float32; TF32: tensor cores). */
    public GemmPrecision precision() {
        return precision;
    }

    /** The CUDA device's ordinal (0 with the CPU). */
    public int gpu() {
        return gpu;
    }

    /** The arithmetic the projection actually uses: the requested precision on CUDA, float32 on the CPU. */
    public GemmPrecision effectivePrecision() {
        return device == Device.CUDA ? precision : GemmPrecision.FP32;
    }

    public static OutputKind outputKind(String kernel) {
        return switch (kernel) {
            case "pntk" -> OutputKind.PNTK;
            case "trntk", "entk" -> OutputKind.PER_CLASS;
            case "margin" -> OutputKind.MARGIN;
            default -> null;
        };
    }

    @Override
    public String toString() {
        return "FeaturizeConfig[model=" + model + ", checkpoint=" + checkpoint + ", splits=" + splits + ", kernel=" + kernel
                + ", projector=" + projector.cliName() + " K=" + dim + " seed=" + seed + ", out=" + out + "]";
    }
}
