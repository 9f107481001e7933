package org.projntk.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.projntk.baseline.CurandProjector;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Device;

/**
 * The CUDA projectors (GPU machine only: `scripts/bench.sh gpu`; on a CPU-only build the set-up fails with
 * UNSUPPORTED): the native rademacher, normal and sjlt kernels, and "curand", the cuRAND + cuBLAS baseline
 * (CurandProjector: R generated tile by tile by cuRAND, multiplied by cuBLAS). x and out live in host memory and
 * project() returns after the device has finished, so each op includes the host-device copies and is synchronised.
 * fp32=strict selects full-fp32 FMA (FP32 GEMMs for curand) instead of TF32.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Djava.awt.headless=true"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class GpuProjectionBench {
    @Param({"rademacher", "normal", "sjlt", "curand"})
    public String projector;

    @Param({"256", "512", "1024", "2048", "4096", "8192", "10240", "16384"})
    public int K;

    @Param({"1048576"})
    public long P;

    @Param({"64"})
    public int B;

    @Param({"tf32", "strict"})
    public String fp32;

    private Arena arena;
    private MemorySegment x;
    private MemorySegment out;
    private AutoCloseable proj;
    private Runnable op;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        x = Fill.uniform(arena, (long) B * P, 1);
        out = arena.allocate(ValueLayout.JAVA_FLOAT, (long) B * K);
        ProjectorSpec spec = ProjectorSpec.of(ProjectorKind.parse(projector), P, K, 7).withCheckFinite(false).withDevice(Device.CUDA);
        if (fp32.equals("strict")) {
            spec = new ProjectorSpec(spec.kind(), P, K, spec.seed(), spec.modelId(), spec.sjltS(), spec.unscaled(), false, true, Device.CUDA);
        }
        if (spec.kind() == ProjectorKind.CURAND) {
            CurandProjector c = new CurandProjector(spec);
            proj = c;
            op = () -> c.project(x, B, out);
        } else {
            Projector p = new Projector(spec);
            proj = p;
            op = () -> p.project(x, B, out);
        }
    }

    @Benchmark
    public MemorySegment project() {
        op.run();
        return out;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (proj != null) proj.close();
        arena.close();
    }
}
