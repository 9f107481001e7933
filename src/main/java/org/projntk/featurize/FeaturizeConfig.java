package org.projntk.featurize;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.projntk.GemmPrecision;
import org.projntk.project.ProjectorKind;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.OutputKind;

/**
 * One featurize job: a model checkpoint, named dataset splits, the kernel kind and the projector.
 *
 * @param splits      split name -> dataset spec text (e.g. "train" -> "fashion-mnist:train[0:5000]"), in order
 * @param kernel      pntk, trntk, entk or margin
 * @param shardIndex  this process's shard (0-based) of shardCount
 * @param precision   the projection's arithmetic on CUDA (FP32: strict float32; TF32: tensor cores); the CPU always
 *                    computes in float32
 * @param gpu         the CUDA device's ordinal (0 with the CPU)
 */
public record FeaturizeConfig(String model, long modelSeed, String checkpoint, Map<String, String> splits, String kernel,
                              ProjectorKind projector, int dim, long seed, long modelId, int sjltS, boolean unscaled,
                              String dtype, Device device, int batchSize, GradStrategy strategy, String params,
                              int shardIndex, int shardCount, String normalization, long maxBlockBytes, Path out,
                              GemmPrecision precision, int gpu) {
    /** In strict float32 on GPU 0 (or the CPU). */
    public FeaturizeConfig(String model, long modelSeed, String checkpoint, Map<String, String> splits, String kernel,
                           ProjectorKind projector, int dim, long seed, long modelId, int sjltS, boolean unscaled,
                           String dtype, Device device, int batchSize, GradStrategy strategy, String params,
                           int shardIndex, int shardCount, String normalization, long maxBlockBytes, Path out) {
        this(model, modelSeed, checkpoint, splits, kernel, projector, dim, seed, modelId, sjltS, unscaled, dtype, device, batchSize,
                strategy, params, shardIndex, shardCount, normalization, maxBlockBytes, out, GemmPrecision.FP32, 0);
    }

    public FeaturizeConfig {
        java.util.Objects.requireNonNull(precision, "precision");
        java.util.Objects.requireNonNull(device, "device");
        device.checkGpu(gpu);
        splits = new LinkedHashMap<>(splits);
        kernel = kernel.toLowerCase(Locale.ROOT);
        if (outputKind(kernel) == null) throw new IllegalArgumentException("unknown kernel '" + kernel + "' (pntk, trntk, entk or margin)");
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount) {
            throw new IllegalArgumentException("bad shard " + shardIndex + "/" + shardCount + " (expected i/n with 0 <= i < n)");
        }
        if (projector == ProjectorKind.CURAND) {
            throw new IllegalArgumentException("the curand projector is a GPU benchmark baseline; featurize with rademacher, normal, sjlt or none");
        }
    }

    /** The arithmetic the projection actually uses: the requested precision on CUDA, float32 on the CPU. */
    public GemmPrecision effectivePrecision() {
        return device == Device.CUDA ? precision : GemmPrecision.FP32;
    }

    /** The network output whose per-example gradient a kernel kind needs. */
    public static OutputKind outputKind(String kernel) {
        return switch (kernel) {
            case "pntk" -> OutputKind.PNTK;
            case "trntk", "entk" -> OutputKind.PER_CLASS;
            case "margin" -> OutputKind.MARGIN;
            default -> null;
        };
    }
}
