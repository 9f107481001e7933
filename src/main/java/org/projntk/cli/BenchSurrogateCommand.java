package org.projntk.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.projntk.kernel.KernelKind;
import org.projntk.surrogate.SurrogateTiming;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `projntk bench-surrogate`: the dense and the matrix-free kernel GLM side by side, JSON lines. */
@Command(name = "bench-surrogate", mixinStandardHelpOptions = true,
        description = "Time the surrogate fitted through a dense N x N kernel against the matrix-free one (same features, same iterations).")
public final class BenchSurrogateCommand implements Callable<Integer> {
    @Option(names = "--N", split = ",", description = "train rows (default 5000,20000)")
    List<Integer> trainRows = List.of(5000, 20000);

    @Option(names = "--T", description = "test rows (default 1000)")
    int testRows = 1000;

    @Option(names = "--K", description = "feature dimension (default 2048)")
    int dim = 2048;

    @Option(names = "--C", description = "classes (default 10)")
    int classes = 10;

    @Option(names = "--kernel", split = ",", description = "pntk and/or trntk (default pntk,trntk)")
    List<String> kernels = List.of("pntk", "trntk");

    @Option(names = "--iterations", description = "L-BFGS iterations for both paths (default 50)")
    int iterations = 50;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (testRows < 1 || dim < 1 || classes < 2 || iterations < 1) {
            throw new IllegalArgumentException("need T >= 1, K >= 1, C >= 2 and iterations >= 1");
        }
        SurrogateTiming.warmUp();
        for (String k : kernels) {
            KernelKind kind = KernelKind.parse(k);
            if (kind == KernelKind.ENTK) throw new IllegalArgumentException("bench-surrogate takes pntk or trntk");
            for (int n : trainRows) {
                if (n < classes) throw new IllegalArgumentException("--N " + n + " is smaller than the class count");
                spec.commandLine().getOut().println(SurrogateTiming.run(kind, n, testRows, dim, classes, iterations, 42).toJson());
                spec.commandLine().getOut().flush();
            }
        }
        return 0;
    }
}
