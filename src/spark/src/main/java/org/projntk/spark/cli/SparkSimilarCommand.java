package org.projntk.spark.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.spark.api.java.JavaSparkContext;
import org.projntk.kernel.KernelNormalization;
import org.projntk.spark.SparkKernels;

import org.projntk.cli.CheckpointOption;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code projntk spark similar}: top-k train examples per test row, merged across column tiles. */
@Command(name = "similar", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "similar.csv (test_index,rank,train_index,score), one Spark task per group of tiles; no image grid.")
public final class SparkSimilarCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions spark;

    @Option(names = "--store", required = true, paramLabel = "DIR", description = "Feature store (on a shared filesystem).")
    Path store;
    @Option(names = "--top", defaultValue = "5", paramLabel = "k", description = "Examples per test row.")
    int top;
    @Option(names = "--normalize", defaultValue = "cosine", description = "cosine, none or std.")
    String normalize;
    @Option(names = "--train-split", defaultValue = "train", paramLabel = "SPLIT", description = "Split searched.")
    String trainSplit;
    @Option(names = "--test-split", defaultValue = "test", paramLabel = "SPLIT", description = "Split of the query rows.")
    String testSplit;
    @Mixin CheckpointOption checkpoint;
    @Mixin TileOption tile;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder for similar.csv.")
    Path out;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        // inputs and output checked before Spark starts: a bad one is one line, not a log
        org.projntk.kernel.StoreOperands.checkReadable(org.projntk.store.FeatureStore.open(store), checkpoint.id(), trainSplit, testSplit);
        if (java.nio.file.Files.exists(out) && !java.nio.file.Files.isDirectory(out)) {
            throw new IllegalArgumentException("the output " + out + " is not a directory");
        }
        try (SparkOptions.Session session = spark.start()) {
            JavaSparkContext sc = session.context();
            SparkKernels.SimilarResult r = SparkKernels.similar(sc, store).checkpoint(checkpoint.id()).train(trainSplit).test(testSplit)
                    .k(top).normalization(KernelNormalization.parse(normalize)).tile(tile.tile).partitions(spark.partitions).write(out);
            w.printf(Locale.ROOT, "spark similar: top-%d of %d %s rows for %d %s rows -> %s, %d tiles in %d partitions, %.2f s%n",
                    r.k(), r.trainRows(), trainSplit, r.testRows(), testSplit, r.csv(), r.tiles(), r.partitions(), r.seconds());
            w.flush();
            return 0;
        }
    }
}
