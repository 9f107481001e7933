package org.projntk.cli;

import org.projntk.kernel.KernelNormalization;
import org.projntk.surrogate.StoreSurrogate;
import org.projntk.surrogate.Surrogates;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The surrogate-fit options shared by `surrogate` and `explain` (a picocli mixin). */
final class SurrogateOptions {
    @Option(names = "--model", paramLabel = "PATH|builtin:NAME",
            description = "Another spec of the recorded network (its checksum must match; default: the one in the manifest).")
    String model;

    @Mixin CheckpointOption checkpoint;

    @Mixin KernelNormalizationOption normalize = new KernelNormalizationOption(KernelNormalization.COSINE);

    @Option(names = "--lambda", defaultValue = "" + Surrogates.DEFAULT_LAMBDA, paramLabel = "X", description = "L2 penalty, relative to the kernel's scale.")
    double lambda;

    @Option(names = "--targets", defaultValue = "labels", completionCandidates = Choices.SurrogateTargets.class,
            description = "What the kernel GLM is fitted to: ${COMPLETION-CANDIDATES} (labels: the true train labels, as in the paper).")
    StoreSurrogate.Targets targets;

    @Option(names = "--class-weight", defaultValue = "balanced", completionCandidates = Choices.ClassWeights.class,
            description = "Class weights of the fit: ${COMPLETION-CANDIDATES}.")
    StoreSurrogate.ClassWeight classWeight;

    @Option(names = "--max-iterations", defaultValue = "300", paramLabel = "N", description = "L-BFGS iterations at most.")
    int maxIterations;

    @Option(names = "--products", defaultValue = "auto", completionCandidates = Choices.KernelProducts.class,
            description = "Kernel products: ${COMPLETION-CANDIDATES} (features: matrix-free; auto: dense when cheaper and small).")
    StoreSurrogate.Products products;

    Surrogates.Options options() {
        return Surrogates.Options.builder().checkpoint(checkpoint.id()).model(model).normalization(normalize.value()).lambda(lambda)
                .targets(targets).classWeight(classWeight).maxIterations(maxIterations).products(products).build();
    }
}
