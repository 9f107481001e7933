package org.projntk.spark.cli;

import java.util.Locale;
import java.util.concurrent.Callable;

import org.projntk.cli.ScoreOptions;
import org.projntk.spark.SparkScores;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code projntk spark score}: the options of {@code projntk score}, as a Spark block job writing the same .npy. */
@Command(name = "score", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"TRAK attribution scores [n_test x n_train] from a margin store: XᵀX over row blocks and the score tiles as Spark tasks,",
                "into the float32 .npy `projntk score` writes (same bytes). Store and output on a filesystem every executor sees."})
public final class SparkScoreCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions spark;
    @Mixin ScoreOptions score;

    @Override
    public Integer call() {
        // inputs and output checked before Spark starts: a bad one is one line, not a log
        org.projntk.kernel.StoreOperands.checkReadable(org.projntk.store.FeatureStore.open(score.store), null);
        if (java.nio.file.Files.isDirectory(score.out)) throw new IllegalArgumentException("the output " + score.out + " is a directory");
        try (SparkOptions.Session session = spark.start()) {
            SparkScores.Result r = SparkScores.score(session.context(), score.store, score.options(), spark.partitions, score.out);
            score.print(spec.commandLine().getOut(), "spark score", r.scores(),
                    String.format(Locale.ROOT, "; %d XᵀX tasks, %d tiles in %d partitions;", r.gramTasks(), r.tiles(), r.partitions()));
            return 0;
        }
    }
}
