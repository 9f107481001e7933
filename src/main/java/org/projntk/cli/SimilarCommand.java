package org.projntk.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import org.projntk.similar.SimilarExamples;
import org.projntk.store.FeatureStore;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `projntk similar`: top-k similar train examples of every test example. */
@Command(name = "similar", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "The k most similar train examples of every test example: similar.csv (test_index,rank,train_index,score) "
                + "and, for images, a PNG grid similar.png.")
public final class SimilarCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin SimilarOptions similar;

    @Option(names = "--images", defaultValue = "8", paramLabel = "N", description = "Test examples in the PNG grid (0: none).")
    int images;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        SimilarExamples.write(FeatureStore.open(similar.store()), SimilarExamples.Options.builder().checkpoint(similar.checkpoint())
                .k(similar.top()).normalization(similar.normalization()).images(images).trainSplit(similar.trainSplit())
                .testSplit(similar.testSplit()).build(), similar.out(), w::println);
        return 0;
    }
}
