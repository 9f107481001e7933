package org.projntk.spark.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code projntk spark featurize|gram|similar|score}: the store-building, kernel and attribution commands as Spark jobs (docs/spark.md). */
@Command(name = "spark", mixinStandardHelpOptions = true,
        description = {"projntk jobs on Apache Spark: featurize, gram, similar and score over a store on a shared filesystem.",
                "Results equal the single-process commands byte for byte."},
        subcommands = {SparkFeaturizeCommand.class, SparkGramCommand.class, SparkSimilarCommand.class, SparkScoreCommand.class})
public final class SparkCommand {
    public static void main(String[] args) {
        System.exit(new CommandLine(new SparkCommand()).execute(args));
    }
}
