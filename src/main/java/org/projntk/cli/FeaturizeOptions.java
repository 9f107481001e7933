package org.projntk.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.function.UnaryOperator;

import org.projntk.featurize.Featurize;
import org.projntk.featurize.Kernel;
import org.projntk.project.Projection;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;

import picocli.CommandLine.Option;

/**
 * The options of {@code projntk featurize} that {@code projntk spark featurize} shares (a picocli mixin), and the
 * featurize builder they describe; each command adds its own (shards, GPU and tokenizer; the Spark session).
 */
public final class FeaturizeOptions {
    @Option(names = "--model", required = true, paramLabel = "PATH|builtin:NAME", description = "TorchScript file or built-in model.")
    String model;

    @Option(names = "--train", required = true, paramLabel = "SPEC", description = "Dataset of the train split.")
    String train;

    @Option(names = "--test", paramLabel = "SPEC", description = "Dataset of the test split (optional).")
    String test;

    @Option(names = "--kernel", defaultValue = "trntk",
            description = "Gradients per example: ${COMPLETION-CANDIDATES} (pntk: of the sum of logits; trntk and entk: one per class; "
                    + "margin: TRAK's margin).")
    Choices.FeatureKernel kernel;

    @Option(names = "--proj", defaultValue = "rademacher", description = "Projection: ${COMPLETION-CANDIDATES} (none: exact gradients, K = P).")
    Choices.Projector proj;

    @Option(names = "--dim", defaultValue = "2048", paramLabel = "K", description = "Projected dimension.")
    int dim;

    @Option(names = "--seed", defaultValue = "0", description = "Projection seed.")
    long seed;

    @Option(names = "--checkpoint", defaultValue = "0", paramLabel = "ID", description = "Name of this model checkpoint in the store.")
    String checkpoint;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Feature store folder (created, or resumed).")
    Path out;

    @Option(names = "--device", defaultValue = "cpu", completionCandidates = Choices.Devices.class,
            description = "Where gradients and projections run: ${COMPLETION-CANDIDATES}.")
    Device device;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "B", description = "Examples per batch.")
    int batch;

    @Option(names = "--grad", defaultValue = "auto", completionCandidates = Choices.GradStrategies.class,
            description = "Per-example gradients: ${COMPLETION-CANDIDATES} (auto: functional, falling back to iterative).")
    GradStrategy grad;

    @Option(names = "--params", paramLabel = "PREFIXES", description = "Only parameters whose names start with one of these (comma-separated).")
    String params;

    @Option(names = "--dtype", defaultValue = "float32", description = "Stored element type: ${COMPLETION-CANDIDATES}.")
    Choices.FeatureDtype dtype;

    @Option(names = "--sjlt-s", defaultValue = "" + ProjectorSpec.DEFAULT_SJLT_S, paramLabel = "S", description = "Non-zeros per column of the SJLT.")
    int sjltS;

    @Option(names = "--unscaled", description = "TRAK's convention: no 1/sqrt(K) scaling.")
    boolean unscaled;

    @Option(names = "--normalize", paramLabel = "default|none|unit|standard|standard:M,..:S,..",
            description = "Input normalisation (default: bytes to [0,1], .npy as stored).")
    String normalize;

    @Option(names = "--model-seed", defaultValue = "0", description = "Initialisation seed of a built-in model.")
    long modelSeed;

    @Option(names = "--model-id", defaultValue = "0", description = "Model id mixed into the projection seed.")
    long modelId;

    @Option(names = "--max-block-bytes", defaultValue = "" + Gradients.DEFAULT_MAX_BLOCK_BYTES, paramLabel = "N",
            description = "Largest gradient block handed to the projector at once.")
    long maxBlockBytes;

    /** The device the gradients run on. */
    public Device device() {
        return device;
    }

    /**
     * The featurize these options describe: the train split, then the test split if given, each dataset spec
     * through {@code dataset} (a command's own forms, e.g. text files with a tokenizer).
     */
    public Featurize builder(UnaryOperator<String> dataset) {
        Featurize f = Featurize.of(model).modelSeed(modelSeed).device(device).checkpoint(checkpoint)
                .train(dataset.apply(train))
                .kernel(Kernel.parse(kernel.toString())).projection(new Projection(proj.kind, dim, seed, modelId, sjltS, unscaled))
                .dtype(Featurize.Dtype.valueOf(dtype.toString().toUpperCase(Locale.ROOT))).batchSize(batch).gradients(grad)
                .inputNormalization(normalize).maxBlockBytes(maxBlockBytes).into(out);
        if (test != null) f.test(dataset.apply(test));
        if (params != null) f.parameters(params);
        return f;
    }
}
