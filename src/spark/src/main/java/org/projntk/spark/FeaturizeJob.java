package org.projntk.spark;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.LinkedHashMap;

import org.projntk.project.Projection;
import org.projntk.featurize.Kernel;
import org.projntk.featurize.Featurize;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.project.ProjectorKind;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;

/** A {@link FeaturizeConfig} without its shard, in a form Spark can ship to executors (Path is not Serializable). */
record FeaturizeJob(String model, long modelSeed, String checkpoint, LinkedHashMap<String, String> splits, String kernel,
                    ProjectorKind projector, int dim, long seed, long modelId, int sjltS, boolean unscaled, String dtype,
                    Device device, int batchSize, GradStrategy strategy, String params, String normalization,
                    long maxBlockBytes, String out) implements Serializable {

    static FeaturizeJob of(FeaturizeConfig c) {
        if (c.shardCount() != 1) {
            throw new IllegalArgumentException("a Spark featurize splits the rows itself: give the whole job (shard 0/1), not shard "
                    + c.shardIndex() + "/" + c.shardCount());
        }
        return new FeaturizeJob(c.model(), c.modelSeed(), c.checkpoint(), new LinkedHashMap<>(c.splits()), c.kernel(), c.projector(),
                c.dim(), c.seed(), c.modelId(), c.sjltS(), c.unscaled(), c.dtype(), c.device(), c.batchSize(), c.strategy(),
                c.params(), c.normalization(), c.maxBlockBytes(), c.out().toAbsolutePath().toString());  // executors resolve no relative paths
    }

    /** The config of one Spark partition: shard {@code index} of {@code count} of the fixed batch grid. */
    FeaturizeConfig shard(int index, int count) {
        Featurize f = Featurize.of(model).modelSeed(modelSeed).device(device).checkpoint(checkpoint).kernel(Kernel.parse(kernel))
                .projection(new Projection(projector, dim, seed, modelId, sjltS, unscaled))
                .dtype(Featurize.Dtype.valueOf(dtype.toUpperCase(java.util.Locale.ROOT))).batchSize(batchSize).gradients(strategy)
                .shard(index, count).inputNormalization(normalization).maxBlockBytes(maxBlockBytes).into(Path.of(out));
        if (params != null) f.parameters(params);
        splits.forEach(f::split);
        return f.config();
    }

    ModelPool.Key modelKey() {
        return new ModelPool.Key(model, modelSeed, device, checkpoint);
    }
}
