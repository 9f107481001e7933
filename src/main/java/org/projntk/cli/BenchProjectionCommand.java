package org.projntk.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.projntk.baseline.CurandProjector;
import org.projntk.internal.Blas;
import org.projntk.internal.Cublas;
import org.projntk.internal.Cuda;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Device;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import static org.projntk.cli.BenchCommand.randomSegment;
import static org.projntk.cli.BenchCommand.timeIt;

/** `projntk bench projection`: projector throughput against GEMM with R precomputed. */
@Command(name = "projection", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Projection of B random rows of P values to each K, as JSON lines "
                + "(projector, P, B, K, device, rounds, seconds, seconds_per_round, examples_per_s, gflops, and "
                + "vs_sgemm_precomputed when sgemm-precomputed is timed too).",
                "sgemm-precomputed is a BLAS GEMM with R materialised (cuBLAS on cuda); tf32-precomputed and curand need cuda.",
                "With --rounds R every variant is timed once per round, the variants of a K one after the other in "
                        + "alternating order, so a load that drifts during the run reaches all of them alike; seconds is "
                        + "the median over the rounds and vs_sgemm_precomputed the median of the rounds' time ratios "
                        + "(> 1: faster than the GEMM)."})
public final class BenchProjectionCommand implements Callable<Integer> {
    /** R is materialised for at most this many bytes in the GEMM baselines; the time is scaled to the full P. */
    private static final long SGEMM_R_BUDGET_BYTES = 1L << 30;

    @Spec CommandSpec spec;

    @Option(names = "--P", defaultValue = "1000000", description = "Gradient length.")
    long p;

    @Option(names = "--B", defaultValue = "32", description = "Rows per call.")
    int b;

    @Option(names = "--K", split = ",", defaultValue = "512,2048,8192", description = "Projected dimensions.")
    List<Integer> dims;

    @Option(names = "--proj", split = ",", defaultValue = "rademacher,sjlt,sgemm-precomputed",
            description = "What to time: ${COMPLETION-CANDIDATES}.")
    List<Choices.BenchProjector> projs;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the data and the projections.")
    long seed;

    @Option(names = "--device", defaultValue = "cpu", completionCandidates = Choices.Devices.class, description = "${COMPLETION-CANDIDATES}.")
    Device device;

    @Option(names = "--gpu", defaultValue = "0", paramLabel = "N", description = "With --device cuda: the GPU's ordinal.")
    int gpu;

    @Option(names = "--rounds", defaultValue = "1", description = "Timings of each variant, interleaved (see above).")
    int rounds;

    @Override
    public Integer call() {
        if (rounds < 1) throw new ParameterException(spec.commandLine(), "--rounds must be at least 1, got " + rounds);
        Choices.checkGpu(spec, device, gpu);
        // the cuBLAS and cuRAND baselines run on the calling thread's current GPU
        if (device == Device.CUDA && gpu != 0) Cuda.useDevice(gpu);
        PrintWriter out = spec.commandLine().getOut();
        // seconds[proj][k][round]; a K's lines are printed as soon as its last round is timed
        double[][][] seconds = new double[projs.size()][dims.size()][rounds];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = randomSegment(arena, (long) b * p, seed);
            for (int round = 0; round < rounds; round++) {
                for (int ki = 0; ki < dims.size(); ki++) {
                    for (int j = 0; j < projs.size(); j++) {
                        int pi = round % 2 == 0 ? j : projs.size() - 1 - j;
                        seconds[pi][ki][round] = time(arena, x, projs.get(pi), dims.get(ki));
                    }
                    if (round == rounds - 1) printLines(out, seconds, ki);
                }
                if (rounds > 1) spec.commandLine().getErr().printf(Locale.ROOT, "round %d of %d done%n", round + 1, rounds);
            }
        }
        return 0;
    }

    private final HostCpu host = HostCpu.read();

    private void printLines(PrintWriter out, double[][][] seconds, int ki) {
        int baseline = projs.indexOf(Choices.BenchProjector.SGEMM_PRECOMPUTED);
        for (int pi = 0; pi < projs.size(); pi++) {
            Choices.BenchProjector proj = projs.get(pi);
            double[] perRound = seconds[pi][ki];
            double median = median(perRound);
            long effectiveK = proj.kind == ProjectorKind.NONE ? p : dims.get(ki);  // the identity projector has K = P
            double gflops = 2.0 * b * p * effectiveK / median / 1e9;
            ObjectNode o = JsonLine.object().put("projector", proj.toString()).put("P", p).put("B", b).put("K", effectiveK)
                    .put("device", device.label(gpu)).put("rounds", rounds).put("seconds", median);
            ArrayNode perRoundJson = o.putArray("seconds_per_round");
            for (double t : perRound) perRoundJson.add(t);
            o.put("examples_per_s", b / median).put("gflops", gflops);
            if (baseline >= 0 && baseline != pi) o.put("vs_sgemm_precomputed", medianRatio(seconds[baseline][ki], perRound));
            out.println(JsonLine.of(host.addTo(o)));
        }
        out.flush();
    }

    private double time(Arena arena, MemorySegment x, Choices.BenchProjector proj, int k) {
        return switch (proj) {
            case SGEMM_PRECOMPUTED -> device == Device.CUDA
                    ? timeCublasPrecomputed(x, b, p, k, Cublas.Precision.FP32)
                    : timeSgemmPrecomputed(x, b, p, k);
            case TF32_PRECOMPUTED -> timeCublasPrecomputed(x, b, p, k, Cublas.Precision.TF32);
            case CURAND -> timeCurand(arena, x, b, p, k, seed);
            default -> timeProjector(arena, x, b, p, k, proj.kind, seed, device, gpu);
        };
    }

    /** The median of the per-round ratios baseline[r] / variant[r]: how many times faster the variant ran, round by round. */
    static double medianRatio(double[] baselineSeconds, double[] variantSeconds) {
        double[] ratios = new double[variantSeconds.length];
        for (int r = 0; r < ratios.length; r++) ratios[r] = baselineSeconds[r] / variantSeconds[r];
        return median(ratios);
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double timeProjector(Arena arena, MemorySegment x, int b, long p, int k, ProjectorKind kind, long seed, Device device,
                                        int gpu) {
        int kk = kind == ProjectorKind.NONE ? (int) p : k;
        try (Projector projector = new Projector(ProjectorSpec.of(kind, p, kk, seed).withDevice(device, gpu).withCheckFinite(false))) {
            MemorySegment result = arena.allocate(ValueLayout.JAVA_FLOAT, (long) b * kk);
            return timeIt(() -> projector.project(x, b, result));
        }
    }

    private static double timeSgemmPrecomputed(MemorySegment x, int b, long p, int k) {
        long slice = Math.min(p, Math.max(1, SGEMM_R_BUDGET_BYTES / ((long) k * Float.BYTES)));
        try (Arena local = Arena.ofConfined()) {
            MemorySegment r = randomSegment(local, slice * k, 7);
            MemorySegment result = local.allocate(ValueLayout.JAVA_FLOAT, (long) b * k);
            double sliceSeconds = timeIt(() -> Blas.sgemm(false, false, b, k, (int) slice, 1f, x, (int) p, r, k, 0f, result, k));
            return sliceSeconds * ((double) p / slice);
        }
    }

    /**
     * cuBLAS with R precomputed on the device (for at most SGEMM_R_BUDGET_BYTES of R; the time is scaled to the full P).
     * Like the other GPU variants it starts and ends in host memory, so transfers are included.
     */
    private static double timeCublasPrecomputed(MemorySegment x, int b, long p, int k, Cublas.Precision precision) {
        Cuda.require();
        long slice = Math.min(p, Math.max(1, SGEMM_R_BUDGET_BYTES / ((long) k * Float.BYTES)));
        try (Arena local = Arena.ofConfined();
             Cublas cublas = new Cublas();
             Cuda.DeviceBuffer r = Cuda.allocateFloats(slice * k);
             Cuda.DeviceBuffer dx = Cuda.allocateFloats((long) b * slice);
             Cuda.DeviceBuffer dout = Cuda.allocateFloats((long) b * k)) {
            r.copyFromHost(randomSegment(local, slice * k, 7), 0);
            MemorySegment xSlice = local.allocate(ValueLayout.JAVA_FLOAT, (long) b * slice);
            for (int i = 0; i < b; i++) {
                MemorySegment.copy(x, (long) i * p * Float.BYTES, xSlice, (long) i * slice * Float.BYTES, slice * Float.BYTES);
            }
            MemorySegment result = local.allocate(ValueLayout.JAVA_FLOAT, (long) b * k);
            double sliceSeconds = timeIt(() -> {
                dx.copyFromHost(xSlice, 0);
                cublas.gemm(false, false, b, k, (int) slice, 1f, dx, 0, (int) slice, r, 0, k, 0f, dout, 0, k, precision);
                dout.copyToHost(0, result);
            });
            return sliceSeconds * ((double) p / slice);
        }
    }

    private static double timeCurand(Arena arena, MemorySegment x, int b, long p, int k, long seed) {
        try (CurandProjector projector = new CurandProjector(ProjectorSpec.of(ProjectorKind.CURAND, p, k, seed).withDevice(Device.CUDA))) {
            MemorySegment result = arena.allocate(ValueLayout.JAVA_FLOAT, (long) b * k);
            return timeIt(() -> projector.project(x, b, result));
        }
    }
}
