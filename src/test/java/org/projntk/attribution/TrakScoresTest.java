package org.projntk.attribution;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.Npy;
import org.projntk.project.ProjectorKind;
import org.projntk.store.FeatureStore;
import org.projntk.store.StoredMatrix;
import org.projntk.workflow.Store;

/**
 * Scores of a tiny model (P = 43, --proj none) against a float64 reference of the formula: the default recipe,
 * the ensemble over two checkpoints, TRAK 0.3.2's recipe (--trak-compat), the singular case, tiling and the .npy.
 */
class TrakScoresTest {
    @TempDir static Path dir;
    static FeatureStore store;
    static String train;
    static String test;

    @BeforeAll
    static void featurize() {
        train = TinyStores.data(dir, "train", 60, 1);
        test = TinyStores.data(dir, "test", 15, 2);
        TinyStores.featurize(dir.resolve("store"), "a", 1, train, test, ProjectorKind.NONE, 0);
        store = TinyStores.featurize(dir.resolve("store"), "b", 2, train, test, ProjectorKind.NONE, 0);
    }

    static double[][] features(String checkpoint, String split) {
        try (StoredMatrix m = store.features(checkpoint, split, null)) {
            double[][] out = new double[(int) m.rows()][];
            for (int i = 0; i < out.length; i++) {
                float[] r = m.row(i);
                out[i] = new double[r.length];
                for (int j = 0; j < r.length; j++) out[i][j] = r[j];
            }
            return out;
        }
    }

    static double[] q(String checkpoint) {
        float[] f = store.outToLoss(checkpoint, "train");
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** φ (ΦᵀΦ + λI)⁻¹ Φᵀ without Q. */
    static double[][] plain(String checkpoint, double lambda) {
        double[][] x = features(checkpoint, "train");
        return TinyStores.sandwich(features(checkpoint, "test"), TinyStores.inverse(TinyStores.regularisedGram(x, 1, lambda)), x, 1);
    }

    static double[][] timesColumns(double[][] s, double[] q) {
        double[][] out = new double[s.length][];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i].clone();
            for (int j = 0; j < q.length; j++) out[i][j] *= q[j];
        }
        return out;
    }

    @Test
    void storedFeaturesAndOutToLossAreTheModelsMarginGradientsAndQ() {
        assertEquals(TinyStores.P, store.manifest().projector().k());
        for (String id : List.of("a", "b")) {
            TinyStores.Reference ref = TinyStores.reference(id.equals("a") ? 1 : 2, train);
            double[][] x = features(id, "train");
            double[] q = q(id);
            for (int i = 0; i < x.length; i++) {
                assertEquals(ref.q()[i], q[i], 1e-6, "Q of row " + i);
                for (int p = 0; p < TinyStores.P; p++) assertEquals(ref.g()[i][p], x[i][p], 1e-5 * (1 + Math.abs(ref.g()[i][p])));
            }
        }
    }

    @Test
    void defaultScoresMatchTheFloat64Formula() {
        double lambda = 0.1;
        float[][] got = TrakScores.matrix(store, TrakScores.Options.builder().lambda(lambda).checkpoints(List.of("a")).build());
        double[][] want = timesColumns(plain("a", lambda), q("a"));
        assertEquals(15, got.length);
        assertEquals(60, got[0].length);
        assertTrue(TinyStores.relativeError(got, want) < 1e-6, "relative error " + TinyStores.relativeError(got, want));
        // a different λ gives measurably different scores, so the comparison above is sensitive to it
        assertTrue(TinyStores.relativeError(got, timesColumns(plain("a", 0.2), q("a"))) > 1e-4);
    }

    @Test
    void storeScoresJobMatchesTheFloat64Formula() {
        double lambda = 0.1;
        float[][] got = Store.of(store).scores().lambda(lambda).checkpoints("a").tiles(4, 7).compute();
        double[][] want = timesColumns(plain("a", lambda), q("a"));
        assertTrue(TinyStores.relativeError(got, want) < 1e-6, "relative error " + TinyStores.relativeError(got, want));
        // compat mode through the job is the options' compat mode
        assertArrayEquals(TrakScores.matrix(store, TrakScores.Options.builder().lambda(lambda).trakCompat(true).build()),
                Store.of(store).scores().lambda(lambda).trakCompat(true).compute());
    }

    @Test
    void twoCheckpointsAreTheMeanOfTheSingleOnesWithMeanQ() {
        double lambda = 0.05;
        TrakScores.Options o = TrakScores.Options.builder().lambda(lambda).build();
        float[][] both = TrakScores.matrix(store, o);
        float[][] a = TrakScores.matrix(store, o.toBuilder().checkpoints(List.of("a")).build());
        float[][] b = TrakScores.matrix(store, o.toBuilder().checkpoints(List.of("b")).build());
        double[] qa = q("a"), qb = q("b");
        double[][] want = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) want[i][j] = (a[i][j] / qa[j] + b[i][j] / qb[j]) / 2 * (qa[j] + qb[j]) / 2;
        }
        assertTrue(TinyStores.relativeError(both, want) < 1e-6, "relative error " + TinyStores.relativeError(both, want));
        double[][] formula = new double[a.length][a[0].length];
        double[][] pa = plain("a", lambda), pb = plain("b", lambda);
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) formula[i][j] = (pa[i][j] + pb[i][j]) / 2 * (qa[j] + qb[j]) / 2;
        }
        assertTrue(TinyStores.relativeError(both, formula) < 1e-6);
    }

    @Test
    void trakCompatFollowsTrak032() {
        double lambda = 0.01;
        float[][] got = TrakScores.matrix(store, TrakScores.Options.builder().lambda(lambda).trakCompat(true).build());
        // TRAK 0.3.2, naively: X = G/√P; A = XᵀX + λI; S_c = X A⁻¹ Xtᵀ / mean|A⁻¹|; (Σ_c S_c / C) ⊙ (Σ_c Q_c / C)
        double scale = 1 / Math.sqrt(TinyStores.P);
        double[][] sum = new double[15][60];
        double[] qMean = new double[60];
        for (String id : List.of("a", "b")) {
            double[][] x = features(id, "train");
            double[][] inv = TinyStores.inverse(TinyStores.regularisedGram(x, scale, lambda));
            double abs = 0;
            for (double[] r : inv) for (double v : r) abs += Math.abs(v);
            double s = abs / (inv.length * inv.length);
            double[][] sc = TinyStores.sandwich(features(id, "test"), inv, x, scale);
            double[] qc = q(id);
            for (int i = 0; i < 15; i++) for (int j = 0; j < 60; j++) sum[i][j] += sc[i][j] / s / 2;
            for (int j = 0; j < 60; j++) qMean[j] += qc[j] / 2;
        }
        double[][] want = timesColumns(sum, qMean);
        assertTrue(TinyStores.relativeError(got, want) < 1e-6, "relative error " + TinyStores.relativeError(got, want));
        // and it is not the default recipe
        float[][] plainScores = TrakScores.matrix(store, TrakScores.Options.builder().lambda(lambda).build());
        assertTrue(TinyStores.relativeError(plainScores, want) > 1e-3);
    }

    @Test
    void singularSystemWithoutLambdaSaysToPassLambda(@TempDir Path small) {
        // 20 train rows < P = 43: XᵀX is singular
        String tr = TinyStores.data(small, "train", 20, 3);
        FeatureStore s = TinyStores.featurize(small.resolve("store"), "a", 1, tr, test, ProjectorKind.NONE, 0);
        var e = assertThrows(TrakScores.SingularSystemException.class, () -> TrakScores.matrix(s, TrakScores.Options.defaults()));
        assertTrue(e.getMessage().contains("--lambda"), e.getMessage());
        assertTrue(e.getMessage().contains("singular"), e.getMessage());
        assertEquals(15, TrakScores.matrix(s, TrakScores.Options.builder().lambda(1e-3).build()).length);
    }

    @Test
    void smallTilesAndTheNpyFileGiveTheSameScores() {
        TrakScores.Options o = TrakScores.Options.builder().lambda(0.1).build();
        float[][] whole = TrakScores.matrix(store, o);
        Path out = dir.resolve("scores.npy");
        TrakScores.Result r = TrakScores.writeNpy(store, o.toBuilder().tiles(4, 7).build(), out);
        assertEquals(List.of("a", "b"), r.checkpoints());
        assertArrayEquals(new long[] {15, 60}, Npy.readHeader(out).shape());
        float[] flat = Npy.readFloats(out);
        for (int i = 0; i < 15; i++) for (int j = 0; j < 60; j++) assertEquals(whole[i][j], flat[i * 60 + j], 0f, "(" + i + ", " + j + ")");
    }

    @Test
    void badOptionsAreRejectedWithTheirName() {
        assertThrows(IllegalArgumentException.class, () -> TrakScores.Options.builder().lambda(-1).build());
        var e = assertThrows(IllegalArgumentException.class,
                () -> TrakScores.matrix(store, TrakScores.Options.builder().checkpoints(List.of("zz")).build()));
        assertTrue(e.getMessage().contains("zz"));
        e = assertThrows(IllegalArgumentException.class, () -> TrakScores.matrix(store, TrakScores.Options.builder().dim(10).build()));
        assertTrue(e.getMessage().contains("dense projector"), e.getMessage());
    }
}
