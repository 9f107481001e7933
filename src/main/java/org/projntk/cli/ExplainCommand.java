package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.projntk.analysis.ExampleExplanation;
import org.projntk.analysis.Surrogates;
import org.projntk.kernel.Normalization;
import org.projntk.store.FeatureStore;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `projntk explain`: the train examples behind the surrogate's prediction for one test example. */
@Command(name = "explain", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "The training examples that push the surrogate's prediction for one test example most (weight x kernel), "
                + "supporting and opposing.")
public final class ExplainCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--store", required = true, paramLabel = "DIR", description = "Feature store with train and test splits.")
    Path store;

    @Option(names = "--test-index", required = true, paramLabel = "I", description = "Row of the test split to explain.")
    int testIndex;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "Train examples listed each way.")
    int top;

    @Option(names = "--out", paramLabel = "FILE.png", description = "Also draw the test image and its supporting train images.")
    Path png;

    @Option(names = "--model", paramLabel = "PATH|builtin:NAME", description = "The network (default: the checkpoint's model).")
    String model;

    @Option(names = "--checkpoint", paramLabel = "ID", description = "Checkpoint (default: the first complete one).")
    String checkpoint;

    @Option(names = "--normalize", defaultValue = "cosine", completionCandidates = Choices.KernelNormalizations.class,
            description = "Kernel normalisation: ${COMPLETION-CANDIDATES}.")
    Normalization normalize;

    @Option(names = "--lambda", defaultValue = "" + Surrogates.DEFAULT_LAMBDA, paramLabel = "X", description = "L2 penalty of the surrogate.")
    double lambda;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Surrogates.Fit fit = Surrogates.fit(FeatureStore.open(store),
                new Surrogates.Options(checkpoint, model, normalize, lambda, "train", "test"), line -> { });
        ExampleExplanation e = ExampleExplanation.of(fit, testIndex, top);
        e.lines().forEach(out::println);
        if (png != null) {
            e.writeGrid(fit, png);
            out.println("explain: image grid -> " + png);
        }
        return 0;
    }
}
