package org.projntk.workflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.Npy;
import org.projntk.featurize.Featurize;
import org.projntk.featurize.Kernel;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.GramFiles;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.KernelOperator;
import org.projntk.kernel.TopK;
import org.projntk.project.Projection;
import org.projntk.surrogate.KernelGlm;
import org.projntk.surrogate.StoreSurrogate;
import org.projntk.surrogate.Surrogates;

/**
 * The store's job builders against independent float64 references computed from the stored features: the Gram job
 * (every normalisation, in memory and into a .npy), the nearest-examples job, and the surrogate job against a kernel GLM
 * fitted on a float64 kernel. Also their defaults and the messages naming a bad setting.
 */
class StoreJobsTest {
    @TempDir static Path dir;
    static Store store;
    static double[][] train;
    static double[][] test;

    /** npy:X,Y with n rows of 4 features and labels in {0,1,2}. */
    static String data(String name, int n, long seed) throws IOException {
        Random r = new Random(seed);
        float[] x = new float[n * 4];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        byte[] y = new byte[n];
        for (int i = 0; i < n; i++) y[i] = (byte) (i % 3);
        Path xp = dir.resolve(name + "-x.npy"), yp = dir.resolve(name + "-y.npy");
        Npy.write(xp, Npy.Dtype.FLOAT32, x, n, 4);
        byte[] head = Npy.header(Npy.Dtype.UINT8, n);
        Files.write(yp, ByteBuffer.allocate(head.length + n).put(head).put(y).array());
        return "npy:" + xp + "," + yp;
    }

    @BeforeAll
    static void featurize() throws IOException {
        var result = Featurize.of("builtin:tiny-mlp").train(data("train", 48, 1)).test(data("test", 20, 2)).kernel(Kernel.TRNTK)
                .projection(Projection.rademacher(24).seed(5)).batchSize(16).into(dir.resolve("store")).run();
        store = Store.of(result.store());
        train = flat(store.features("train"));
        test = flat(store.features("test"));
    }

    /** Each row's features of all classes, concatenated, in float64: a dot product is the trNTK entry. */
    static double[][] flat(List<FeatureMatrix> perClass) {
        int rows = (int) perClass.get(0).rows(), dim = perClass.get(0).dim();
        double[][] out = new double[rows][dim * perClass.size()];
        for (int c = 0; c < perClass.size(); c++) {
            MemorySegment m = perClass.get(c).rows(0, rows);
            for (int i = 0; i < rows; i++) {
                for (int k = 0; k < dim; k++) out[i][c * dim + k] = m.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * dim + k);
            }
        }
        return out;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** The float64 kernel between two row sets, normalised as asked. */
    static double[][] kernel(double[][] a, double[][] b, KernelNormalization norm) {
        double[][] k = new double[a.length][b.length];
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b.length; j++) {
                k[i][j] = dot(a[i], b[j]);
                sum += k[i][j];
            }
        }
        if (norm == KernelNormalization.COSINE) {
            for (int i = 0; i < a.length; i++) for (int j = 0; j < b.length; j++) k[i][j] /= Math.sqrt(dot(a[i], a[i]) * dot(b[j], b[j]));
        } else if (norm == KernelNormalization.STD) {
            double mean = sum / (a.length * (double) b.length), ss = 0;
            for (double[] row : k) for (double v : row) ss += (v - mean) * (v - mean);
            double std = Math.sqrt(ss / (a.length * (double) b.length));
            for (double[] row : k) for (int j = 0; j < row.length; j++) row[j] /= std;
        }
        return k;
    }

    static void assertClose(double[][] want, KernelMatrix got, double relTol) {
        assertEquals(want.length, got.rows());
        assertEquals(want[0].length, got.cols());
        double scale = 0;
        for (double[] row : want) for (double v : row) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            for (int j = 0; j < want[0].length; j++) assertEquals(want[i][j], got.get(i, j), relTol * scale, "entry (" + i + ", " + j + ")");
        }
    }

    @Test
    void gramJobMatchesTheFloat64LoopForEveryNormalisation() {
        assertEquals(KernelKind.TRNTK, store.gram().options().kernel());
        assertEquals(KernelNormalization.NONE, store.gram().options().normalization());
        for (KernelNormalization norm : KernelNormalization.values()) {
            KernelMatrix k = store.gram().rows("test").cols("train").normalization(norm).tiles(7, 5).compute();
            assertClose(kernel(test, train, norm), k, 1e-5);
        }
        assertClose(kernel(train, train, KernelNormalization.COSINE), store.gram("train", "train", KernelNormalization.COSINE), 1e-5);
        // the defaults: train x train, unnormalised
        assertClose(kernel(train, train, KernelNormalization.NONE), store.gram().compute(), 1e-5);
    }

    @Test
    void gramJobWritesTheSameKernelToANpy() {
        Path out = dir.resolve("k.npy");
        GramFiles.Written w = store.gram().rows("test").cols("train").normalization(KernelNormalization.STD).stdScale(2.0).write(out);
        assertEquals(out, w.file());
        assertEquals(store.checkpoint(), w.checkpoint());
        float[] flat = Npy.readFloats(out);
        double[][] want = kernel(test, train, KernelNormalization.NONE);
        for (int i = 0; i < test.length; i++) {
            for (int j = 0; j < train.length; j++) assertEquals(want[i][j] / 2.0, flat[i * train.length + j], 1e-5 * (1 + Math.abs(want[i][j])));
        }
    }

    @Test
    void similarJobFindsTheFloat64NearestRows() {
        assertEquals(5, store.similar().options().k());
        TopK.Result top = store.similar().test("test").train("train").k(4).compute();
        double[][] k = kernel(test, train, KernelNormalization.COSINE);
        assertEquals(test.length, top.rows());
        for (int i = 0; i < test.length; i++) {
            assertEquals(4, top.indices()[i].length, "neighbours of test row " + i);
            double[] row = k[i].clone();
            for (int rank = 0; rank < 4; rank++) {
                int best = 0;
                for (int j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
                assertEquals(row[best], top.scores()[i][rank], 1e-5, "score of test row " + i + ", rank " + rank);
                assertEquals(best, top.indices()[i][rank], "train row of test row " + i + ", rank " + rank);
                row[best] = Double.NEGATIVE_INFINITY;
            }
        }
    }

    @Test
    void surrogateJobMatchesAKernelGlmOnTheFloat64Kernel() {
        double lambda = 1e-3;
        Surrogates.Fit fit = store.surrogate().lambda(lambda).maxIterations(1000).products(StoreSurrogate.Products.DENSE).fit();
        double[][] ktr = kernel(train, train, KernelNormalization.COSINE), kte = kernel(test, train, KernelNormalization.COSINE);
        KernelMatrix trainKernel = KernelMatrix.allocate(train.length, train.length);
        KernelMatrix testKernel = KernelMatrix.allocate(test.length, train.length);
        for (int i = 0; i < train.length; i++) for (int j = 0; j < train.length; j++) trainKernel.set(i, j, (float) ktr[i][j]);
        for (int i = 0; i < test.length; i++) for (int j = 0; j < train.length; j++) testKernel.set(i, j, (float) kte[i][j]);
        int[] labels = new int[train.length];
        for (int i = 0; i < labels.length; i++) labels[i] = i % 3;
        KernelGlm weighted = KernelGlm.fit(KernelOperator.dense(trainKernel), labels,
                KernelGlm.balancedWeights(labels, 3), 3, KernelGlm.Options.builder().lambda(lambda).maxIterations(1000).build());
        double[] want = weighted.logits(testKernel);
        double scale = 0;
        for (double v : want) scale = Math.max(scale, Math.abs(v));
        assertArrayEquals(want, fit.surrogateTestLogits(), 1e-3 * scale);
        // a tenfold λ moves the logits by more than the tolerance, so the comparison above is sensitive to λ
        double[] other = store.surrogate().lambda(10 * lambda).maxIterations(1000).products(StoreSurrogate.Products.DENSE).fit()
                .surrogateTestLogits();
        double diff = 0;
        for (int i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(other[i] - want[i]));
        assertTrue(diff > 1e-3 * scale, "λ x 10 changed the logits by only " + diff);
    }

    static void rejects(String message, Executable job) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, job).getMessage());
    }

    @Test
    void badJobSettingsAreRefusedNamingTheField() {
        rejects("rows must name a split, got null", () -> store.gram().rows(null).compute());
        rejects("cols must name a split, got ", () -> store.gram().cols("").compute());
        rejects("tileRows must be >= 1, got 0", () -> store.gram().tiles(0, 3).compute());
        rejects("device must be set, got null", () -> store.gram().device(null).compute());
        rejects("precision must be set, got null", () -> store.gram().precision(null).compute());
        rejects("a GPU ordinal (1) applies to device cuda only, not cpu", () -> store.gram().gpu(1).compute());
        rejects("k must be >= 1, got 0", () -> store.similar().k(0).compute());
        rejects("testSplit must name a split, got null", () -> store.similar().test(null).compute());
        rejects("lambda must be a finite number >= 0, got -1.0", () -> store.surrogate().lambda(-1).fit());
        rejects("maxIterations must be >= 1, got 0", () -> store.surrogate().maxIterations(0).fit());
        rejects("dim must be >= 0 (0 = all projected columns), got -1", () -> store.scores().dim(-1).compute());
    }
}
