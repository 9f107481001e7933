package org.projntk.cli;

import org.projntk.kernel.KernelNormalization;

import picocli.CommandLine.Option;

/**
 * {@code --normalize}: the kernel's normalisation, for the kernel commands and their Spark twins (a picocli mixin).
 * Its default is the field's initial value, given by the command (picocli's default for an option with no
 * defaultValue); the CLI shows and parses it in its own spelling (Main).
 */
public final class KernelNormalizationOption {
    @Option(names = "--normalize", completionCandidates = Choices.KernelNormalizations.class,
            description = "Kernel normalisation: ${COMPLETION-CANDIDATES}.")
    KernelNormalization normalize;

    /** The option, defaulting to {@code byDefault}. */
    public KernelNormalizationOption(KernelNormalization byDefault) {
        normalize = java.util.Objects.requireNonNull(byDefault, "default");
    }

    /** The normalisation asked for. */
    public KernelNormalization value() {
        return normalize;
    }
}
