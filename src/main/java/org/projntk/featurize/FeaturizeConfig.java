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

    /** {@return the model: a TorchScript file or builtin:NAME} */
    public String model() {
        return model;
    }

    /** {@return the initialisation seed of a built-in model} */
    public long modelSeed() {
        return modelSeed;
    }

    /** {@return the checkpoint id in the store} */
    public String checkpoint() {
        return checkpoint;
    }

    /** {@return the splits in order, name to dataset spec text (unmodifiable)} */
    public Map<String, String> splits() {
        return splits;
    }

    /** {@return the kernel name: pntk, trntk, entk or margin} */
    public String kernel() {
        return kernel;
    }

    /** {@return the projection matrix kind} */
    public ProjectorKind projector() {
        return projector;
    }

    /** {@return the projected dimension K} */
    public int dim() {
        return dim;
    }

    /** {@return the projection seed} */
    public long seed() {
        return seed;
    }

    /** {@return the model id mixed into the projection seed} */
    public long modelId() {
        return modelId;
    }

    /** {@return non-zeros per SJLT column} */
    public int sjltS() {
        return sjltS;
    }

    /** {@return whether the 1/sqrt(K) scaling is left out (TRAK)} */
    public boolean unscaled() {
        return unscaled;
    }

    /** {@return the stored element type: float32 or float16} */
    public String dtype() {
        return dtype;
    }

    /** {@return where gradients are computed} */
    public Device device() {
        return device;
    }

    /** {@return examples per batch} */
    public int batchSize() {
        return batchSize;
    }

    /** {@return how per-example gradients are computed} */
    public GradStrategy strategy() {
        return strategy;
    }

    /** {@return parameter-name prefixes to differentiate (comma-separated); null for all} */
    public String params() {
        return params;
    }

    /** {@return this process's shard, 0-based} */
    public int shardIndex() {
        return shardIndex;
    }

    /** {@return the number of shards} */
    public int shardCount() {
        return shardCount;
    }

    /** {@return the input normalisation spec; null for the default} */
    public String normalization() {
        return normalization;
    }

    /** {@return bound on gradient bytes alive at once; 0 for the default} */
    public long maxBlockBytes() {
        return maxBlockBytes;
    }

    /** {@return the feature store folder} */
    public Path out() {
        return out;
    }

    /** {@return the projection's arithmetic on CUDA (FP32: strict float32; TF32: tensor cores)} */
    public GemmPrecision precision() {
        return precision;
    }

    /** {@return the CUDA device's ordinal (0 with the CPU)} */
    public int gpu() {
        return gpu;
    }

    /** {@return the arithmetic the projection actually uses: the requested precision on CUDA, float32 on the CPU} */
    public GemmPrecision effectivePrecision() {
        return device == Device.CUDA ? precision : GemmPrecision.FP32;
    }

    /**
     * The network output whose per-example gradient a kernel kind needs.
     *
     * @param kernel pntk, trntk, entk or margin, in lower case
     * @return its output, or null for another name
     */
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
