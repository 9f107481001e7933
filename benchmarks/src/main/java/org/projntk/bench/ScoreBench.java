package org.projntk.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.projntk.attribution.TrakScores;
import org.projntk.internal.Blas;
import org.projntk.store.FeatureStore;

/**
 * TRAK scoring of N_TRAIN x N_TEST pairs at dimension K from a store ("score": XᵀX in fp64, Cholesky, solves and
 * streamed fp64 tiles, sink only touching each tile) against one OpenBLAS sgemm (and one dgemm) of the same
 * [N_TEST x K] x [K x N_TRAIN] product held in memory. Divide N_TRAIN·N_TEST by the time for pairs per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Djava.awt.headless=true"})
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
public class ScoreBench {
    @Param({"score", "sgemm", "dgemm"})
    public String method;

    @Param({"20000"})
    public int nTrain;

    @Param({"2000"})
    public int nTest;

    @Param({"512"})
    public int K;

    private Path dir;
    private FeatureStore store;
    private Arena arena;
    private MemorySegment a, b, c;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        if (method.equals("score")) {
            dir = Files.createTempDirectory("score-bench");
            store = SyntheticStore.create(dir, nTrain, nTest, K, 1, 1);
            return;
        }
        if (!Blas.isOpenBlas()) throw new IllegalStateException("the gemm baselines need OpenBLAS: " + Blas.implementation());
        arena = Arena.ofShared();
        boolean dbl = method.equals("dgemm");
        if (!dbl && !method.equals("sgemm")) throw new IllegalArgumentException("unknown method '" + method + "'");
        a = dbl ? Fill.uniformDouble(arena, (long) nTest * K, 2) : Fill.uniform(arena, (long) nTest * K, 2);
        b = dbl ? Fill.uniformDouble(arena, (long) nTrain * K, 3) : Fill.uniform(arena, (long) nTrain * K, 3);
        c = arena.allocate((long) nTest * nTrain * (dbl ? Double.BYTES : Float.BYTES), 64);
    }

    @Benchmark
    public Object score(Blackhole bh) {
        if (store != null) {
            return TrakScores.score(store, TrakScores.Options.defaults(), (r0, c0, rows, cols, tile) -> bh.consume(tile[0]));
        }
        if (method.equals("sgemm")) Blas.sgemm(false, true, nTest, nTrain, K, 1f, a, K, b, K, 0f, c, nTrain);
        else Blas.dgemm(false, true, nTest, nTrain, K, 1.0, a, K, b, K, 0.0, c, nTrain);
        return c;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (arena != null) arena.close();
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.delete(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
    }
}
