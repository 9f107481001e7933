package org.projntk.spark.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.spark.api.java.JavaSparkContext;
import org.projntk.cli.SimilarOptions;
import org.projntk.spark.SparkKernels;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code projntk spark similar}: top-k train examples per test row, merged across column tiles. */
@Command(name = "similar", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"similar.csv (test_index,rank,train_index,score), one Spark task per group of tiles; no image grid.",
                "Store and output on a filesystem every executor sees."})
public final class SparkSimilarCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions spark;
    @Mixin SimilarOptions similar;
    @Mixin TileOption tile;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        // inputs and output checked before Spark starts: a bad one is one line, not a log
        org.projntk.kernel.StoreOperands.checkReadable(org.projntk.store.FeatureStore.open(similar.store()), similar.checkpoint(),
                similar.trainSplit(), similar.testSplit());
        if (java.nio.file.Files.exists(similar.out()) && !java.nio.file.Files.isDirectory(similar.out())) {
            throw new IllegalArgumentException("the output " + similar.out() + " is not a directory");
        }
        try (SparkOptions.Session session = spark.start()) {
            JavaSparkContext sc = session.context();
            SparkKernels.SimilarResult r = SparkKernels.similar(sc, similar.store()).checkpoint(similar.checkpoint())
                    .train(similar.trainSplit()).test(similar.testSplit()).k(similar.top()).normalization(similar.normalization())
                    .tile(tile.tile).partitions(spark.partitions).write(similar.out());
            w.printf(Locale.ROOT, "spark similar: top-%d of %d %s rows for %d %s rows -> %s, %d tiles in %d partitions, %.2f s%n",
                    r.k(), r.trainRows(), similar.trainSplit(), r.testRows(), similar.testSplit(), r.csv(), r.tiles(), r.partitions(), r.seconds());
            w.flush();
            return 0;
        }
    }
}
