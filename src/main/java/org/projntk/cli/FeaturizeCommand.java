package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.projntk.GemmPrecision;
import org.projntk.data.DatasetSpec;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;

import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
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

    @Mixin FeaturizeOptions featurize;

    @Option(names = "--gpu", defaultValue = "0", paramLabel = "N", description = "With --device cuda: the GPU's ordinal.")
    int gpu;

    @Option(names = "--precision", defaultValue = "fp32", completionCandidates = Choices.Precisions.class,
            description = "Projection arithmetic on CUDA: ${COMPLETION-CANDIDATES} (fp32: strict float32; tf32: tensor cores, "
                    + "relative error ~1e-3). The CPU always computes in float32. Recorded in the store.")
    GemmPrecision precision;

    @Option(names = "--shard", defaultValue = "0/1", paramLabel = "i/n", converter = ShardConverter.class,
            description = "This process's share of the rows: shard i of n.")
    Shard shard;

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
        Choices.checkGpu(spec, featurize.device(), gpu);
        return featurize.builder(this::dataset).gpu(gpu).precision(precision).shard(shard.index(), shard.count()).config();
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
