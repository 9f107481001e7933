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
import org.projntk.bindings.cblas_h;
import org.projntk.internal.Blas;

/**
 * The surrogate's thin products on one class's features, A [rows x d] (160 MB at the defaults, so it streams from
 * memory): A·B ("nn", B [d x q]) and Aᵀ·G ("tn", G [rows x q]), through {@code Blas.sgemm} (projntk_thin_gemm, "projntk")
 * or OpenBLAS's cblas_sgemm ("openblas"). Bytes of A per second = rows·d·4 / time. projntk_thin_gemm picks its AVX-512
 * or AVX2 kernels at run time; PROJNTK_SIMD=avx2 in the environment forces AVX2, to compare the two.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Djava.awt.headless=true"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
public class ThinProductBench {
    @Param({"nn", "tn"})
    public String product;

    @Param({"projntk", "openblas"})
    public String impl;

    @Param({"20000"})
    public int rows;

    @Param({"2048"})
    public int d;

    @Param({"10"})
    public int q;

    private Arena arena;
    private MemorySegment a;
    private MemorySegment b;
    private MemorySegment c;

    @Setup(Level.Trial)
    public void setUp() {
        if (impl.equals("openblas") && !Blas.isOpenBlas()) {
            throw new IllegalStateException("the openblas baseline needs OpenBLAS: " + Blas.implementation());
        }
        if (!impl.equals("openblas") && !impl.equals("projntk")) throw new IllegalArgumentException("unknown impl " + impl);
        arena = Arena.ofShared();
        a = Fill.uniform(arena, (long) rows * d, 5);
        boolean nn = product.equals("nn");
        if (!nn && !product.equals("tn")) throw new IllegalArgumentException("unknown product " + product + " (nn or tn)");
        b = Fill.uniform(arena, (long) (nn ? d : rows) * q, 6);
        c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) (nn ? rows : d) * q);
    }

    @Benchmark
    public MemorySegment multiply() {
        boolean tn = product.equals("tn");
        int m = tn ? d : rows;
        int k = tn ? rows : d;
        if (impl.equals("projntk")) {
            Blas.sgemm(tn, false, m, q, k, 1f, a, d, b, q, 0f, c, q);
        } else {
            cblas_h.cblas_sgemm(cblas_h.CblasRowMajor(), tn ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(),
                    cblas_h.CblasNoTrans(), m, q, k, 1f, a, d, b, q, 0f, c, q);
        }
        return c;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }
}
