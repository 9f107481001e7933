package org.projntk.attribution;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import org.projntk.project.Projection;
import org.projntk.featurize.Kernel;
import org.projntk.featurize.Featurize;
import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Npy;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.project.ProjectorKind;
import org.projntk.store.FeatureStore;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/** Small margin stores of builtin:tiny-mlp (P = 43, 3 classes) on random 4-feature data, and float64 references. */
final class TinyStores {
    private TinyStores() {}

    static final int P = 43;
    static final long MODEL_ID = 5;
    static final long SEED = 9;

    /** Writes npy:X,Y with n rows of 4 features and labels in {0,1,2}; returns the spec. */
    static String data(Path dir, String name, int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 4];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        byte[] y = new byte[n];
        for (int i = 0; i < n; i++) y[i] = (byte) r.nextInt(3);
        Path xp = dir.resolve(name + "-x.npy"), yp = dir.resolve(name + "-y.npy");
        Npy.write(xp, Npy.Dtype.FLOAT32, x, n, 4);
        byte[] head = Npy.header(Npy.Dtype.UINT8, n);
        try {
            Files.write(yp, ByteBuffer.allocate(head.length + n).put(head).put(y).array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "npy:" + xp + "," + yp;
    }

    /** Featurizes builtin:tiny-mlp initialised from modelSeed as checkpoint id into the store at out. */
    static FeatureStore featurize(Path out, String id, long modelSeed, String train, String test, ProjectorKind proj, int dim) {
        Map<String, String> splits = new LinkedHashMap<>();
        splits.put("train", train);
        splits.put("test", test);
        Featurize.of("builtin:tiny-mlp").modelSeed(modelSeed).checkpoint(id).train(train).test(test).kernel(Kernel.MARGIN)
                .projection(new Projection(proj, dim, SEED, MODEL_ID, 2, false)).batchSize(7).into(out).run();
        return FeatureStore.open(out);
    }

    /** Dense margin gradients [n x P] (float64) and out-to-loss Q of a split, computed directly from the model. */
    record Reference(double[][] g, double[] q) {}

    static Reference reference(long modelSeed, String spec) {
        Dataset d = DatasetSpec.parse(spec).open();
        int n = (int) d.size();
        try (Model m = Model.builtin("tiny-mlp", modelSeed, Device.CPU); Arena arena = Arena.ofConfined()) {
            Batch b = d.batch(0, n, arena);
            float[][][] g = Gradients.dense(m, b.inputs(), b.shape(), b.labels(), OutputKind.MARGIN, GradStrategy.ITERATIVE, 3);
            float[][] logits = m.forward(b.inputs(), b.shape());
            double[][] gd = new double[n][];
            double[] q = new double[n];
            for (int i = 0; i < n; i++) {
                gd[i] = new double[g[0][i].length];
                for (int p = 0; p < gd[i].length; p++) gd[i][p] = g[0][i][p];
                double sum = 0;
                for (float v : logits[i]) sum += Math.exp(v);
                q[i] = 1 - Math.exp(logits[i][(int) b.labels()[i]]) / sum;
            }
            return new Reference(gd, q);
        }
    }

    /** A⁻¹ by Gauss-Jordan elimination with partial pivoting (independent of the Cholesky code). */
    static double[][] inverse(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][2 * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, m[i], 0, n);
            m[i][n + i] = 1;
        }
        for (int c = 0; c < n; c++) {
            int piv = c;
            for (int r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) piv = r;
            double[] t = m[c];
            m[c] = m[piv];
            m[piv] = t;
            double d = m[c][c];
            for (int j = 0; j < 2 * n; j++) m[c][j] /= d;
            for (int r = 0; r < n; r++) {
                if (r == c) continue;
                double f = m[r][c];
                if (f == 0) continue;
                for (int j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
            }
        }
        double[][] inv = new double[n][n];
        for (int i = 0; i < n; i++) System.arraycopy(m[i], n, inv[i], 0, n);
        return inv;
    }

    /** XᵀX + λI of x [n x P] after multiplying x by scale. */
    static double[][] regularisedGram(double[][] x, double scale, double lambda) {
        int p = x[0].length;
        double[][] a = new double[p][p];
        for (double[] row : x) for (int i = 0; i < p; i++) for (int j = 0; j < p; j++) a[i][j] += row[i] * scale * row[j] * scale;
        for (int i = 0; i < p; i++) a[i][i] += lambda;
        return a;
    }

    /** [test x train] of t (scale·φ) M (scale·Φ)ᵀ. */
    static double[][] sandwich(double[][] test, double[][] m, double[][] train, double scale) {
        int p = m.length;
        double[][] out = new double[test.length][train.length];
        for (int i = 0; i < test.length; i++) {
            double[] tm = new double[p];
            for (int a = 0; a < p; a++) for (int b = 0; b < p; b++) tm[b] += test[i][a] * scale * m[a][b];
            for (int j = 0; j < train.length; j++) {
                double s = 0;
                for (int b = 0; b < p; b++) s += tm[b] * train[j][b] * scale;
                out[i][j] = s;
            }
        }
        return out;
    }

    static double maxAbs(double[][] a) {
        double m = 0;
        for (double[] r : a) for (double v : r) m = Math.max(m, Math.abs(v));
        return m;
    }

    /** max |got − want| / max |want|. */
    static double relativeError(float[][] got, double[][] want) {
        double err = 0;
        for (int i = 0; i < want.length; i++) for (int j = 0; j < want[i].length; j++) err = Math.max(err, Math.abs(got[i][j] - want[i][j]));
        return err / maxAbs(want);
    }
}
