package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.projntk.kernel.KernelNormalization;
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

    @Option(names = "--store", required = true, paramLabel = "DIR", description = "Feature store (featurize --out).")
    Path store;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "Neighbours per test example.")
    int top;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Option(names = "--normalize", defaultValue = "cosine", completionCandidates = Choices.KernelNormalizations.class,
            description = "Kernel normalisation: ${COMPLETION-CANDIDATES}.")
    KernelNormalization normalize;

    @Mixin CheckpointOption checkpoint;

    @Option(names = "--images", defaultValue = "8", paramLabel = "N", description = "Test examples in the PNG grid (0: none).")
    int images;

    @Option(names = "--train-split", defaultValue = "train", paramLabel = "SPLIT", description = "Split searched for neighbours.")
    String trainSplit;

    @Option(names = "--test-split", defaultValue = "test", paramLabel = "SPLIT", description = "Split whose examples are queried.")
    String testSplit;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        SimilarExamples.write(FeatureStore.open(store), SimilarExamples.Options.builder().checkpoint(checkpoint.id()).k(top)
                .normalization(normalize).images(images).trainSplit(trainSplit).testSplit(testSplit).build(), out, w::println);
        return 0;
    }
}
