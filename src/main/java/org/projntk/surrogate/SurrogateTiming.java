package org.projntk.surrogate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.projntk.kernel.ArrayFeatureMatrix;
import org.projntk.kernel.FeatureKernelOperator;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.KernelOperator;

/**
 * The surrogate fitted the dense way (build the N x N and T x N kernels, then products through them) and the
 * matrix-free way (products through the features), side by side on the same synthetic features, with the same
 * L-BFGS iteration budget. Used by {@code bench surrogate}. Stateless; measurements on concurrent threads disturb
 * each other's timings.
 */
public final class SurrogateTiming {
    private SurrogateTiming() {}

    /**
     * One measurement; times are wall seconds.
     *
     * @param kind               the kernel, "pntk" or "trntk"
     * @param trainRows          N
     * @param testRows           T
     * @param dim                K, the feature dimension
     * @param classes            C
     * @param iterations         the L-BFGS iteration budget of both fits
     * @param denseKernelSeconds building the dense N x N and T x N kernels
     * @param denseFitSeconds    the dense fit plus the test logits
     * @param denseEvaluations   objective evaluations of the dense fit
     * @param denseProducts      kernel products of the dense fit
     * @param freeSetupSeconds   building the matrix-free operators (self-kernels for the cosine scaling)
     * @param freeFitSeconds     the matrix-free fit plus the test logits
     * @param freeEvaluations    objective evaluations of the matrix-free fit
     * @param freeProducts       kernel (or factor) products of the matrix-free fit
     * @param maxLogitDifference the largest absolute difference between the two paths' test logits
     */
    public record Result(String kind, int trainRows, int testRows, int dim, int classes, int iterations,
                         double denseKernelSeconds, double denseFitSeconds, int denseEvaluations, int denseProducts,
                         double freeSetupSeconds, double freeFitSeconds, int freeEvaluations, int freeProducts,
                         double maxLogitDifference) {
        /** {@return the dense path's total: kernels plus fit} */
        public double denseSeconds() {
            return denseKernelSeconds + denseFitSeconds;
        }

        /** {@return the matrix-free path's total: setup plus fit} */
        public double freeSeconds() {
            return freeSetupSeconds + freeFitSeconds;
        }

        /** {@return dense over matrix-free total time: above 1 when matrix-free is faster} */
        public double ratio() {
            return denseSeconds() / freeSeconds();
        }

        /** {@return one line of JSON with the bench's keys (N, T, K, C, dense_s, matrix_free_s, speedup, ...)} */
        public String toJson() {
            ObjectMapper om = new ObjectMapper();
            ObjectNode o = om.createObjectNode().put("bench", "surrogate").put("kernel", kind.toString()).put("N", trainRows)
                    .put("T", testRows).put("K", dim).put("C", classes).put("iterations", iterations)
                    .put("dense_kernel_s", denseKernelSeconds).put("dense_fit_s", denseFitSeconds)
                    .put("dense_evaluations", denseEvaluations).put("dense_products", denseProducts).put("dense_s", denseSeconds())
                    .put("matrix_free_setup_s", freeSetupSeconds).put("matrix_free_fit_s", freeFitSeconds)
                    .put("matrix_free_evaluations", freeEvaluations).put("matrix_free_products", freeProducts)
                    .put("matrix_free_s", freeSeconds()).put("dense_ms_per_product", 1e3 * denseFitSeconds / denseProducts)
                    .put("matrix_free_ms_per_product", 1e3 * freeFitSeconds / freeProducts).put("speedup", ratio())
                    .put("max_test_logit_difference", maxLogitDifference);
            try {
                return om.writeValueAsString(o);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot serialise the surrogate timing", e);
            }
        }
    }

    /** Gaussian features with a class signal; outputs = 1 (pNTK) or classes (trNTK). */
    static List<FeatureMatrix> synthetic(long seed, int rows, int dim, int outputs, int[] labels, Arena arena) {
        SplittableRandom r = new SplittableRandom(seed);
        List<FeatureMatrix> out = new ArrayList<>();
        for (int c = 0; c < outputs; c++) {
            MemorySegment s = arena.allocate((long) rows * dim * Float.BYTES, 64);
            for (int i = 0; i < rows; i++) {
                for (int k = 0; k < dim; k++) {
                    float v = (float) (r.nextDouble() * 2 - 1) + (k % labels.length == labels[i] ? 0.5f : 0f);
                    s.setAtIndex(ValueLayout.JAVA_FLOAT, (long) i * dim + k, v);
                }
            }
            out.add(new ArrayFeatureMatrix(s, rows, dim));
        }
        return out;
    }

    /**
     * Both paths of both kernels once on a small problem, so that neither measurement pays for JIT compilation (the
     * matrix-free path runs first and would otherwise pay most of it).
     */
    public static void warmUp() {
        for (KernelKind kind : new KernelKind[] {KernelKind.PNTK, KernelKind.TRNTK}) run(kind, 600, 100, 128, 10, 20, 1);
    }

    /**
     * One side-by-side measurement (cosine normalisation, class-balanced weights, fixed iteration budget, tolerance out
     * of reach) on synthetic uniform features with a class signal, held off-heap for the call.
     *
     * @param kind       PNTK (one feature matrix) or TRNTK (one per class)
     * @param trainRows  N, at least 1
     * @param testRows   T, at least 1
     * @param dim        K, at least 1
     * @param classes    C, at least 2
     * @param iterations the L-BFGS iteration budget, at least 1
     * @param seed       seeds the features and labels
     * @return the timings
     * @throws IllegalArgumentException for ENTK, dim &lt; 1 or classes &lt; 2
     */
    public static Result run(KernelKind kind, int trainRows, int testRows, int dim, int classes, int iterations, long seed) {
        int outputs = kind == KernelKind.PNTK ? 1 : classes;
        int[] ytr = new int[trainRows];
        int[] yte = new int[testRows];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < trainRows; i++) ytr[i] = r.nextInt(classes);
        for (int i = 0; i < testRows; i++) yte[i] = r.nextInt(classes);
        try (Arena arena = Arena.ofShared()) {
            List<FeatureMatrix> tr = synthetic(seed + 1, trainRows, dim, outputs, ytr, arena);
            List<FeatureMatrix> te = synthetic(seed + 2, testRows, dim, outputs, yte, arena);
            KernelGlm.Options opt = KernelGlm.Options.builder().lambda(1e-8).maxIterations(iterations).tolerance(1e-30).build();
            double[] weights = KernelGlm.balancedWeights(ytr, classes);

            long t0 = System.nanoTime();
            FeatureKernelOperator trainFree = KernelOperator.features(tr, tr, kind, KernelNormalization.COSINE, null);
            FeatureKernelOperator testFree = KernelOperator.features(te, tr, kind, KernelNormalization.COSINE, null);
            long t1 = System.nanoTime();
            KernelGlm free = KernelGlm.fit(trainFree, ytr, weights, classes, opt);
            double[] zf = free.logits(testFree);
            long t2 = System.nanoTime();

            Gram.Options g = Gram.Options.of(kind, KernelNormalization.COSINE);
            KernelMatrix ktr = Gram.computeMatrix(tr, tr, g);
            KernelMatrix kte = Gram.computeMatrix(te, tr, g);
            long t3 = System.nanoTime();
            KernelGlm dense = KernelGlm.fit(KernelOperator.dense(ktr), ytr, weights, classes, opt);
            double[] zd = dense.logits(KernelOperator.dense(kte));
            long t4 = System.nanoTime();
            double diff = 0;
            for (int i = 0; i < zd.length; i++) diff = Math.max(diff, Math.abs(zd[i] - zf[i]));
            return new Result(kind.name().toLowerCase(Locale.ROOT), trainRows, testRows, dim, classes, iterations,
                    (t3 - t2) / 1e9, (t4 - t3) / 1e9, dense.fitInfo().evaluations(), dense.fitInfo().products(),
                    (t1 - t0) / 1e9, (t2 - t1) / 1e9, free.fitInfo().evaluations(), free.fitInfo().products(), diff);
        }
    }
}
