package org.projntk.spark.cli;

import picocli.CommandLine.Command;

/** {@code projntk spark featurize|gram|similar|score}: the store-building, kernel and attribution commands as Spark jobs (docs/spark.md). */
@Command(name = "spark", mixinStandardHelpOptions = true,
        description = {"projntk jobs on Apache Spark: featurize, gram, similar and score over a store on a shared filesystem.",
                "Results equal the single-process commands byte for byte."},
        subcommands = {SparkFeaturizeCommand.class, SparkGramCommand.class, SparkSimilarCommand.class, SparkScoreCommand.class})
public final class SparkCommand {
    /**
     * {@code projntk spark ARGS}: through the core CLI, so that errors are one line with the CLI's exit codes (2 for
     * usage, 1 at run time). The main class of bin/projntk-spark and of spark-submit.
     */
    public static void main(String[] args) {
        String[] all = new String[args.length + 1];
        all[0] = "spark";
        System.arraycopy(args, 0, all, 1, args.length);
        org.projntk.cli.Main.main(all);
    }
}
