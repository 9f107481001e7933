package org.projntk.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.Callable;

import org.projntk.featurize.FeaturizeConfig;
import org.projntk.torch.Builtins;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import static org.projntk.cli.BenchCommand.randomSegment;
import static org.projntk.cli.BenchCommand.timeIt;

/** `projntk bench gradient`: per-example gradient throughput of each strategy. */
@Command(name = "gradient", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Per-example gradients of random inputs, as JSON lines "
                + "(model, P, B, kernel, strategy, device, examples_per_s, and the CPU).")
public final class BenchGradientCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", defaultValue = "builtin:cnn-fmnist", paramLabel = "PATH|builtin:NAME", description = "Model.")
    String modelSpec;

    @Option(names = "--B", split = ",", defaultValue = "64", description = "Batch sizes.")
    List<Integer> batches;

    @Option(names = "--grad", split = ",", defaultValue = "functional,iterative", completionCandidates = Choices.GradStrategies.class,
            description = "Strategies: ${COMPLETION-CANDIDATES}.")
    List<GradStrategy> strategies;

    @Option(names = "--kernel", defaultValue = "pntk",
            description = "Gradients per example: ${COMPLETION-CANDIDATES} (pntk: of the sum of logits; trntk and entk: one per class; "
                    + "margin: TRAK's margin, with labels i mod C).")
    Choices.FeatureKernel kernel;

    @Option(names = "--device", defaultValue = "cpu", completionCandidates = Choices.Devices.class, description = "${COMPLETION-CANDIDATES}.")
    Device device;

    @Option(names = "--gpu", defaultValue = "0", paramLabel = "N", description = "With --device cuda: the GPU's ordinal.")
    int gpu;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the model and the inputs.")
    long seed;

    @Option(names = "--input-shape", paramLabel = "DxDx..", description = "Shape of one example, e.g. 1x28x28 (default: the built-in's).")
    String shapeText;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        HostCpu host = HostCpu.read();
        long[] example = shapeText != null ? parseShape(shapeText) : Builtins.inputShape(modelSpec);
        Choices.checkGpu(spec, device, gpu);
        try (Model model = Model.open(modelSpec, seed, device, gpu); Arena arena = Arena.ofConfined()) {
            long params = model.parameterCount();
            for (int b : batches) {
                long[] shape = new long[example.length + 1];
                shape[0] = b;
                long n = b;
                for (int i = 0; i < example.length; i++) {
                    shape[i + 1] = example[i];
                    n *= example[i];
                }
                MemorySegment x = randomSegment(arena, n, seed + b);
                OutputKind output = FeaturizeConfig.outputKind(kernel.toString());
                long[] labels = null;
                if (output == OutputKind.MARGIN) {
                    int classes = model.numClasses(example);
                    labels = new long[b];
                    for (int i = 0; i < b; i++) labels[i] = i % classes;
                }
                long[] y = labels;
                for (GradStrategy strategy : strategies) {
                    double seconds = timeIt(() -> Gradients.compute(model, x, shape, y, output, strategy, 0, true,
                            (o, ro, rows, po, cols, block) -> { }));
                    ObjectNode o = JsonLine.object().put("model", modelSpec).put("P", params).put("B", b)
                            .put("kernel", kernel.toString()).put("strategy", Choices.cliName(strategy))
                            .put("device", device.label(gpu)).put("examples_per_s", b / seconds);
                    out.println(JsonLine.of(host.addTo(o)));
                    out.flush();
                }
            }
        }
        return 0;
    }

    private static long[] parseShape(String text) {
        String[] parts = text.split("[x,]");
        long[] shape = new long[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) shape[i] = Long.parseLong(parts[i].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--input-shape expects sizes like 1x28x28, got '" + text + "'");
        }
        return shape;
    }
}
