package org.projntk.cli;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

import org.projntk.internal.Blas;
import org.projntk.internal.Cublas;
import org.projntk.internal.Cuda;
import org.projntk.project.CurandProjector;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Builtins;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/** `projntk bench projection|gradient`: steady-state throughput as JSON lines, all variants in one process. */
final class BenchCommand {
    private BenchCommand() {}

    /** R is materialised for at most this many bytes in the sgemm baseline; the time is scaled to the full P. */
    private static final long SGEMM_R_BUDGET_BYTES = 1L << 30;
    private static final double MIN_SECONDS = 2.0;
    private static final double WARMUP_SECONDS = 1.0;

    static void run(String[] argv, PrintStream out) {
        if (argv.length < 2) throw new Args.UsageException("bench needs 'projection' or 'gradient'");
        Args args = new Args(argv, 2, Set.of());
        switch (argv[1]) {
            case "projection" -> projection(args, out);
            case "gradient" -> gradient(args, out);
            default -> throw new Args.UsageException("unknown benchmark '" + argv[1] + "' (projection or gradient)");
        }
    }

    static void projection(Args args, PrintStream out) {
        long p = args.getLong("P", 1_000_000);
        int b = args.getInt("B", 32);
        var dims = args.intList("K", "512,2048,8192");
        var projs = args.list("proj", "rademacher,sjlt,sgemm-precomputed");
        long seed = args.getLong("seed", 0);
        Device device = Device.parse(args.get("device", "cpu"));
        args.rejectUnknown();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = randomSegment(arena, (long) b * p, seed);
            for (String proj : projs) {
                for (int k : dims) {
                    double seconds = switch (proj) {
                        case "sgemm-precomputed" -> device == Device.CUDA
                                ? timeCublasPrecomputed(x, b, p, k, Cublas.Precision.FP32)
                                : timeSgemmPrecomputed(arena, x, b, p, k);
                        case "tf32-precomputed" -> timeCublasPrecomputed(x, b, p, k, Cublas.Precision.TF32);
                        case "curand" -> timeCurand(arena, x, b, p, k, seed);
                        default -> timeProjector(arena, x, b, p, k, ProjectorKind.parse(proj), seed, device);
                    };
                    long effectiveK = proj.equals("none") ? p : k;  // the identity projector has K = P
                    double gflops = 2.0 * b * p * effectiveK / seconds / 1e9;
                    out.printf(Locale.ROOT, "{\"projector\":\"%s\",\"P\":%d,\"B\":%d,\"K\":%d,\"device\":\"%s\",\"seconds\":%.6f,"
                                    + "\"examples_per_s\":%.3f,\"gflops\":%.3f}%n",
                            proj, p, b, effectiveK, device.name().toLowerCase(Locale.ROOT), seconds, b / seconds, gflops);
                    out.flush();
                }
            }
        }
    }

    private static double timeProjector(Arena arena, MemorySegment x, int b, long p, int k, ProjectorKind kind, long seed, Device device) {
        int kk = kind == ProjectorKind.NONE ? (int) p : k;
        try (Projector projector = new Projector(ProjectorSpec.of(kind, p, kk, seed).withDevice(device).withCheckFinite(false))) {
            MemorySegment result = arena.allocate(ValueLayout.JAVA_FLOAT, (long) b * kk);
            return timeIt(() -> projector.project(x, b, result));
        }
    }

    private static double timeSgemmPrecomputed(Arena arena, MemorySegment x, int b, long p, int k) {
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

    static void gradient(Args args, PrintStream out) {
        String modelSpec = args.get("model", "builtin:cnn-fmnist");
        var batches = args.intList("B", "64");
        var strategies = args.list("grad", "functional,iterative");
        Device device = Device.parse(args.get("device", "cpu"));
        long seed = args.getLong("seed", 0);
        String shapeText = args.get("input-shape", null);
        args.rejectUnknown();
        long[] example = shapeText != null ? parseShape(shapeText) : Builtins.inputShape(modelSpec);
        try (Model model = Model.open(modelSpec, seed, device); Arena arena = Arena.ofConfined()) {
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
                for (String s : strategies) {
                    GradStrategy strategy = GradStrategy.parse(s);
                    double seconds = timeIt(() -> Gradients.compute(model, x, shape, null, OutputKind.PNTK, strategy, 0, true,
                            (o, ro, rows, po, cols, block) -> { }));
                    out.printf(Locale.ROOT, "{\"model\":\"%s\",\"P\":%d,\"B\":%d,\"strategy\":\"%s\",\"device\":\"%s\",\"examples_per_s\":%.3f}%n",
                            modelSpec, params, b, strategy.name().toLowerCase(Locale.ROOT), device.name().toLowerCase(Locale.ROOT), b / seconds);
                    out.flush();
                }
            }
        }
    }

    private static long[] parseShape(String text) {
        String[] parts = text.split("[x,]");
        long[] shape = new long[parts.length];
        for (int i = 0; i < parts.length; i++) shape[i] = Long.parseLong(parts[i].trim());
        return shape;
    }

    /**
     * Steady state: warm-up calls for WARMUP_SECONDS (at least 2, so the JIT and the allocator settle), then repeated
     * calls until MIN_SECONDS have passed (at least 2); mean seconds per call.
     */
    static double timeIt(Runnable op) {
        long warmStart = System.nanoTime();
        int warm = 0;
        do {
            op.run();
            warm++;
        } while (warm < 2 || System.nanoTime() - warmStart < WARMUP_SECONDS * 1e9);
        int reps = 0;
        long start = System.nanoTime();
        long elapsed;
        do {
            op.run();
            reps++;
            elapsed = System.nanoTime() - start;
        } while (elapsed < MIN_SECONDS * 1e9 || reps < 2);
        return elapsed / 1e9 / reps;
    }

    static MemorySegment randomSegment(Arena arena, long floats, long seed) {
        MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, floats);
        Random random = new Random(seed);
        for (long i = 0; i < floats; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
        return s;
    }
}
