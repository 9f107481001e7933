package org.projntk.cli;

import java.util.Locale;
import java.util.concurrent.Callable;

import org.projntk.GemmPrecision;
import org.projntk.kernel.GramFiles;
import org.projntk.workflow.Store;
import org.projntk.torch.Device;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `projntk gram`: a kernel between two splits of a store, streamed into a .npy. */
@Command(name = "gram", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "The kernel between two splits of a feature store, streamed tile by tile into a float32 .npy "
                + "(written as FILE.tmp and renamed when complete).")
public final class GramCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin GramOptions gram;

    @Option(names = "--device", defaultValue = "cpu", completionCandidates = Choices.Devices.class,
            description = "Where the tiles are computed: ${COMPLETION-CANDIDATES}.")
    Device device;

    @Option(names = "--precision", defaultValue = "fp32", completionCandidates = Choices.Precisions.class,
            description = "GEMM arithmetic on CUDA: ${COMPLETION-CANDIDATES} (fp32: strict float32; tf32: tensor cores, "
                    + "relative error ~1e-3). Only matters with --device cuda; the CPU always computes in float32.")
    GemmPrecision precision;

    @Option(names = "--gpu", defaultValue = "0", paramLabel = "N", description = "With --device cuda: the GPU's ordinal.")
    int gpu;

    @Override
    public Integer call() {
        Choices.checkGpu(spec, device, gpu);
        Store opened = Store.open(gram.store());
        if (gram.checkpoint() != null) opened = opened.at(gram.checkpoint());
        GramFiles.Written w = opened.gram().rows(gram.rows()).cols(gram.cols()).normalization(gram.normalization()).device(device)
                .precision(precision).gpu(gpu).write(gram.out());
        spec.commandLine().getOut().printf(Locale.ROOT, "gram %s %s x %s (%s, normalize %s): [%d x %d] float32 -> %s in %.2f s (scale %.6g)%n",
                Choices.cliName(w.kind()), w.rowsSplit(), w.colsSplit(), w.checkpoint(), Choices.cliName(w.normalization()),
                w.result().rows(), w.result().cols(), w.file(), w.seconds(), w.result().scale());
        return 0;
    }
}
