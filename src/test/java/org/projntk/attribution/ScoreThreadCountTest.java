package org.projntk.attribution;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.internal.Blas;
import org.projntk.store.CheckpointWriter;
import org.projntk.store.FeatureStore;
import org.projntk.store.ProjectorInfo;
import org.projntk.store.SplitInfo;
import org.projntk.store.StoreSpec;

/**
 * The float64 BLAS results, and with them the TRAK scores, are the same bytes with one and with two OpenBLAS threads:
 * two child JVMs ({@link ThreadCountProbe}) with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1 and 2 write the scores
 * of one store (5000 train rows, so XᵀX sums a last block of 904 rows; K = 100) and each routine's raw output. A
 * Spark executor runs with OMP_NUM_THREADS = spark.task.cpus, the CLI with every core; both must write one file.
 */
class ScoreThreadCountTest {
    @TempDir Path dir;

    @Test
    void scoresAndFloat64BlasDoNotDependOnTheBlasThreadCount() throws Exception {
        Assumptions.assumeTrue(Blas.isOpenBlas(), "OpenBLAS not loaded");
        Assumptions.assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs 2 cores for a 2-thread OpenBLAS");
        Path store = dir.resolve("store");
        marginStore(store, 5000, 37, 100);
        Path one = run(store, 1), two = run(store, 2);
        assertTrue(Files.size(one.resolve("scores.npy")) > 37 * 5000 * 4);
        assertArrayEquals(Files.readAllBytes(one.resolve("scores.npy")), Files.readAllBytes(two.resolve("scores.npy")),
                "scores differ between 1 and 2 OpenBLAS threads");
        assertArrayEquals(Files.readAllBytes(one.resolve("blas.bin")), Files.readAllBytes(two.resolve("blas.bin")),
                "float64 BLAS results differ between 1 and 2 OpenBLAS threads");
    }

    private Path run(Path store, int threads) throws IOException, InterruptedException {
        Path out = dir.resolve("threads-" + threads);
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m"));
        String nativeLib = System.getProperty("projntk.native");
        if (nativeLib != null) cmd.add("-Dprojntk.native=" + nativeLib);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ThreadCountProbe.class.getName(), store.toString(), out.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child-" + threads + ".log").toFile());
        pb.environment().put("OPENBLAS_NUM_THREADS", "" + threads);
        pb.environment().put("OMP_NUM_THREADS", "" + threads);
        Process p = pb.start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child with " + threads + " threads timed out");
        String log = Files.readString(dir.resolve("child-" + threads + ".log"));
        assertEquals(0, p.exitValue(), log);
        assertTrue(log.contains("threads=" + threads), "the child should report " + threads + " OpenBLAS threads: " + log);
        return out;
    }

    /** A margin store of random features (standard normal) and out-to-loss weights (uniform in [0, 1]), one checkpoint. */
    static void marginStore(Path dir, int train, int test, int k) {
        Map<String, SplitInfo> splits = new LinkedHashMap<>();
        splits.put("train", SplitInfo.of("synthetic:train", 0, train));
        splits.put("test", SplitInfo.of("synthetic:test", 0, test));
        StoreSpec spec = new StoreSpec(new ProjectorInfo("rademacher", "synthetic", 0, 0, k, 2, true), "margin", 1, "float32", splits);
        FeatureStore store = FeatureStore.openOrCreate(dir, spec);
        SplittableRandom random = new SplittableRandom(7);
        CheckpointWriter w = store.checkpoint("c0", "synthetic", "sha256:synthetic", 1L << 20);
        for (var e : splits.entrySet()) {
            int rows = (int) e.getValue().rows();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment f = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * k);
                for (long i = 0; i < (long) rows * k; i++) f.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
                float[] q = new float[rows];
                for (int i = 0; i < rows; i++) q[i] = (float) random.nextDouble();
                w.writeRows(e.getKey(), 0, rows, f, q);
            }
        }
        assertTrue(w.markComplete());
    }
}
