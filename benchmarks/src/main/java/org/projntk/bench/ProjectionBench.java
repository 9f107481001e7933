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
import org.projntk.internal.Blas;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;

/**
 * out[B x K] = x[B x P] · R on the CPU, one call per op: R generated on the fly (rademacher, normal, sjlt) against
 * the OpenBLAS baseline "sgemm" with R precomputed.
 *
 * <p>The baseline materialises at most {@code projntk.bench.rBudgetMiB} (default 1024) MiB of R: a slice of
 * P_slice = budget / (4 K) rows. When P_slice < P, one op still covers the full P: it walks x in column blocks of
 * P_slice and multiplies each by the same slice (C += X[:, block] · R_slice). A slice of 1 GiB is far larger than the
 * caches, so each block streams R from memory exactly as a fully materialised R would; the op time is therefore the
 * time of the full-P product, not an extrapolation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Djava.awt.headless=true"})
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
public class ProjectionBench {
    @Param({"rademacher", "normal", "sjlt", "sgemm"})
    public String projector;

    @Param({"256", "512", "1024", "2048", "4096", "8192", "10240", "16384"})
    public int K;

    @Param({"65536"})
    public long P;

    @Param({"32"})
    public int B;

    private Arena arena;
    private MemorySegment x;
    private MemorySegment out;
    private Projector proj;
    private MemorySegment r;
    private long slice;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        x = Fill.uniform(arena, (long) B * P, 1);
        out = arena.allocate(ValueLayout.JAVA_FLOAT, (long) B * K);
        if (projector.equals("sgemm")) {
            if (!Blas.isOpenBlas()) throw new IllegalStateException("the sgemm baseline needs OpenBLAS: " + Blas.implementation());
            long budget = Long.getLong("projntk.bench.rBudgetMiB", 1024) << 20;
            slice = Math.min(P, Math.max(1, budget / ((long) K * Float.BYTES)));
            r = Fill.uniform(arena, slice * K, 2);
        } else {
            proj = new Projector(ProjectorSpec.of(ProjectorKind.parse(projector), P, K, 7).withCheckFinite(false));
        }
    }

    @Benchmark
    public MemorySegment project() {
        if (proj != null) {
            proj.project(x, B, out);
        } else {
            for (long off = 0; off < P; off += slice) {
                int n = (int) Math.min(slice, P - off);
                Blas.sgemm(false, false, B, K, n, 1f, x.asSlice(off * Float.BYTES), (int) P, r, K, off == 0 ? 0f : 1f, out, K);
            }
        }
        return out;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (proj != null) proj.close();
        arena.close();
    }
}
