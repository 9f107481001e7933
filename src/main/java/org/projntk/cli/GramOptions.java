package org.projntk.cli;

import java.nio.file.Path;

import org.projntk.kernel.KernelNormalization;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options of {@code projntk gram} that {@code projntk spark gram} shares (a picocli mixin). */
public final class GramOptions {
    @Option(names = "--store", required = true, paramLabel = "DIR", description = "Feature store (featurize --out).")
    Path store;

    @Option(names = "--rows", defaultValue = "train", paramLabel = "SPLIT", description = "Split of the kernel's rows.")
    String rows;

    @Option(names = "--cols", defaultValue = "train", paramLabel = "SPLIT", description = "Split of the kernel's columns.")
    String cols;

    @Mixin CheckpointOption checkpoint;

    @Mixin KernelNormalizationOption normalize = new KernelNormalizationOption(KernelNormalization.NONE);

    @Option(names = "--out", required = true, paramLabel = "FILE.npy", description = "Output kernel [rows x cols], float32.")
    Path out;

    public Path store() {
        return store;
    }

    public String rows() {
        return rows;
    }

    public String cols() {
        return cols;
    }

    /** The checkpoint asked for, or null for the store's first complete one. */
    public String checkpoint() {
        return checkpoint.id();
    }

    public KernelNormalization normalization() {
        return normalize.value();
    }

    public Path out() {
        return out;
    }
}
