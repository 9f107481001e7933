package org.projntk.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
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
import org.openjdk.jmh.infra.Blackhole;
import org.projntk.internal.Blas;
import org.projntk.kernel.ArrayFeatureMatrix;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelNormalization;

/**
 * The pNTK Gram matrix A·Aᵀ of N projected rows of dimension D: streamed by Gram.compute in square tiles
 * ("tiles-T", T x T tiles, unnormalised, sink only touching each tile) against one OpenBLAS sgemm producing the
 * whole N x N matrix ("sgemm"). Both do 2·N²·D FLOPs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Djava.awt.headless=true"})
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
public class GramBench {
    @Param({"tiles-1024", "tiles-256", "sgemm"})
    public String method;

    @Param({"4096"})
    public int N;

    @Param({"1024"})
    public int D;

    private Arena arena;
    private MemorySegment a;
    private MemorySegment full;
    private List<FeatureMatrix> op;
    private Gram.Options options;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        a = Fill.uniform(arena, (long) N * D, 4);
        if (method.equals("sgemm")) {
            if (!Blas.isOpenBlas()) throw new IllegalStateException("the sgemm baseline needs OpenBLAS: " + Blas.implementation());
            full = arena.allocate(ValueLayout.JAVA_FLOAT, (long) N * N);
        } else if (method.startsWith("tiles-")) {
            int tile = Integer.parseInt(method.substring("tiles-".length()));
            op = List.of(new ArrayFeatureMatrix(a, N, D));
            options = Gram.Options.builder().kernel(KernelKind.PNTK).normalization(KernelNormalization.NONE).tiles(tile, tile).build();
        } else {
            throw new IllegalArgumentException("unknown method '" + method + "' (tiles-T or sgemm)");
        }
    }

    @Benchmark
    public Object gram(Blackhole bh) {
        if (full != null) {
            Blas.sgemm(false, true, N, N, D, 1f, a, D, a, D, 0f, full, N);
            return full;
        }
        return Gram.compute(op, op, options, (r0, c0, rows, cols, tile) -> bh.consume(tile.getAtIndex(ValueLayout.JAVA_FLOAT, 0)));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }
}
