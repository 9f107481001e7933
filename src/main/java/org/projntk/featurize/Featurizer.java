package org.projntk.featurize;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.projntk.GemmPrecision;
import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Normalization;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.store.CheckpointWriter;
import org.projntk.store.FeatureStore;
import org.projntk.store.Manifest;
import org.projntk.store.ProjectorInfo;
import org.projntk.store.RowRange;
import org.projntk.store.SplitInfo;
import org.projntk.store.StoreSpec;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/**
 * Per-example gradients of a model, projected on the fly, written batch by batch into a crash-safe feature store.
 * Restarting the same job resumes: only batches not marked done are computed.
 */
public final class Featurizer {
    /** Progress of one split: rows done (including those done before a resume) out of all rows of this shard. */
    public interface Listener {
        /**
         * Reports progress, on the thread running the job: once when a split starts, then after every batch.
         *
         * @param split the split's name
         * @param doneRows rows of this shard done, including those done before a resume
         * @param totalRows all rows of this shard in the split
         * @param rowsThisRun rows computed by this run so far
         * @param seconds time spent on the split by this run
         */
        void progress(String split, long doneRows, long totalRows, long rowsThisRun, double seconds);

        /**
         * A one-line note: the model's and projector's dimensions, the gradient path taken. Ignored by default.
         *
         * @param text the line
         */
        default void message(String text) {}
    }

    /**
     * What a run did.
     *
     * @param store the feature store, open
     * @param parameters P, the number of selected parameters
     * @param outputs feature rows per example: C for trNTK and eNTK, else 1
     * @param rowsComputed examples featurized by this run (0 when everything was already done)
     * @param strategyUsed the gradient path of the last batch (the configured one if no batch ran)
     * @param complete whether every split of the checkpoint is now done, by this shard and the others
     */
    public record Result(FeatureStore store, long parameters, int outputs, long rowsComputed, GradStrategy strategyUsed, boolean complete) {}

    private Featurizer() {}

    /**
     * Runs a job, opening and closing its model.
     *
     * @param config the job
     * @param listener progress, on this thread
     * @return what the run did
     */
    public static Result run(FeaturizeConfig config, Listener listener) {
        return run(config, 0, null, listener);
    }

    /**
     * What a run checks before it computes anything, without opening the model: the output is a directory (or absent),
     * and every split's dataset opens and has rows. A Spark driver calls it before starting tasks.
     *
     * @param config the job
     * @throws IllegalArgumentException if the output is not a directory, or a split's spec is malformed or selects no
     *     rows
     * @throws org.projntk.data.DataFormatException for a corrupt, truncated or unsupported dataset file
     */
    public static void checkInputs(FeaturizeConfig config) {
        if (java.nio.file.Files.exists(config.out()) && !java.nio.file.Files.isDirectory(config.out())) {
            throw new IllegalArgumentException("the output " + config.out() + " is not a directory (a feature store is a folder)");
        }
        Normalization normalization = config.normalization() == null ? Normalization.DEFAULT : Normalization.parse(config.normalization());
        for (String spec : config.splits().values()) DatasetSpec.parse(spec).open(normalization);
    }

    /**
     * As {@link #run(FeaturizeConfig, Listener)} for a model whose forward returns a tuple/list (the logits are element
     * outputIndex) or a dict (the value under outputKey; null: "logits"); see {@link Model#selectOutput}.
     *
     * @param config the job
     * @param outputIndex the element of a tuple or list result holding the logits
     * @param outputKey the key of a dict result holding them, or null
     * @param listener progress, on this thread
     * @return what the run did
     */
    public static Result run(FeaturizeConfig config, int outputIndex, String outputKey, Listener listener) {
        try (Model model = Model.open(config.model(), config.modelSeed(), config.device(), config.gpu())) {
            if (outputIndex != 0 || outputKey != null) model.selectOutput(outputIndex, outputKey);
            return run(config, model, listener);
        }
    }

    /**
     * As {@link #run(FeaturizeConfig, Listener)}, with a model that the caller opened from {@code config.model()},
     * {@code config.modelSeed()} and {@code config.device()}, and keeps open: a Spark executor reuses one per task slot.
     * The model is held (its monitor) for the whole run, and its parameter selection is set from {@code config.params()}.
     *
     * @param config the job
     * @param model the configured model on the configured device, open
     * @param listener progress, on this thread
     * @return what the run did
     * @throws IllegalArgumentException if the model is not the configured one, or splits differ in example shape
     * @throws org.projntk.store.IncompatibleStoreException if the folder holds a store of another job
     */
    public static Result run(FeaturizeConfig config, Model model, Listener listener) {
        String source = config.model().startsWith("builtin:") ? config.model() : java.nio.file.Path.of(config.model()).toString();
        if (!model.source().equals(source) || model.device() != config.device() || model.gpu() != config.gpu()) {
            throw new IllegalArgumentException("the model given (" + model.source() + " on " + model.device().label(model.gpu())
                    + ") is not the one configured (" + config.model() + " on " + config.device().label(config.gpu()) + ")");
        }
        Normalization normalization = config.normalization() == null ? Normalization.DEFAULT : Normalization.parse(config.normalization());
        Map<String, Dataset> datasets = new LinkedHashMap<>();
        Map<String, SplitInfo> splitInfos = new LinkedHashMap<>();
        for (var entry : config.splits().entrySet()) {
            DatasetSpec spec = DatasetSpec.parse(entry.getValue());
            Dataset dataset = spec.open(normalization);
            datasets.put(entry.getKey(), dataset);
            long start = dataset.firstSourceRow();
            splitInfos.put(entry.getKey(), SplitInfo.of(spec.withoutRange().toString(), start, start + dataset.size()));
        }
        Dataset first = datasets.values().iterator().next();
        long[] exampleShape = toLongs(first.exampleShape());
        for (var entry : datasets.entrySet()) {
            if (!java.util.Arrays.equals(toLongs(entry.getValue().exampleShape()), exampleShape)) {
                throw new IllegalArgumentException("split " + entry.getKey() + " has examples of shape "
                        + java.util.Arrays.toString(entry.getValue().exampleShape()) + ", the first split has " + java.util.Arrays.toString(exampleShape));
            }
        }

        OutputKind output = FeaturizeConfig.outputKind(config.kernel());
        synchronized (model) {
            model.selectParameters(config.params() != null && !config.params().isBlank() ? config.params() : null);
            long parameters = model.parameterCount();
            int classes;
            try (Arena arena = Arena.ofConfined()) {
                classes = first.size() > 0 ? model.numClasses(first.batch(0, 1, arena).modelInputs()) : model.numClasses(exampleShape);
            }
            int outputs = output == OutputKind.PER_CLASS ? classes : 1;
            if (output == OutputKind.MARGIN) checkLabels(datasets, classes);
            int dim = config.projector() == ProjectorKind.NONE ? Math.toIntExact(parameters) : config.dim();
            boolean fp32Strict = config.effectivePrecision() == GemmPrecision.FP32;
            ProjectorSpec baseSpec = new ProjectorSpec(config.projector(), parameters, dim, config.seed(), config.modelId(),
                    config.sjltS(), config.unscaled(), true, fp32Strict, config.device(), config.gpu());
            StoreSpec storeSpec = new StoreSpec(ProjectorInfo.of(baseSpec), config.kernel(), outputs, config.dtype(), splitInfos);
            FeatureStore store = FeatureStore.openOrCreate(config.out(), storeSpec);
            CheckpointWriter writer = store.checkpoint(config.checkpoint(), new Manifest.Checkpoint(config.model(), model.checksum(),
                    Manifest.Checkpoint.RUNNING, null, config.modelSeed(), StoreProvenance.paramsKey(config.params()), parameters,
                    normalization.toString()).withRun(config.device().label(config.gpu()), config.effectivePrecision().toString()));
            long modelId = store.manifest().modelId(config.checkpoint());
            ProjectorSpec projectorSpec = new ProjectorSpec(config.projector(), parameters, dim, config.seed(), modelId,
                    config.sjltS(), config.unscaled(), true, fp32Strict, config.device(), config.gpu());
            listener.message(String.format("model %s: P=%d selected parameters, C=%d classes; projector %s K=%d seed=%d model_id=%d; %d output(s) per example; %s, %s",
                    config.model(), parameters, classes, config.projector().cliName(), dim, config.seed(), modelId, outputs,
                    config.device().label(config.gpu()), config.effectivePrecision()));

            long computed = 0;
            GradStrategy used = config.strategy();
            // A fixed strategy is checked against the store before any work; AUTO once its first batch shows the path.
            if (config.strategy() != GradStrategy.AUTO) writer.gradientPath(pathName(config.strategy()));
            try (Projector projector = new Projector(projectorSpec)) {
                for (var entry : datasets.entrySet()) {
                    String split = entry.getKey();
                    Dataset dataset = entry.getValue();
                    List<RowRange> pending = writer.pendingBatches(split, config.batchSize(), config.shardIndex(), config.shardCount());
                    long shardRows = shardRows(dataset.size(), config.batchSize(), config.shardIndex(), config.shardCount());
                    long pendingRows = pending.stream().mapToLong(RowRange::count).sum();
                    long done = shardRows - pendingRows;
                    long start = System.nanoTime();
                    long thisRun = 0;
                    listener.progress(split, done, shardRows, 0, 0);
                    for (RowRange range : pending) {
                        try (Arena arena = Arena.ofConfined()) {
                            Batch batch = dataset.batch(range.start(), range.count(), arena);
                            MemorySegment features = arena.allocate(ValueLayout.JAVA_FLOAT, (long) outputs * range.count() * dim);
                            used = projector.projectGradients(model, batch.modelInputs(), batch.labels(), output, config.strategy(),
                                    config.maxBlockBytes(), features);
                            writer.gradientPath(pathName(used));
                            float[] outToLoss = output == OutputKind.MARGIN ? outToLoss(model, batch) : null;
                            writer.writeRows(split, range.start(), range.count(), features, outToLoss);
                        }
                        done += range.count();
                        thisRun += range.count();
                        computed += range.count();
                        listener.progress(split, done, shardRows, thisRun, (System.nanoTime() - start) / 1e9);
                    }
                }
            }
            if (computed > 0) {
                listener.message("per-example gradients: " + used.name().toLowerCase(java.util.Locale.ROOT) + " path"
                        + (config.strategy() == GradStrategy.AUTO && used == GradStrategy.ITERATIVE ? " (automatic fallback: an op lacks a batching rule)" : ""));
            }
            boolean complete = writer.markComplete();
            return new Result(store, parameters, outputs, computed, used, complete);
        }
    }

    private static String pathName(GradStrategy strategy) {
        return strategy.name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * TRAK's out-to-loss weight Q = 1 - softmax(logits)[y] of every example of the batch, from a forward pass.
     *
     * @param model the network
     * @param batch the examples and their labels
     * @return one weight in [0, 1] per example
     */
    public static float[] outToLoss(Model model, Batch batch) {
        float[][] logits = model.forward(batch.inputs(), batch.shape());
        long[] labels = batch.labels();
        float[] q = new float[logits.length];
        for (int i = 0; i < logits.length; i++) q[i] = (float) (1 - softmax(logits[i])[(int) labels[i]]);
        return q;
    }

    static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        double[] p = new double[logits.length];
        for (int c = 0; c < logits.length; c++) sum += p[c] = Math.exp(logits[c] - max);
        for (int c = 0; c < logits.length; c++) p[c] /= sum;
        return p;
    }

    private static long shardRows(long rows, int batchSize, int shard, int shards) {
        long total = 0;
        long batches = (rows + batchSize - 1) / batchSize;
        for (long b = shard; b < batches; b += shards) total += Math.min(batchSize, rows - b * batchSize);
        return total;
    }

    private static void checkLabels(Map<String, Dataset> datasets, int classes) {
        for (var entry : datasets.entrySet()) {
            Dataset d = entry.getValue();
            for (long i = 0; i < d.size(); i++) {
                long label = d.label(i);
                if (label < 0 || label >= classes) {
                    throw new IllegalArgumentException("split " + entry.getKey() + " row " + i + " has label " + label
                            + " but the model has " + classes + " classes");
                }
            }
        }
    }

    static long[] toLongs(int[] shape) {
        long[] out = new long[shape.length];
        for (int i = 0; i < shape.length; i++) out[i] = shape[i];
        return out;
    }
}
