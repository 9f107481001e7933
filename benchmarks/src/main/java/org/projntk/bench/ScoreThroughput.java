package org.projntk.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import org.projntk.attribution.TrakScores;
import org.projntk.internal.Blas;
import org.projntk.store.FeatureStore;

/**
 * Side by side in one JVM: TRAK scoring of N_TRAIN x N_TEST pairs at K from a synthetic store (tiles consumed, not
 * written) against one sgemm and one dgemm of the same [N_TEST x K] x [K x N_TRAIN] product held in memory. Best of
 * REPS after one warm-up; prints one JSON line per method. The JMH form of the same comparison is {@link ScoreBench}.
 * {@code java -cp ... org.projntk.bench.ScoreThroughput N_TRAIN N_TEST K REPS [CHECKPOINTS]}
 */
public final class ScoreThroughput {
    private ScoreThroughput() {}

    public static void main(String[] args) throws Exception {
        int nTrain = Integer.parseInt(args[0]), nTest = Integer.parseInt(args[1]), k = Integer.parseInt(args[2]);
        int reps = Integer.parseInt(args[3]);
        int checkpoints = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        Path dir = Files.createTempDirectory("score-throughput");
        FeatureStore store = SyntheticStore.create(dir, nTrain, nTest, k, checkpoints, 1);
        double[] sink = new double[1];
        report("score", nTrain, nTest, k, checkpoints, best(reps, () -> TrakScores.score(store, TrakScores.Options.defaults(),
                (r0, c0, rows, cols, tile) -> sink[0] += tile[0])));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Fill.uniform(arena, (long) nTest * k, 2), b = Fill.uniform(arena, (long) nTrain * k, 3);
            MemorySegment c = arena.allocate((long) nTest * nTrain * Float.BYTES, 64);
            report("sgemm", nTrain, nTest, k, 1, best(reps, () -> Blas.sgemm(false, true, nTest, nTrain, k, 1f, a, k, b, k, 0f, c, nTrain)));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Fill.uniformDouble(arena, (long) nTest * k, 2), b = Fill.uniformDouble(arena, (long) nTrain * k, 3);
            MemorySegment c = arena.allocate((long) nTest * nTrain * Double.BYTES, 64);
            report("dgemm", nTrain, nTest, k, 1, best(reps, () -> Blas.dgemm(false, true, nTest, nTrain, k, 1.0, a, k, b, k, 0.0, c, nTrain)));
        }
        System.err.println("(checksum " + sink[0] + "; " + Blas.implementation() + ")");
    }

    private static double best(int reps, Runnable r) {
        r.run();
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i < reps; i++) {
            long t = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t) / 1e9);
        }
        return best;
    }

    private static void report(String method, int nTrain, int nTest, int k, int checkpoints, double seconds) {
        double pairs = (double) nTrain * nTest;
        ObjectMapper om = new ObjectMapper();
        try {
            System.out.println(om.writeValueAsString(om.createObjectNode().put("method", method).put("n_train", nTrain)
                    .put("n_test", nTest).put("K", k).put("checkpoints", checkpoints).put("seconds", seconds)
                    .put("pairs_per_s", pairs / seconds).put("gflops", 2 * pairs * k * checkpoints / seconds / 1e9)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON record", e);
        }
    }
}
