package org.projntk.spark.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.spark.api.java.JavaSparkContext;
import org.projntk.cli.GramOptions;
import org.projntk.spark.SparkKernels;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code projntk spark gram}: the kernel between two splits as tile tasks, into one .npy. */
@Command(name = "gram", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"The kernel between two splits of a store, one Spark task per group of tiles, into a float32 .npy.",
                "Store and output on a filesystem every executor sees."})
public final class SparkGramCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions spark;
    @Mixin GramOptions gram;
    @Mixin TileOption tile;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        // inputs and output checked before Spark starts: a bad one is one line, not a log
        org.projntk.kernel.StoreOperands.checkReadable(org.projntk.store.FeatureStore.open(gram.store()), gram.checkpoint(), gram.rows(), gram.cols());
        if (java.nio.file.Files.isDirectory(gram.out())) throw new IllegalArgumentException("the output " + gram.out() + " is a directory");
        try (SparkOptions.Session session = spark.start()) {
            JavaSparkContext sc = session.context();
            SparkKernels.GramResult r = SparkKernels.gram(sc, gram.store()).checkpoint(gram.checkpoint()).rows(gram.rows()).cols(gram.cols())
                    .normalization(gram.normalization()).tile(tile.tile).partitions(spark.partitions).write(gram.out());
            w.printf(Locale.ROOT, "spark gram %s x %s (normalize %s): [%d x %d] float32 -> %s, %d tiles in %d partitions, %.2f s (scale %.6g)%n",
                    gram.rows(), gram.cols(), gram.normalization().toString().toLowerCase(Locale.ROOT), r.rows(), r.cols(), r.file(), r.tiles(),
                    r.partitions(), r.seconds(), r.scale());
            w.flush();
            return 0;
        }
    }
}
