package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.projntk.kernel.KernelNormalization;
import org.projntk.store.FeatureStore;
import org.projntk.surrogate.Surrogates;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `projntk surrogate`: a kernel GLM fitted to the network, and how faithful it is. */
@Command(name = "surrogate", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Fits a kernel GLM to the network's train predictions and reports test accuracies, their differential, "
                + "Kendall tau and per-class metrics.")
public final class SurrogateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--store", required = true, paramLabel = "DIR", description = "Feature store with train and test splits.")
    Path store;

    @Mixin SurrogateOptions fitOptions;

    @Option(names = "--json", description = "Print the report as one JSON object (and nothing else).")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Surrogates.Options options = fitOptions.options();
        Surrogates.Fit fit = Surrogates.fit(FeatureStore.open(store), options, json ? line -> { } : out::println);
        if (json) {
            out.println(fit.report().toJson());
        } else {
            Surrogates.describe(fit.report()).forEach(out::println);
        }
        return 0;
    }
}
