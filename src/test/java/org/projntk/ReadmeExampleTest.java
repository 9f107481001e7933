package org.projntk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.surrogate.SurrogateReport;
import org.projntk.data.DatasetSpec;
import org.projntk.featurize.Featurize;
import org.projntk.featurize.Featurizer;
import org.projntk.featurize.Kernel;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.TopK;
import org.projntk.project.Projection;
import org.projntk.workflow.Store;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/** The README's Java example, verbatim, plus checks that its output is what the README says; and the lower-level calls. */
class ReadmeExampleTest {
    @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp;

    @Test
    void readmeBuilderExampleRuns() {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST is not installed");
        java.nio.file.Path storeDir = tmp.resolve("store"); // the README writes to ./store
        Featurizer.Result result = Featurize.of("builtin:cnn-fmnist")               // or Featurize.of(model): your open Model
                .train("fashion-mnist:train[0:200]")
                .test("fashion-mnist:test[0:50]")
                .kernel(Kernel.TRNTK)
                .projection(Projection.rademacher(512).seed(42))
                .into(storeDir)                                                      // created, or resumed
                .run((split, done, total, thisRun, seconds) -> System.out.println(split + " " + done + "/" + total));

        Store store = Store.of(result.store());                                      // or Store.open(Path.of("store"))
        KernelMatrix gram = store.gram("test", "train", KernelNormalization.COSINE); // [50 x 200] proj-trNTK
        TopK.Result nearest = store.similar().test("test").train("train").k(5)    // 5 nearest train rows per test row
                .compute();
        SurrogateReport surrogate = store.surrogate().lambda(1e-8).fit().report(); // kernel GLM vs the network

        assertEquals(50, gram.rows());
        assertEquals(200, gram.cols());
        // an independent fp64 reference: K[i][j] = sum over classes of <test_c[i], train_c[j]>, cosine-normalised
        double[][] test = flat(store.features("test")), train = flat(store.features("train"));
        for (int i = 0; i < 50; i += 7) {
            for (int j = 0; j < 200; j += 13) {
                double want = dot(test[i], train[j]) / Math.sqrt(dot(test[i], test[i]) * dot(train[j], train[j]));
                assertEquals(want, gram.get(i, j), 1e-4, "cosine trNTK (" + i + ", " + j + ")");
            }
        }
        for (int i = 0; i < 50; i++) {
            int best = 0;
            for (int j = 1; j < 200; j++) if (gram.get(i, j) > gram.get(i, best)) best = j;
            assertEquals(gram.get(i, best), nearest.scores()[i][0], 1e-5f, "top-1 score of test row " + i);
        }
        assertTrue(surrogate.surrogateTestAccuracy() > 0.1, "surrogate above chance");
    }

    /** Each row's features of all classes, concatenated (so a dot product sums over classes). */
    static double[][] flat(java.util.List<org.projntk.kernel.FeatureMatrix> perClass) {
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

    @Test
    void readmeExampleRunsAndFillsTheTrntkRows() {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST is not installed");
        try (Model model = Model.open("builtin:cnn-fmnist", 0, Device.CPU);
             Arena arena = Arena.ofConfined()) {
            Dataset data = DatasetSpec.parse("fashion-mnist:test[0:64]").open();
            Batch batch = data.batch(0, 64, arena);
            var spec = ProjectorSpec.of(ProjectorKind.RADEMACHER, model.parameterCount(), 2048, /*seed*/ 42);
            try (Projector projector = new Projector(spec)) {
                MemorySegment features = arena.allocate(ValueLayout.JAVA_FLOAT, 10L * 64 * 2048);   // [C x B x K]
                int outputs = projector.projectGradients(model, batch.inputs(), new long[] {64, 1, 28, 28}, batch.labels(),
                        OutputKind.PER_CLASS, GradStrategy.AUTO, 0, features);                     // proj-trNTK rows
                assertEquals(10, outputs);
                assertEquals(20_490, model.parameterCount());
                for (int c = 0; c < 10; c++) {
                    double norm = 0;
                    for (int k = 0; k < 2048; k++) {
                        float v = features.getAtIndex(ValueLayout.JAVA_FLOAT, (long) c * 64 * 2048 + 63L * 2048 + k);
                        norm += v * v;
                    }
                    assertTrue(norm > 0 && Double.isFinite(norm), "class " + c + " row of the last example is filled");
                }
            }
        }
    }
}
