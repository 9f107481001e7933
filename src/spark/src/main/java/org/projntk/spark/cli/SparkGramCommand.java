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

/** {@code projntk spark gram}: the kernel between two splits as tile tasks, into one .npy. */
@Command(name = "gram", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "The kernel between two splits of a store, one Spark task per group of tiles, into a float32 .npy.")
public final class SparkGramCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions spark;

    @Option(names = "--store", required = true, paramLabel = "DIR", description = "Feature store (on a shared filesystem).")
    Path store;
    @Option(names = "--rows", defaultValue = "train", paramLabel = "SPLIT", description = "Split of the kernel rows.")
    String rows;
    @Option(names = "--cols", defaultValue = "train", paramLabel = "SPLIT", description = "Split of the kernel columns.")
    String cols;
    @Option(names = "--normalize", defaultValue = "none", description = "none, cosine or std.")
    String normalize;
    @Mixin CheckpointOption checkpoint;
    @Mixin TileOption tile;
    @Option(names = "--out", required = true, paramLabel = "FILE.npy", description = "Output .npy (visible to every executor).")
    Path out;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        // inputs and output checked before Spark starts: a bad one is one line, not a log
        org.projntk.kernel.StoreOperands.checkReadable(org.projntk.store.FeatureStore.open(store), checkpoint.id(), rows, cols);
        if (java.nio.file.Files.isDirectory(out)) throw new IllegalArgumentException("the output " + out + " is a directory");
        try (SparkOptions.Session session = spark.start()) {
            JavaSparkContext sc = session.context();
            SparkKernels.GramResult r = SparkKernels.gram(sc, store).checkpoint(checkpoint.id()).rows(rows).cols(cols)
                    .normalization(KernelNormalization.parse(normalize)).tile(tile.tile).partitions(spark.partitions).write(out);
            w.printf(Locale.ROOT, "spark gram %s x %s (normalize %s): [%d x %d] float32 -> %s, %d tiles in %d partitions, %.2f s (scale %.6g)%n",
                    rows, cols, normalize, r.rows(), r.cols(), r.file(), r.tiles(), r.partitions(), r.seconds(), r.scale());
            w.flush();
            return 0;
        }
    }
}
