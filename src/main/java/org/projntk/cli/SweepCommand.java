package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.projntk.residual.ResidualSweep;
import org.projntk.residual.SweepTable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `projntk sweep`: exact trNTK against proj-trNTK and proj-pNTK for each K; writes sweep.csv and sweep.png. */
@Command(name = "sweep", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Residual of proj-trNTK and proj-pNTK against the exact trNTK for each K: sweep.csv and sweep.png with the "
                + "fitted decay. The exact per-class gradients of all examples are held in memory: keep the sets small.")
public final class SweepCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH|builtin:NAME", description = "TorchScript file or built-in model.")
    String model;

    @Option(names = "--train", required = true, paramLabel = "SPEC", description = "Dataset of the train examples.")
    String train;

    @Option(names = "--test", paramLabel = "SPEC", description = "Dataset of more examples (optional).")
    String test;

    @Option(names = "--dims", split = ",", defaultValue = "64,256,1024,4096", paramLabel = "K", description = "Projected dimensions.")
    List<Integer> dims;

    @Option(names = "--proj", defaultValue = "rademacher", description = "Projection: ${COMPLETION-CANDIDATES}.")
    Choices.SweepProjector proj;

    @Option(names = "--seed", defaultValue = "0", description = "First projection seed.")
    long seed;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "R", description = "Seeds averaged per K.")
    int repeats;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        SweepTable table = ResidualSweep.write(ResidualSweep.Options.builder().model(model).train(train).test(test).dims(dims)
                .projector(proj.kind).seed(seed).repeats(repeats).build(), out, w::println);
        ResidualSweep.describe(table).forEach(w::println);
        w.println("sweep: wrote " + out.resolve("sweep.csv") + " and " + out.resolve("sweep.png"));
        return 0;
    }
}
