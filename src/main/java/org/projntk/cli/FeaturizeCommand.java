package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import org.projntk.GemmPrecision;
import org.projntk.project.Projection;
import org.projntk.featurize.Kernel;
import org.projntk.featurize.Featurize;
import org.projntk.data.DatasetSpec;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;

import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** `projntk featurize`: projected per-example gradients of train and test splits into a feature store. */
@Command(name = "featurize", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Projected per-example gradients of a model into a feature store (.npy files numpy reads).",
                "Kill it at any time: the same command resumes. Shards (--shard i/n) may run in parallel into one store."})
public final class FeaturizeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

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

    @Option(names = "--gpu", defaultValue = "0", paramLabel = "N", description = "With --device cuda: the GPU's ordinal.")
    int gpu;

    @Option(names = "--precision", defaultValue = "fp32", completionCandidates = Choices.Precisions.class,
            description = "Projection arithmetic on CUDA: ${COMPLETION-CANDIDATES} (fp32: strict float32; tf32: tensor cores, "
                    + "relative error ~1e-3). The CPU always computes in float32. Recorded in the store.")
    GemmPrecision precision;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "B", description = "Examples per batch.")
    int batch;

    @Option(names = "--grad", defaultValue = "auto", completionCandidates = Choices.GradStrategies.class,
            description = "Per-example gradients: ${COMPLETION-CANDIDATES} (auto: functional, falling back to iterative).")
    GradStrategy grad;

    @Option(names = "--shard", defaultValue = "0/1", paramLabel = "i/n", converter = ShardConverter.class,
            description = "This process's share of the rows: shard i of n.")
    Shard shard;

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

    @Option(names = "--output-index", defaultValue = "0", paramLabel = "I",
            description = "When forward returns a tuple or list: the element holding the logits.")
    int outputIndex;

    @Option(names = "--output-key", paramLabel = "KEY",
            description = "When forward returns a dict: the key of the logits (default: logits).")
    String outputKey;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "Hugging Face tokenizer.json: --train/--test are then LABEL<TAB>TEXT files (TEXTS.tsv[a:b]), tokenized to ids + mask.")
    Path tokenizer;

    @Option(names = "--max-length", defaultValue = "128", paramLabel = "N", description = "Tokens per text with --tokenizer (padded or cut).")
    int maxLength;

    record Shard(int index, int count) {}

    static final class ShardConverter implements ITypeConverter<Shard> {
        @Override
        public Shard convert(String text) {
            String[] parts = text.split("/");
            try {
                if (parts.length == 2) return new Shard(Integer.parseInt(parts[0].strip()), Integer.parseInt(parts[1].strip()));
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new TypeConversionException("'" + text + "' is not i/n (e.g. 0/4)");
        }
    }

    FeaturizeConfig config() {
        Choices.checkGpu(spec, device, gpu);
        Featurize f = Featurize.of(model).modelSeed(modelSeed).device(device).gpu(gpu).precision(precision).checkpoint(checkpoint)
                .train(dataset(train))
                .kernel(Kernel.parse(kernel.toString())).projection(new Projection(proj.kind, dim, seed, modelId, sjltS, unscaled))
                .dtype(Featurize.Dtype.valueOf(dtype.toString().toUpperCase(java.util.Locale.ROOT))).batchSize(batch).gradients(grad)
                .shard(shard.index(), shard.count()).inputNormalization(normalize).maxBlockBytes(maxBlockBytes).into(out);
        if (test != null) f.test(dataset(test));
        if (params != null) f.parameters(params);
        return f.config();
    }

    /** A split's dataset spec: as given, or with --tokenizer a text file (and its row range) as a text: spec. */
    String dataset(String given) {
        if (tokenizer == null) return given;
        int bracket = given.indexOf('[');
        String file = bracket < 0 ? given : given.substring(0, bracket);
        String range = bracket < 0 ? "" : given.substring(bracket);
        return DatasetSpec.text(Path.of(file), tokenizer, maxLength) + range;
    }

    @Override
    public Integer call() {
        FeaturizeConfig config = config();
        PrintWriter w = spec.commandLine().getOut();
        Progress progress = new Progress(w);
        Featurizer.Result result = Featurizer.run(config, outputIndex, outputKey, new Featurizer.Listener() {
            @Override
            public void progress(String split, long done, long total, long thisRun, double seconds) {
                progress.update(config.kernel() + " " + split, done, total, thisRun, seconds);
            }

            @Override
            public void message(String text) {
                progress.message(text);
            }
        });
        progress.message(String.format("featurize %s: %d rows computed this run (%s gradients), store %s, checkpoint %s %s",
                config.kernel(), result.rowsComputed(), result.strategyUsed().toString().toLowerCase(java.util.Locale.ROOT), config.out(), config.checkpoint(),
                result.complete() ? "complete" : "incomplete (other shards pending)"));
        return 0;
    }
}
