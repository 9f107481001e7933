package org.projntk.cli;

import java.nio.file.Path;

import org.projntk.kernel.KernelNormalization;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options of {@code projntk similar} that {@code projntk spark similar} shares (a picocli mixin). */
public final class SimilarOptions {
    @Option(names = "--store", required = true, paramLabel = "DIR", description = "Feature store (featurize --out).")
    Path store;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "Neighbours per test example.")
    int top;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Mixin KernelNormalizationOption normalize = new KernelNormalizationOption(KernelNormalization.COSINE);

    @Mixin CheckpointOption checkpoint;

    @Option(names = "--train-split", defaultValue = "train", paramLabel = "SPLIT", description = "Split searched for neighbours.")
    String trainSplit;

    @Option(names = "--test-split", defaultValue = "test", paramLabel = "SPLIT", description = "Split whose examples are queried.")
    String testSplit;

    public Path store() {
        return store;
    }

    /** Neighbours per test example. */
    public int top() {
        return top;
    }

    public Path out() {
        return out;
    }

    public KernelNormalization normalization() {
        return normalize.value();
    }

    /** The checkpoint asked for, or null for the store's first complete one. */
    public String checkpoint() {
        return checkpoint.id();
    }

    public String trainSplit() {
        return trainSplit;
    }

    public String testSplit() {
        return testSplit;
    }
}
