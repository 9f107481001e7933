package org.projntk.threads;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.surrogate.Surrogates;
import org.projntk.attribution.TrakScores;
import org.projntk.data.DatasetSpec;
import org.projntk.featurize.Featurize;
import org.projntk.featurize.Featurizer;
import org.projntk.featurize.Kernel;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.StoreOperands;
import org.projntk.project.Projection;
import org.projntk.store.FeatureStore;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Model;

/**
 * 4 threads x {featurize, Gram, surrogate, TRAK scores}, on one shared Model and on a Model per thread, 5 times over:
 * every result must equal, bit for bit, the same work done on one thread first. Featurizing on separate Models runs
 * libtorch's vmap on several threads at once, which fails or silently changes the gradient path unless the library
 * serialises its functional path.
 */
class ThreadSafetyTest {
    static final int THREADS = 4, REPETITIONS = 5;
    static final String MODEL = "builtin:cnn-fmnist";

    @TempDir Path tmp;

    @BeforeAll
    static void needFashionMnist() {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST not installed");
    }

    /** The job, on the model at MODEL (opened by the job) or on the given one. */
    static Featurize job(Kernel kernel, int trainStart, Model model) {
        Featurize f = model == null ? Featurize.of(MODEL).modelSeed(3) : Featurize.of(model);
        return f.checkpoint("init").train("fashion-mnist:train[" + trainStart + ":" + (trainStart + 24) + "]")
                .test("fashion-mnist:test[0:8]").kernel(kernel).projection(Projection.rademacher(16).seed(42)).batchSize(8);
    }

    /** Every file of a store but its manifest (which records timings-free metadata only) and lock, by name. */
    static Map<String, byte[]> storeBytes(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String name = dir.relativize(f).toString();
                if (name.endsWith(".npy") || name.endsWith(".done")) out.put(name, Files.readAllBytes(f));
            }
        }
        return out;
    }

    static float[] gram(FeatureStore store) {
        String checkpoint = StoreOperands.checkpoint(store, null);
        var test = StoreOperands.operand(store, checkpoint, "test");
        var train = StoreOperands.operand(store, checkpoint, "train");
        KernelMatrix k = Gram.computeMatrix(test, train, Gram.Options.of(KernelKind.TRNTK, KernelNormalization.COSINE));
        float[] out = new float[(int) (k.rows() * k.cols())];
        for (int i = 0; i < k.rows(); i++) for (int j = 0; j < k.cols(); j++) out[i * k.cols() + j] = (float) k.get(i, j);
        return out;
    }

    static double[] surrogate(FeatureStore store) {
        Surrogates.Fit fit = Surrogates.fit(store, Surrogates.Options.defaults(), line -> {});
        return fit.surrogateTestLogits();
    }

    static float[][] scores(FeatureStore marginStore) {
        return TrakScores.matrix(marginStore, TrakScores.Options.builder().lambda(1e-2).build());
    }

    /** What one task computed, as comparable bytes. */
    record Outcome(String task, Object value, String gradientPath) {}

    @Test
    void concurrentWorkEqualsSingleThreadedWork() throws Exception {
        // single-threaded references
        Map<String, byte[]> trntkRef = storeBytes(job(Kernel.TRNTK, 0, null).into(tmp.resolve("ref-trntk")).run().store().dir());
        Map<String, byte[]> trntkRef2 = storeBytes(job(Kernel.TRNTK, 24, null).into(tmp.resolve("ref-trntk-2")).run().store().dir());
        FeatureStore trntk = FeatureStore.open(tmp.resolve("ref-trntk"));
        Featurizer.Result margin = job(Kernel.MARGIN, 0, null).into(tmp.resolve("ref-margin")).run();
        assertEquals(GradStrategy.FUNCTIONAL, margin.strategyUsed());
        FeatureStore marginStore = margin.store();
        float[] gramRef = gram(trntk);
        double[] surrogateRef = surrogate(trntk);
        float[][] scoresRef = scores(marginStore);

        for (boolean sharedModel : new boolean[] {true, false}) {
            try (Model shared = Model.open(MODEL, 3, Device.CPU)) {
                ExecutorService pool = Executors.newFixedThreadPool(THREADS);
                try {
                    for (int rep = 0; rep < REPETITIONS; rep++) {
                        CyclicBarrier start = new CyclicBarrier(THREADS);
                        List<Future<List<Outcome>>> futures = new ArrayList<>();
                        for (int t = 0; t < THREADS; t++) {
                            int thread = t;
                            Path out = tmp.resolve((sharedModel ? "shared" : "separate") + "-" + rep + "-" + t);
                            Callable<List<Outcome>> work = () -> {
                                start.await();
                                List<Outcome> outcomes = new ArrayList<>();
                                // threads differ in rows, so a mix-up between them shows
                                Featurizer.Result r = job(Kernel.TRNTK, thread % 2 == 0 ? 0 : 24, sharedModel ? shared : null)
                                        .into(out).run();
                                outcomes.add(new Outcome("featurize", storeBytes(out), r.strategyUsed().name()));
                                outcomes.add(new Outcome("gram", gram(trntk), null));
                                outcomes.add(new Outcome("surrogate", surrogate(trntk), null));
                                outcomes.add(new Outcome("score", scores(marginStore), null));
                                return outcomes;
                            };
                            futures.add(pool.submit(work));
                        }
                        for (int t = 0; t < THREADS; t++) {
                            String where = (sharedModel ? "shared model" : "model per thread") + ", repetition " + rep + ", thread " + t;
                            List<Outcome> outcomes = futures.get(t).get();
                            Outcome f = outcomes.get(0);
                            assertEquals("FUNCTIONAL", f.gradientPath(), where + ": gradient path");
                            @SuppressWarnings("unchecked")
                            Map<String, byte[]> bytes = (Map<String, byte[]>) f.value();
                            Map<String, byte[]> want = t % 2 == 0 ? trntkRef : trntkRef2;
                            assertEquals(want.keySet(), bytes.keySet(), where + ": store files");
                            for (String file : want.keySet()) assertArrayEquals(want.get(file), bytes.get(file), where + ": " + file);
                            assertArrayEquals(gramRef, (float[]) outcomes.get(1).value(), where + ": Gram");
                            assertArrayEquals(surrogateRef, (double[]) outcomes.get(2).value(), where + ": surrogate logits");
                            float[][] s = (float[][]) outcomes.get(3).value();
                            assertEquals(scoresRef.length, s.length, where + ": score rows");
                            for (int i = 0; i < s.length; i++) assertArrayEquals(scoresRef[i], s[i], where + ": scores row " + i);
                        }
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }
}
