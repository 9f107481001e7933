package org.projntk.attribution;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.projntk.internal.Blas;
import org.projntk.stats.Cholesky;
import org.projntk.store.FeatureStore;

/**
 * Child JVM of {@link ScoreThreadCountTest}, started with a given OPENBLAS_NUM_THREADS / OMP_NUM_THREADS:
 * {@code ThreadCountProbe STORE OUT_DIR} writes the store's TRAK scores (OUT_DIR/scores.npy, default recipe with
 * λ = 0.01) and the raw float64 results of each BLAS routine on shapes whose multi-threaded split is uneven
 * (OUT_DIR/blas.bin).
 */
public final class ThreadCountProbe {
    private ThreadCountProbe() {}

    public static void main(String[] args) throws IOException {
        Path store = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        TrakScores.writeNpy(FeatureStore.open(store), TrakScores.Options.builder().lambda(0.01).build(), out.resolve("scores.npy"));
        try (Arena arena = Arena.ofConfined()) {
            int k = 100, rows = 904;
            MemorySegment x = random(arena, (long) rows * k, 1);
            MemorySegment xtx = arena.allocate((long) k * k * Double.BYTES, 64);
            Blas.dgemm(true, false, k, k, rows, 1.0, x, k, x, k, 0.0, xtx, k);                // XᵀX
            MemorySegment nt = arena.allocate((long) 300 * 900 * Double.BYTES, 64);
            MemorySegment t = random(arena, 300L * k, 2);
            Blas.dgemm(false, true, 300, 900, k, 1.0, t, k, x, k, 0.0, nt, 900);              // a score tile
            MemorySegment syrk = random(arena, (long) rows * rows, 3);
            Blas.dsyrkLower(rows, k, -1.0, x, k, 1.0, syrk, rows);
            double[] a = xtx.toArray(ValueLayout.JAVA_DOUBLE);
            for (int i = 0; i < k; i++) a[i * k + i] += 1;
            Cholesky c = Cholesky.factor(a, k);
            double[] right = t.toArray(ValueLayout.JAVA_DOUBLE);
            c.solveRows(right, 300);                                                           // dtrsm, right side
            double[] left = random(arena, (long) k * 301, 4).toArray(ValueLayout.JAVA_DOUBLE);
            c.solveLowerTranspose(left, 301);                                                  // dtrsm, left side
            double[] product = c.lowerTimes(random(arena, (long) k * 301, 5).toArray(ValueLayout.JAVA_DOUBLE), 301); // dtrmm
            try (var w = new java.io.DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(out.resolve("blas.bin"))))) {
                for (MemorySegment s : new MemorySegment[] {xtx, nt, syrk}) for (double v : s.toArray(ValueLayout.JAVA_DOUBLE)) w.writeDouble(v);
                for (double[] d : new double[][] {c.inverse(), right, left, product}) for (double v : d) w.writeDouble(v);
            }
        }
        System.out.println(Blas.implementation());
    }

    static MemorySegment random(Arena arena, long n, long seed) {
        MemorySegment s = arena.allocate(n * Double.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, r.nextDouble(-1, 1));
        return s;
    }
}
