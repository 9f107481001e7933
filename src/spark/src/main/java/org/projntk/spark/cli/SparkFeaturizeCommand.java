package org.projntk.spark.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;

import org.apache.spark.api.java.JavaSparkContext;
import org.projntk.cli.FeaturizeOptions;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.spark.SparkFeaturize;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code projntk spark featurize}: the options of {@code projntk featurize} that it shares ({@link FeaturizeOptions}: no
 * --shard, --gpu, --precision, --tokenizer or output selection), as a Spark job.
 */
@Command(name = "featurize", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Projected per-example gradients into a feature store, one Spark task per shard of the batch grid.",
                "The store must be on a filesystem every executor sees. Rerunning resumes."})
public final class SparkFeaturizeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions spark;
    @Mixin FeaturizeOptions featurize;

    FeaturizeConfig config() {
        return featurize.builder(UnaryOperator.identity()).config();
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
