package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.projntk.kernel.KernelNormalization;
import org.projntk.store.FeatureStore;
import org.projntk.surrogate.ExampleExplanation;
import org.projntk.surrogate.Surrogates;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Mixin SurrogateOptions fitOptions;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Surrogates.Fit fit = Surrogates.fit(FeatureStore.open(store),
                fitOptions.options(), line -> { });
        ExampleExplanation e = ExampleExplanation.of(fit, testIndex, top);
        e.lines().forEach(out::println);
        if (png != null) {
            e.writeGrid(fit, png);
            out.println("explain: image grid -> " + png);
        }
        return 0;
    }
}
