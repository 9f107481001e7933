package org.projntk.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Normalization;
import org.projntk.data.Npy;
import org.projntk.featurize.Featurize;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.featurize.Kernel;
import org.projntk.project.Projection;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Builtins;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import static org.projntk.cli.BenchCommand.randomSegment;
import static org.projntk.cli.BenchProjectionCommand.median;

/**
 * `projntk bench featurize`: an end-to-end featurize into a scratch store, its rate beside the host's projection
 * ceiling, and where the time goes. The shares come from timing the same batches again through gradients alone and
 * through the projector alone (a random block of the same shape); what remains of the featurize time is data, store
 * and other I/O. Those parts are timed separately, so on a loaded host they need not add up (share_other is then 0).
 */
@Command(name = "featurize", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"End-to-end featurize of random inputs (or --data) into a scratch store, as JSON lines: rows/s, the shares "
                + "of time in gradients, projection and the rest (data, store, I/O), and the host's projection ceiling "
                + "(its FMA peak, measured just before each timing, / 2·P·K·C flops per row; of_ceiling is the median of the rounds' ratios).",
                "Projectors are timed in interleaved rounds (order reversed every other round); lines give medians."})
public final class BenchFeaturizeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", defaultValue = "builtin:cnn-fmnist", paramLabel = "PATH|builtin:NAME", description = "Model.")
    String modelSpec;

    @Option(names = {"--dim", "--K"}, defaultValue = "2048", paramLabel = "K", description = "Projected dimension.")
    int dim;

    @Option(names = "--kernel", defaultValue = "trntk",
            description = "Gradients per example: ${COMPLETION-CANDIDATES}.")
    Choices.FeatureKernel kernel;

    @Option(names = "--proj", split = ",", defaultValue = "normal,rademacher",
            description = "Projectors, timed side by side: ${COMPLETION-CANDIDATES}.")
    List<Choices.Projector> projs;

    @Option(names = "--rows", defaultValue = "1024", description = "Rows featurized per timing.")
    int rows;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "B", description = "Examples per batch.")
    int batch;

    @Option(names = "--data", paramLabel = "SPEC",
            description = "Dataset (featurize's forms, e.g. fashion-mnist:train); default: random inputs of the built-in's shape.")
    String data;

    @Option(names = "--grad", defaultValue = "auto", completionCandidates = Choices.GradStrategies.class,
            description = "Per-example gradients: ${COMPLETION-CANDIDATES}.")
    GradStrategy grad;

    @Option(names = "--rounds", defaultValue = "1", description = "Interleaved timings of each projector.")
    int rounds;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the model, the inputs and the projection.")
    long seed;

    @Option(names = "--peak-seconds", defaultValue = "1.0", description = "Time spent measuring the FMA peak.")
    double peakSeconds;

    @Override
    public Integer call() throws IOException {
        if (rows < 1 || batch < 1 || rounds < 1 || dim < 1) {
            throw new ParameterException(spec.commandLine(), "--rows, --batch, --rounds and --dim must be at least 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        HostCpu host = HostCpu.read();
        Path scratch = Files.createTempDirectory("projntk-bench-featurize");
        try {
            String base = data != null ? data : randomDataset(scratch);
            String dataSpec = base + "[0:" + rows + "]";
            double[][] total = new double[projs.size()][rounds], grads = new double[projs.size()][rounds],
                    projection = new double[projs.size()][rounds], peaks = new double[projs.size()][rounds];
            long parameters = 0;
            int outputs = 0;
            GradStrategy used = null;
            // Warm-up: one batch through every projector, so class loading and the JIT are not timed.
            for (Choices.Projector proj : projs) {
                Path store = scratch.resolve("warm-up-" + proj);
                Featurizer.run(config(base + "[0:" + Math.min(batch, rows) + "]", proj, store), (split, done, all, run, sec) -> { });
                deleteTree(store);
            }
            for (int round = 0; round < rounds; round++) {
                for (int j = 0; j < projs.size(); j++) {
                    int pi = round % 2 == 0 ? j : projs.size() - 1 - j;
                    Choices.Projector proj = projs.get(pi);
                    Path store = scratch.resolve("store-" + round + "-" + proj);
                    FeaturizeConfig config = config(dataSpec, proj, store);
                    // The peak right before each featurize: on a shared host it moves with the load, and the ceiling
                    // must be taken from the same stretch of time as the rate.
                    peaks[pi][round] = Projector.cpuFmaPeakGflops(peakSeconds);
                    long start = System.nanoTime();
                    Featurizer.Result result = Featurizer.run(config, (split, done, all, run, sec) -> { });
                    total[pi][round] = (System.nanoTime() - start) / 1e9;
                    parameters = result.parameters();
                    outputs = result.outputs();
                    used = result.strategyUsed();
                    deleteTree(store);
                    grads[pi][round] = timeGradients(dataSpec, config);
                    projection[pi][round] = timeProjection(proj.kind, parameters, outputs);
                }
                if (rounds > 1) spec.commandLine().getErr().printf(Locale.ROOT, "round %d of %d done%n", round + 1, rounds);
            }
            for (int pi = 0; pi < projs.size(); pi++) {
                Choices.Projector proj = projs.get(pi);
                double seconds = median(total[pi]), g = median(grads[pi]), pr = median(projection[pi]), peak = median(peaks[pi]);
                double flopsPerRow = switch (proj.kind) {
                    case SJLT -> 2.0 * parameters * Math.min(ProjectorSpec.DEFAULT_SJLT_S, dim) * outputs;
                    case NONE -> 0;
                    default -> 2.0 * parameters * dim * outputs;
                };
                double ceiling = flopsPerRow > 0 ? peak * 1e9 / flopsPerRow : Double.POSITIVE_INFINITY;
                double rate = rows / seconds;
                double[] ofCeiling = new double[rounds];  // round by round: the rate against the peak measured just before it
                for (int r = 0; r < rounds; r++) ofCeiling[r] = rows / total[pi][r] * flopsPerRow / (peaks[pi][r] * 1e9);
                ObjectNode o = JsonLine.object().put("model", modelSpec).put("P", parameters).put("outputs", outputs)
                        .put("K", proj.kind == ProjectorKind.NONE ? parameters : dim).put("kernel", kernel.toString())
                        .put("projector", proj.toString()).put("rows", rows).put("batch", batch)
                        .put("gradients", used == null ? "" : used.name().toLowerCase(Locale.ROOT)).put("rounds", rounds)
                        .put("seconds", seconds);
                ArrayNode perRound = o.putArray("seconds_per_round");
                for (double t : total[pi]) perRound.add(t);
                o.put("rows_per_s", rate).put("share_gradients", g / seconds).put("share_projection", pr / seconds)
                        .put("share_other", Math.max(0, seconds - g - pr) / seconds).put("fma_peak_gflops", peak);
                if (Double.isInfinite(ceiling)) o.putNull("ceiling_rows_per_s").putNull("of_ceiling");
                else o.put("ceiling_rows_per_s", ceiling).put("of_ceiling", median(ofCeiling));
                out.println(JsonLine.of(host.addTo(o)));
            }
            out.flush();
        } finally {
            deleteTree(scratch);
        }
        return 0;
    }

    private FeaturizeConfig config(String dataSpec, Choices.Projector proj, Path store) {
        return Featurize.of(modelSpec).modelSeed(seed).checkpoint("0").train(dataSpec).kernel(Kernel.parse(kernel.toString()))
                .projection(new Projection(proj.kind, dim, seed, 0, ProjectorSpec.DEFAULT_SJLT_S, false)).device(Device.CPU)
                .batchSize(batch).gradients(grad).maxBlockBytes(Gradients.DEFAULT_MAX_BLOCK_BYTES).into(store).config();
    }

    /** The same batches through the gradients alone (nothing consumes them). */
    private double timeGradients(String dataSpec, FeaturizeConfig config) {
        OutputKind output = FeaturizeConfig.outputKind(config.kernel());
        Dataset dataset = DatasetSpec.parse(dataSpec).open(Normalization.DEFAULT);
        try (Model model = Model.open(modelSpec, seed, Device.CPU)) {
            long start = System.nanoTime();
            for (long row = 0; row < dataset.size(); row += batch) {
                int count = (int) Math.min(batch, dataset.size() - row);
                try (Arena arena = Arena.ofConfined()) {
                    Batch b = dataset.batch(row, count, arena);
                    Gradients.compute(model, b.modelInputs(), b.labels(), output, grad, config.maxBlockBytes(), true,
                            (o, ro, r, po, cols, block) -> { });
                }
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /**
     * The projector alone on blocks of the featurize's shape: outputs·B rows per batch. For a large P a slice of the
     * columns is timed and scaled to P (the projection's cost is linear in P).
     */
    private double timeProjection(ProjectorKind kind, long parameters, int outputs) {
        long blockRows = (long) outputs * batch;
        long slice = Math.max(1, Math.min(parameters, (256L << 20) / (blockRows * Float.BYTES)));
        int k = kind == ProjectorKind.NONE ? (int) slice : dim;
        try (Arena arena = Arena.ofConfined();
             Projector projector = new Projector(ProjectorSpec.of(kind, slice, k, seed).withCheckFinite(false))) {
            MemorySegment x = randomSegment(arena, blockRows * slice, seed);
            MemorySegment result = arena.allocate(ValueLayout.JAVA_FLOAT, blockRows * k);
            long batches = (rows + batch - 1) / batch;
            projector.project(x, (int) blockRows, result);  // warm-up
            long start = System.nanoTime();
            for (long i = 0; i < batches; i++) projector.project(x, (int) blockRows, result);
            return (System.nanoTime() - start) / 1e9 * ((double) parameters / slice);
        }
    }

    /** rows random examples of the built-in's input shape (float32) with labels i mod 10, as npy:X.npy,Y.npy. */
    private String randomDataset(Path dir) throws IOException {
        if (!Builtins.isBuiltin(modelSpec)) {
            throw new ParameterException(spec.commandLine(), "--data is required for a model file (random inputs need a built-in's shape)");
        }
        long[] example = Builtins.inputShape(modelSpec);
        long n = rows;
        long[] shape = new long[example.length + 1];
        shape[0] = rows;
        for (int i = 0; i < example.length; i++) {
            shape[i + 1] = example[i];
            n *= example[i];
        }
        float[] x = new float[Math.toIntExact(n)];
        Random random = new Random(seed);
        for (int i = 0; i < x.length; i++) x[i] = random.nextFloat();
        Path xs = dir.resolve("x.npy"), ys = dir.resolve("y.npy");
        Npy.write(xs, Npy.Dtype.FLOAT32, x, shape);
        byte[] head = Npy.header(Npy.Dtype.INT64, rows);
        ByteBuffer body = ByteBuffer.allocate(head.length + rows * 8).order(ByteOrder.LITTLE_ENDIAN);
        body.put(head);
        for (int i = 0; i < rows; i++) body.putLong(i % 10);
        try {
            Files.write(ys, body.array());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + ys, e);
        }
        return "npy:" + xs + "," + ys;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
