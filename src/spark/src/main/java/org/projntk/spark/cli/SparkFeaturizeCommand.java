package org.projntk.spark.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.spark.api.java.JavaSparkContext;
import org.projntk.project.Projection;
import org.projntk.featurize.Kernel;
import org.projntk.featurize.Featurize;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.spark.SparkFeaturize;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code projntk spark featurize}: the options of {@code projntk featurize} (without --shard), as a Spark job. */
@Command(name = "featurize", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Projected per-example gradients into a feature store, one Spark task per shard of the batch grid.",
                "The store must be on a filesystem every executor sees. Rerunning resumes."})
public final class SparkFeaturizeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions spark;

    @Option(names = "--model", required = true, paramLabel = "PATH|builtin:NAME", description = "TorchScript file or built-in model.")
    String model;
    @Option(names = "--model-seed", defaultValue = "0", description = "Seed of a built-in model's initial weights.")
    long modelSeed;
    @Option(names = "--train", required = true, paramLabel = "SPEC", description = "Dataset of the train split.")
    String train;
    @Option(names = "--test", paramLabel = "SPEC", description = "Dataset of the test split (optional).")
    String test;
    @Option(names = "--kernel", defaultValue = "trntk", description = "pntk, trntk, entk or margin.")
    String kernel;
    @Option(names = "--proj", defaultValue = "rademacher", description = "rademacher, normal, sjlt or none.")
    String proj;
    @Option(names = "--dim", defaultValue = "2048", paramLabel = "K", description = "Projected dimension.")
    int dim;
    @Option(names = "--seed", defaultValue = "0", description = "Projection seed.")
    long seed;
    @Option(names = "--model-id", defaultValue = "0", description = "Model id mixed into the projection.")
    long modelId;
    @Option(names = "--checkpoint", defaultValue = "0", paramLabel = "ID", description = "Name of this model checkpoint in the store.")
    String checkpoint;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Feature store folder (created, or resumed).")
    Path out;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (on the executors).")
    String device;
    @Option(names = "--batch", defaultValue = "64", paramLabel = "B", description = "Examples per batch.")
    int batch;
    @Option(names = "--grad", defaultValue = "auto", description = "auto, functional or iterative.")
    String grad;
    @Option(names = "--params", paramLabel = "PREFIXES", description = "Only parameters whose names start with one of these (comma-separated).")
    String params;
    @Option(names = "--dtype", defaultValue = "float32", description = "float32 or float16.")
    String dtype;
    @Option(names = "--sjlt-s", defaultValue = "" + ProjectorSpec.DEFAULT_SJLT_S, paramLabel = "S", description = "Non-zeros per column of the SJLT.")
    int sjltS;
    @Option(names = "--unscaled", description = "TRAK's unscaled projection (no 1/sqrt(K)).")
    boolean unscaled;
    @Option(names = "--normalize", paramLabel = "MEAN,STD", description = "Input normalisation (default: the dataset's).")
    String normalize;
    @Option(names = "--max-block-bytes", defaultValue = "" + Gradients.DEFAULT_MAX_BLOCK_BYTES, description = "Largest gradient block held at once.")
    long maxBlockBytes;

    FeaturizeConfig config() {
        Map<String, String> splits = new LinkedHashMap<>();
        splits.put("train", train);
        if (test != null) splits.put("test", test);
        Projection projection = new Projection(ProjectorKind.parse(proj), dim, seed, modelId, sjltS, unscaled);
        Featurize f = Featurize.of(model).modelSeed(modelSeed).device(Device.parse(device)).checkpoint(checkpoint)
                .kernel(Kernel.parse(kernel)).projection(projection).dtype(Featurize.Dtype.valueOf(dtype.toUpperCase(java.util.Locale.ROOT)))
                .batchSize(batch).gradients(GradStrategy.parse(grad)).inputNormalization(normalize).maxBlockBytes(maxBlockBytes).into(out);
        if (params != null) f.parameters(params);
        splits.forEach(f::split);
        return f.config();
    }

    @Override
    public Integer call() {
        FeaturizeConfig config = config();
        org.projntk.featurize.Featurizer.checkInputs(config); // before Spark starts: a bad input is one line, not a log
        PrintWriter w = spec.commandLine().getOut();
        try (SparkOptions.Session session = spark.start()) {
            JavaSparkContext sc = session.context();
            int partitions = spark.partitions == 0 ? SparkFeaturize.defaultPartitions(sc) : spark.partitions;
            SparkFeaturize.Result r = SparkFeaturize.run(sc, config, partitions);
            w.printf(Locale.ROOT, "spark featurize %s: %d rows done (%d computed by successful tasks) in %d partitions, %.2f s; store %s, checkpoint %s %s%n",
                    config.kernel(), r.rowsDone(), r.rowsComputed(), r.partitions(), r.seconds(), r.store(), r.checkpoint(),
                    r.complete() ? "complete" : "incomplete");
            w.flush();
            return r.complete() ? 0 : 1;
        }
    }
}
