package org.projntk.featurize;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
        void progress(String split, long doneRows, long totalRows, long rowsThisRun, double seconds);

        default void message(String text) {}
    }

    /** What a run did. */
    public record Result(FeatureStore store, long parameters, int outputs, long rowsComputed, GradStrategy strategyUsed, boolean complete) {}

    private Featurizer() {}

    public static Result run(FeaturizeConfig config, Listener listener) {
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
        try (Model model = Model.open(config.model(), config.modelSeed(), config.device())) {
            if (config.params() != null && !config.params().isBlank()) model.selectParameters(config.params());
            long parameters = model.parameterCount();
            int classes = model.numClasses(exampleShape);
            int outputs = output == OutputKind.PER_CLASS ? classes : 1;
            if (output == OutputKind.MARGIN) checkLabels(datasets, classes);
            int dim = config.projector() == ProjectorKind.NONE ? Math.toIntExact(parameters) : config.dim();
            ProjectorSpec projectorSpec = new ProjectorSpec(config.projector(), parameters, dim, config.seed(), config.modelId(),
                    config.sjltS(), config.unscaled(), true, false, config.device());
            StoreSpec storeSpec = new StoreSpec(ProjectorInfo.of(projectorSpec), config.kernel(), outputs, config.dtype(), splitInfos);
            FeatureStore store = FeatureStore.openOrCreate(config.out(), storeSpec);
            CheckpointWriter writer = store.checkpoint(config.checkpoint(), new Manifest.Checkpoint(config.model(), model.checksum(),
                    Manifest.Checkpoint.RUNNING, config.modelSeed(), StoreProvenance.paramsKey(config.params()), parameters,
                    normalization.toString()));
            listener.message(String.format("model %s: P=%d selected parameters, C=%d classes; projector %s K=%d seed=%d; %d output(s) per example",
                    config.model(), parameters, classes, config.projector().cliName(), dim, config.seed(), outputs));

            long computed = 0;
            GradStrategy used = config.strategy();
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
                            projector.projectGradients(model, batch.inputs(), batch.shape(), batch.labels(), output, config.strategy(),
                                    config.maxBlockBytes(), features);
                            writer.writeRows(split, range.start(), range.count(), features);
                        }
                        done += range.count();
                        thisRun += range.count();
                        computed += range.count();
                        listener.progress(split, done, shardRows, thisRun, (System.nanoTime() - start) / 1e9);
                    }
                }
            }
            boolean complete = writer.markComplete();
            return new Result(store, parameters, outputs, computed, used, complete);
        }
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
