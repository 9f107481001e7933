package org.projntk.featurize;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import org.projntk.GemmPrecision;
import org.projntk.data.DatasetSpec;
import org.projntk.project.Projection;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;

/**
 * Builds and runs a featurize job: per-example gradients of a model on named dataset splits, projected and written to
 * a feature store (created, or resumed where an earlier run stopped).
 *
 * <pre>{@code
 * Featurizer.Result r = Featurize.of("builtin:cnn-fmnist")
 *         .train("fashion-mnist:train[0:5000]").test("fashion-mnist:test[0:1000]")
 *         .kernel(Kernel.TRNTK).projection(Projection.rademacher(2048).seed(42))
 *         .into(Path.of("store")).run();
 * }</pre>
 *
 * Defaults: checkpoint "0", kernel {@link Kernel#TRNTK}, {@code Projection.rademacher(2048)} with seed 0, float32
 * features, batches of 64, {@link GradStrategy#AUTO}, all parameters, one shard, the datasets' default input
 * normalisation. A builder is not thread-safe; the job it runs is (see {@link Model}).
 */
public final class Featurize {
    /** The stored element type of the features. */
    public enum Dtype {
        /** 4 bytes per value. */
        FLOAT32,
        /** 2 bytes per value; values beyond float16's range are refused. */
        FLOAT16
    }

    private final String modelSpec;
    private final Model model;
    private long modelSeed;
    private Device device = Device.CPU;
    private int gpu;
    private GemmPrecision precision = GemmPrecision.FP32;
    private String checkpoint = "0";
    private final Map<String, String> splits = new LinkedHashMap<>();
    private Kernel kernel = Kernel.TRNTK;
    private Projection projection = Projection.rademacher(2048);
    private Dtype dtype = Dtype.FLOAT32;
    private int batchSize = 64;
    private GradStrategy gradients = GradStrategy.AUTO;
    private String parameters;
    private int shardIndex;
    private int shardCount = 1;
    private String inputNormalization;
    private long maxBlockBytes = Gradients.DEFAULT_MAX_BLOCK_BYTES;
    private int outputIndex;
    private String outputKey;
    private Path out;

    private Featurize(String modelSpec, Model model) {
        this.modelSpec = modelSpec;
        this.model = model;
    }

    /** A job on the model at {@code spec} (a TorchScript file or builtin:NAME), which the job opens and closes. */
    public static Featurize of(String spec) {
        return new Featurize(Objects.requireNonNull(spec, "model spec"), null);
    }

    /**
     * A job on a model the caller opened and keeps open (it may run several jobs). The job holds the model's monitor
     * while it runs and sets its parameter selection. Its seed is the one the model was created with.
     */
    public static Featurize of(Model model) {
        Featurize f = new Featurize(Objects.requireNonNull(model, "model").source(), model);
        f.modelSeed = model.seed();
        f.device = model.device();
        f.gpu = model.gpu();
        return f;
    }

    /** A builder holding the settings of an existing job (to change its shard or store, say). */
    public static Featurize from(FeaturizeConfig c) {
        Featurize f = new Featurize(c.model(), null);
        f.modelSeed = c.modelSeed();
        f.device = c.device();
        f.gpu = c.gpu();
        f.precision = c.precision();
        f.checkpoint = c.checkpoint();
        f.splits.putAll(c.splits());
        f.kernel = Kernel.parse(c.kernel());
        f.projection = new Projection(c.projector(), c.dim(), c.seed(), c.modelId(), c.sjltS(), c.unscaled());
        f.dtype = Dtype.valueOf(c.dtype().toUpperCase(Locale.ROOT));
        f.batchSize = c.batchSize();
        f.gradients = c.strategy();
        f.parameters = c.params();
        f.shardIndex = c.shardIndex();
        f.shardCount = c.shardCount();
        f.inputNormalization = c.normalization();
        f.maxBlockBytes = c.maxBlockBytes();
        f.out = c.out();
        return f;
    }

    /** The initialisation seed of a built-in model (default 0); a model given to {@link #of(Model)} has its own. */
    public Featurize modelSeed(long seed) {
        if (model != null && seed != model.seed()) {
            throw new IllegalArgumentException("the model given was created with seed " + model.seed() + ", not " + seed);
        }
        this.modelSeed = seed;
        return this;
    }

    /** Where the gradients are computed (default CPU); a model given to {@link #of(Model)} has its own. */
    public Featurize device(Device value) {
        if (model != null && value != model.device()) {
            throw new IllegalArgumentException("the model given is on " + model.device() + ", not " + value);
        }
        this.device = Objects.requireNonNull(value, "device");
        return this;
    }

    /** With device CUDA: the GPU's ordinal (default 0). */
    public Featurize gpu(int ordinal) {
        if (model != null && ordinal != model.gpu()) {
            throw new IllegalArgumentException("the model given is on GPU " + model.gpu() + ", not " + ordinal);
        }
        this.gpu = ordinal;
        return this;
    }

    /** The projection's arithmetic on CUDA: FP32 (strict, the default) or TF32; the CPU always computes in float32. */
    public Featurize precision(GemmPrecision value) {
        this.precision = Objects.requireNonNull(value, "precision");
        return this;
    }

    /** The name of this model checkpoint in the store (default "0"). */
    public Featurize checkpoint(String id) {
        this.checkpoint = Objects.requireNonNull(id, "checkpoint");
        return this;
    }

    /** The "train" split's dataset, e.g. {@code fashion-mnist:train[0:5000]} (see {@link DatasetSpec}). */
    public Featurize train(String datasetSpec) {
        return split("train", datasetSpec);
    }

    /** The "test" split's dataset. */
    public Featurize test(String datasetSpec) {
        return split("test", datasetSpec);
    }

    /** A split under any name, in the order given. */
    public Featurize split(String name, String datasetSpec) {
        DatasetSpec.parse(Objects.requireNonNull(datasetSpec, "dataset spec")); // fail here on a malformed spec
        splits.put(Objects.requireNonNull(name, "split name"), datasetSpec);
        return this;
    }

    /** The kernel (default {@link Kernel#TRNTK}). */
    public Featurize kernel(Kernel value) {
        this.kernel = Objects.requireNonNull(value, "kernel");
        return this;
    }

    /** The projection (default {@code Projection.rademacher(2048)}, seed 0). */
    public Featurize projection(Projection value) {
        this.projection = Objects.requireNonNull(value, "projection");
        return this;
    }

    /** The stored element type (default float32). */
    public Featurize dtype(Dtype value) {
        this.dtype = Objects.requireNonNull(value, "dtype");
        return this;
    }

    /** Examples per batch (default 64); the store's completion grid follows it. */
    public Featurize batchSize(int rows) {
        this.batchSize = rows;
        return this;
    }

    /** How per-example gradients are computed (default {@link GradStrategy#AUTO}). */
    public Featurize gradients(GradStrategy value) {
        this.gradients = Objects.requireNonNull(value, "gradient strategy");
        return this;
    }

    /** Only the parameters whose names start with one of these prefixes (default: all). */
    public Featurize parameters(String... prefixes) {
        this.parameters = prefixes.length == 0 ? null : String.join(",", prefixes);
        return this;
    }

    /** Computes only batches b with b % count == index (default 0 of 1); other shards may run at once elsewhere. */
    public Featurize shard(int index, int count) {
        this.shardIndex = index;
        this.shardCount = count;
        return this;
    }

    /** How raw values become inputs: default, none, unit, standard or standard:M,..:S,.. (see data.Normalization). */
    public Featurize inputNormalization(String spec) {
        this.inputNormalization = spec;
        return this;
    }

    /** Bound on the gradient bytes alive at once inside the engine (default {@link Gradients#DEFAULT_MAX_BLOCK_BYTES}). */
    public Featurize maxBlockBytes(long bytes) {
        this.maxBlockBytes = bytes;
        return this;
    }

    /** For a model whose forward returns a tuple or list: the element holding the logits (default 0). */
    public Featurize outputIndex(int index) {
        this.outputIndex = index;
        return this;
    }

    /** For a model whose forward returns a dict: the key of the logits (default "logits"). */
    public Featurize outputKey(String key) {
        this.outputKey = key;
        return this;
    }

    /** The feature store folder: created, or resumed when it holds this job's earlier rows. */
    public Featurize into(Path dir) {
        this.out = Objects.requireNonNull(dir, "store folder");
        return this;
    }

    /** The checked job. */
    public FeaturizeConfig config() {
        if (out == null) throw new IllegalStateException("no store folder: call into(dir)");
        return new FeaturizeConfig(modelSpec, modelSeed, checkpoint, splits, kernel.toString(), projection.kind(),
                projection.dim(), projection.seed(), projection.modelId(), projection.sjltS(), projection.unscaled(),
                dtype.name().toLowerCase(Locale.ROOT), device, batchSize, gradients, parameters, shardIndex, shardCount,
                inputNormalization, maxBlockBytes, out, precision, gpu);
    }

    /** Runs the job, reporting progress to listener. */
    public Featurizer.Result run(Featurizer.Listener listener) {
        FeaturizeConfig c = config();
        if (model == null) return Featurizer.run(c, outputIndex, outputKey, listener);
        synchronized (model) {
            if (outputIndex != 0 || outputKey != null) model.selectOutput(outputIndex, outputKey);
            return Featurizer.run(c, model, listener);
        }
    }

    /** Runs the job without progress reports. */
    public Featurizer.Result run() {
        return run((split, done, total, thisRun, seconds) -> {});
    }
}
