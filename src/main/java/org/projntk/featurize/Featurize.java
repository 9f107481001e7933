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

    /**
     * A job on the model at {@code spec}, which the job opens and closes.
     *
     * @param spec a TorchScript file or builtin:NAME
     * @return a builder with the defaults above
     */
    public static Featurize of(String spec) {
        return new Featurize(Objects.requireNonNull(spec, "model spec"), null);
    }

    /**
     * A job on a model the caller opened and keeps open (it may run several jobs). The job holds the model's monitor
     * while it runs and sets its parameter selection. Its seed is the one the model was created with.
     *
     * @param model an open model
     * @return a builder with the defaults above, on the model's device
     */
    public static Featurize of(Model model) {
        Featurize f = new Featurize(Objects.requireNonNull(model, "model").source(), model);
        f.modelSeed = model.seed();
        f.device = model.device();
        f.gpu = model.gpu();
        return f;
    }

    /**
     * A builder holding the settings of an existing job (to change its shard or store, say).
     *
     * @param c the job
     * @return a new builder; the model is opened anew when it runs
     */
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

    /**
     * The initialisation seed of a built-in model (default 0); a model given to {@link #of(Model)} has its own.
     *
     * @param seed the seed
     * @return this builder
     * @throws IllegalArgumentException if it differs from the seed of a model given to {@link #of(Model)}
     */
    public Featurize modelSeed(long seed) {
        if (model != null && seed != model.seed()) {
            throw new IllegalArgumentException("the model given was created with seed " + model.seed() + ", not " + seed);
        }
        this.modelSeed = seed;
        return this;
    }

    /**
     * Where the gradients are computed (default CPU); a model given to {@link #of(Model)} has its own.
     *
     * @param value the device
     * @return this builder
     * @throws IllegalArgumentException if it differs from the device of a model given to {@link #of(Model)}
     */
    public Featurize device(Device value) {
        if (model != null && value != model.device()) {
            throw new IllegalArgumentException("the model given is on " + model.device() + ", not " + value);
        }
        this.device = Objects.requireNonNull(value, "device");
        return this;
    }

    /**
     * With device CUDA: the GPU's ordinal (default 0).
     *
     * @param ordinal the CUDA device ordinal
     * @return this builder
     * @throws IllegalArgumentException if it differs from the GPU of a model given to {@link #of(Model)}
     */
    public Featurize gpu(int ordinal) {
        if (model != null && ordinal != model.gpu()) {
            throw new IllegalArgumentException("the model given is on GPU " + model.gpu() + ", not " + ordinal);
        }
        this.gpu = ordinal;
        return this;
    }

    /**
     * The projection's arithmetic on CUDA: FP32 (strict, the default) or TF32; the CPU always computes in float32.
     *
     * @param value the precision
     * @return this builder
     */
    public Featurize precision(GemmPrecision value) {
        this.precision = Objects.requireNonNull(value, "precision");
        return this;
    }

    /**
     * The name of this model checkpoint in the store (default "0"); each checkpoint gets its own projection (model id).
     *
     * @param id the checkpoint id, e.g. the training epoch
     * @return this builder
     */
    public Featurize checkpoint(String id) {
        this.checkpoint = Objects.requireNonNull(id, "checkpoint");
        return this;
    }

    /**
     * The "train" split's dataset, e.g. {@code fashion-mnist:train[0:5000]} (see {@link DatasetSpec}).
     *
     * @param datasetSpec the dataset spec
     * @return this builder
     * @throws IllegalArgumentException for a malformed spec
     */
    public Featurize train(String datasetSpec) {
        return split("train", datasetSpec);
    }

    /**
     * The "test" split's dataset.
     *
     * @param datasetSpec the dataset spec, e.g. {@code fashion-mnist:test[0:1000]}
     * @return this builder
     * @throws IllegalArgumentException for a malformed spec
     */
    public Featurize test(String datasetSpec) {
        return split("test", datasetSpec);
    }

    /**
     * A split under any name, in the order given.
     *
     * @param name the split's name in the store
     * @param datasetSpec the dataset spec
     * @return this builder
     * @throws IllegalArgumentException for a malformed spec
     */
    public Featurize split(String name, String datasetSpec) {
        DatasetSpec.parse(Objects.requireNonNull(datasetSpec, "dataset spec")); // fail here on a malformed spec
        splits.put(Objects.requireNonNull(name, "split name"), datasetSpec);
        return this;
    }

    /**
     * The kernel (default {@link Kernel#TRNTK}).
     *
     * @param value the kernel
     * @return this builder
     */
    public Featurize kernel(Kernel value) {
        this.kernel = Objects.requireNonNull(value, "kernel");
        return this;
    }

    /**
     * The projection (default {@code Projection.rademacher(2048)}, seed 0).
     *
     * @param value the projection
     * @return this builder
     */
    public Featurize projection(Projection value) {
        this.projection = Objects.requireNonNull(value, "projection");
        return this;
    }

    /**
     * The stored element type (default float32).
     *
     * @param value FLOAT32 or FLOAT16
     * @return this builder
     */
    public Featurize dtype(Dtype value) {
        this.dtype = Objects.requireNonNull(value, "dtype");
        return this;
    }

    /**
     * Examples per batch (default 64); the store's completion grid follows it.
     *
     * @param rows at least 1; shards of one job running at once must use the same size
     * @return this builder
     */
    public Featurize batchSize(int rows) {
        this.batchSize = rows;
        return this;
    }

    /**
     * How per-example gradients are computed (default {@link GradStrategy#AUTO}).
     *
     * @param value the strategy
     * @return this builder
     */
    public Featurize gradients(GradStrategy value) {
        this.gradients = Objects.requireNonNull(value, "gradient strategy");
        return this;
    }

    /**
     * Only the parameters whose names start with one of these prefixes (default: all).
     *
     * @param prefixes name prefixes, e.g. {@code "fc."}; none for all
     * @return this builder
     */
    public Featurize parameters(String... prefixes) {
        this.parameters = prefixes.length == 0 ? null : String.join(",", prefixes);
        return this;
    }

    /**
     * Computes only batches b with b % count == index (default 0 of 1); other shards may run at once elsewhere.
     *
     * @param index this shard, in [0, count)
     * @param count the number of shards, at least 1
     * @return this builder
     */
    public Featurize shard(int index, int count) {
        this.shardIndex = index;
        this.shardCount = count;
        return this;
    }

    /**
     * How raw values become inputs: default, none, unit, standard or standard:M,..:S,.. (see data.Normalization).
     *
     * @param spec the normalisation, or null for default
     * @return this builder
     */
    public Featurize inputNormalization(String spec) {
        this.inputNormalization = spec;
        return this;
    }

    /**
     * Bound on the gradient bytes alive at once inside the engine (default {@link Gradients#DEFAULT_MAX_BLOCK_BYTES}).
     *
     * @param bytes the bound; 0 or less for the default
     * @return this builder
     */
    public Featurize maxBlockBytes(long bytes) {
        this.maxBlockBytes = bytes;
        return this;
    }

    /**
     * For a model whose forward returns a tuple or list: the element holding the logits (default 0).
     *
     * @param index the element
     * @return this builder
     */
    public Featurize outputIndex(int index) {
        this.outputIndex = index;
        return this;
    }

    /**
     * For a model whose forward returns a dict: the key of the logits (default "logits").
     *
     * @param key the key, or null for "logits"
     * @return this builder
     */
    public Featurize outputKey(String key) {
        this.outputKey = key;
        return this;
    }

    /**
     * The feature store folder: created, or resumed when it holds this job's earlier rows.
     *
     * @param dir the store folder
     * @return this builder
     */
    public Featurize into(Path dir) {
        this.out = Objects.requireNonNull(dir, "store folder");
        return this;
    }

    /**
     * The checked job.
     *
     * @return the job's settings
     * @throws IllegalStateException if no store folder was given
     * @throws IllegalArgumentException for a setting out of range (no split, a bad shard, batch size below 1, ...)
     */
    public FeaturizeConfig config() {
        if (out == null) throw new IllegalStateException("no store folder: call into(dir)");
        return new FeaturizeConfig(modelSpec, modelSeed, checkpoint, splits, kernel.toString(), projection.kind(),
                projection.dim(), projection.seed(), projection.modelId(), projection.sjltS(), projection.unscaled(),
                dtype.name().toLowerCase(Locale.ROOT), device, batchSize, gradients, parameters, shardIndex, shardCount,
                inputNormalization, maxBlockBytes, out, precision, gpu);
    }

    /**
     * Runs the job, reporting progress to listener. A job stopped part-way (a crash, another shard still running) is
     * resumed by running it again.
     *
     * @param listener progress, on this thread
     * @return what the run did
     * @throws org.projntk.store.IncompatibleStoreException if the folder holds a store of another job
     */
    public Featurizer.Result run(Featurizer.Listener listener) {
        FeaturizeConfig c = config();
        if (model == null) return Featurizer.run(c, outputIndex, outputKey, listener);
        synchronized (model) {
            if (outputIndex != 0 || outputKey != null) model.selectOutput(outputIndex, outputKey);
            return Featurizer.run(c, model, listener);
        }
    }

    /**
     * Runs the job without progress reports.
     *
     * @return what the run did
     */
    public Featurizer.Result run() {
        return run((split, done, total, thisRun, seconds) -> {});
    }
}
