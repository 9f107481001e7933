package org.projntk.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GramTest {
    static float[][] random(Random r, int n, int d) {
        float[][] a = new float[n][d];
        for (float[] row : a) {
            for (int j = 0; j < d; j++) {
                row[j] = (float) r.nextGaussian();
            }
        }
        return a;
    }

    /** Naive double-precision reference: Σ_c a_c[i]·b_c[j]. */
    static double[][] naive(float[][][] a, float[][][] b) {
        int n = a[0].length;
        int m = b[0].length;
        double[][] k = new double[n][m];
        for (int c = 0; c < a.length; c++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    double s = 0;
                    for (int p = 0; p < a[c][i].length; p++) {
                        s += (double) a[c][i][p] * b[c][j][p];
                    }
                    k[i][j] += s;
                }
            }
        }
        return k;
    }

    static double[][] naiveNormalized(float[][][] a, float[][][] b, KernelNormalization norm) {
        double[][] k = naive(a, b);
        if (norm == KernelNormalization.COSINE) {
            double[][] ka = naive(a, a);
            double[][] kb = naive(b, b);
            for (int i = 0; i < k.length; i++) {
                for (int j = 0; j < k[0].length; j++) {
                    k[i][j] /= Math.sqrt(ka[i][i] * kb[j][j]);
                }
            }
        } else if (norm == KernelNormalization.STD) {
            double s = 0;
            double ss = 0;
            int cnt = 0;
            for (double[] row : k) {
                for (double v : row) {
                    s += v;
                    cnt++;
                }
            }
            double mean = s / cnt;
            for (double[] row : k) {
                for (double v : row) {
                    ss += (v - mean) * (v - mean);
                }
            }
            double std = Math.sqrt(ss / cnt);
            for (double[] row : k) {
                for (int j = 0; j < row.length; j++) {
                    row[j] /= std;
                }
            }
        }
        return k;
    }

    static List<FeatureMatrix> op(float[][][] x) {
        List<FeatureMatrix> l = new ArrayList<>();
        for (float[][] m : x) {
            l.add(ArrayFeatureMatrix.of(m));
        }
        return l;
    }

    static void assertClose(double[][] ref, KernelMatrix got, double relTol) {
        assertEquals(ref.length, got.rows());
        assertEquals(ref[0].length, got.cols());
        double maxAbs = 0;
        for (double[] row : ref) {
            for (double v : row) {
                maxAbs = Math.max(maxAbs, Math.abs(v));
            }
        }
        for (int i = 0; i < ref.length; i++) {
            for (int j = 0; j < ref[0].length; j++) {
                assertEquals(ref[i][j], got.get(i, j), relTol * maxAbs, "entry (" + i + ", " + j + ")");
            }
        }
    }

    @Test
    void pntkAndTrntkMatchNaiveForEveryNormalisationWithRaggedTiles() {
        Random r = new Random(1);
        for (int classes : new int[] {1, 3}) {
            float[][][] a = new float[classes][][];
            float[][][] b = new float[classes][][];
            for (int c = 0; c < classes; c++) {
                a[c] = random(r, 13, 7);
                b[c] = random(r, 9, 7);
            }
            KernelKind kind = classes == 1 ? KernelKind.PNTK : KernelKind.TRNTK;
            for (KernelNormalization norm : KernelNormalization.values()) {
                Gram.Options opt = Gram.Options.builder().kernel(kind).normalization(norm).tiles(4, 5).build(); // 13 = 4+4+4+1, 9 = 5+4
                KernelMatrix k = Gram.computeMatrix(op(a), op(b), opt);
                assertClose(naiveNormalized(a, b, norm), k, 1e-5);
            }
        }
    }

    @Test
    void entkIsTheFullBlockMatrixInNCxMCLayout() {
        Random r = new Random(2);
        int classes = 3;
        float[][][] a = new float[classes][][];
        float[][][] b = new float[classes][][];
        for (int c = 0; c < classes; c++) {
            a[c] = random(r, 5, 4);
            b[c] = random(r, 7, 4);
        }
        for (KernelNormalization norm : new KernelNormalization[] {KernelNormalization.NONE, KernelNormalization.COSINE}) {
            KernelMatrix k = Gram.computeMatrix(op(a), op(b), Gram.Options.builder().kernel(KernelKind.ENTK).normalization(norm).tiles(2, 3).build());
            assertEquals(5 * classes, k.rows());
            assertEquals(7 * classes, k.cols());
            for (int i = 0; i < 5; i++) {
                for (int c = 0; c < classes; c++) {
                    for (int j = 0; j < 7; j++) {
                        for (int c2 = 0; c2 < classes; c2++) {
                            double s = 0;
                            double na = 0;
                            double nb = 0;
                            for (int p = 0; p < 4; p++) {
                                s += (double) a[c][i][p] * b[c2][j][p];
                                na += (double) a[c][i][p] * a[c][i][p];
                                nb += (double) b[c2][j][p] * b[c2][j][p];
                            }
                            double want = norm == KernelNormalization.COSINE ? s / Math.sqrt(na * nb) : s;
                            assertEquals(want, k.get(i * classes + c, j * classes + c2), 1e-5 * Math.max(1, Math.abs(want)));
                        }
                    }
                }
            }
        }
    }

    @Test
    void selfGramWithTheSameOperandObjectIsSymmetricAndCorrect() {
        Random r = new Random(3);
        float[][][] a = {random(r, 11, 6), random(r, 11, 6)};
        List<FeatureMatrix> op = op(a);
        KernelMatrix k = Gram.computeMatrix(op, op, Gram.Options.builder().kernel(KernelKind.TRNTK).normalization(KernelNormalization.COSINE).tiles(3, 4).build());
        assertClose(naiveNormalized(a, a, KernelNormalization.COSINE), k, 1e-5);
        for (int i = 0; i < 11; i++) {
            assertEquals(1.0, k.get(i, i), 1e-5);
        }
    }

    @Test
    void fixedStdScaleIsAppliedAndReported() {
        Random r = new Random(4);
        float[][][] a = {random(r, 6, 5)};
        float[][][] b = {random(r, 4, 5)};
        KernelMatrix raw = Gram.computeMatrix(op(a), op(b), Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE));
        KernelMatrix scaled = Gram.computeMatrix(op(a), op(b),
                Gram.Options.builder().kernel(KernelKind.PNTK).normalization(KernelNormalization.STD).stdScale(2.5).build());
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 4; j++) {
                assertEquals(raw.get(i, j) / 2.5, scaled.get(i, j), 1e-6);
            }
        }
        Gram.Result res = Gram.compute(op(a), op(b), Gram.Options.of(KernelKind.PNTK, KernelNormalization.STD), (r0, c0, tr, tc, t) -> { });
        double[][] ref = naive(a, b);
        double mean = 0;
        for (double[] row : ref) {
            for (double v : row) {
                mean += v / 24;
            }
        }
        assertEquals(mean, res.rawMean(), 1e-5);
        assertEquals(res.rawStd(), res.scale());
    }

    @Test
    void tilesCoverTheKernelExactlyOnce() {
        Random r = new Random(5);
        List<FeatureMatrix> a = op(new float[][][] {random(r, 10, 3)});
        List<FeatureMatrix> b = op(new float[][][] {random(r, 7, 3)});
        int[][] hits = new int[10][7];
        Gram.compute(a, b, Gram.Options.builder().kernel(KernelKind.PNTK).normalization(KernelNormalization.NONE).tiles(3, 3).build(), (r0, c0, tr, tc, t) -> {
            assertEquals((long) tr * tc * Float.BYTES, t.byteSize());
            for (int i = 0; i < tr; i++) {
                for (int j = 0; j < tc; j++) {
                    hits[(int) r0 + i][(int) c0 + j]++;
                }
            }
        });
        for (int[] row : hits) {
            assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1}, row);
        }
    }

    @Test
    void badInputGivesClearErrors() {
        Random r = new Random(6);
        List<FeatureMatrix> a = op(new float[][][] {random(r, 4, 3)});
        List<FeatureMatrix> b = op(new float[][][] {random(r, 4, 5)});
        var e = assertThrows(IllegalArgumentException.class,
                () -> Gram.computeMatrix(a, b, Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE)));
        assertTrue(e.getMessage().contains("dimension"), e.getMessage());
        List<FeatureMatrix> two = op(new float[][][] {random(r, 4, 3), random(r, 4, 3)});
        e = assertThrows(IllegalArgumentException.class,
                () -> Gram.computeMatrix(two, two, Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE)));
        assertTrue(e.getMessage().contains("pNTK"), e.getMessage());
        List<FeatureMatrix> ragged = List.of(ArrayFeatureMatrix.of(random(r, 4, 3)), ArrayFeatureMatrix.of(random(r, 5, 3)));
        e = assertThrows(IllegalArgumentException.class,
                () -> Gram.computeMatrix(ragged, ragged, Gram.Options.of(KernelKind.TRNTK, KernelNormalization.NONE)));
        assertTrue(e.getMessage().contains("rows"), e.getMessage());
        float[][] nan = random(r, 4, 3);
        nan[2][1] = Float.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> Gram.computeMatrix(op(new float[][][] {nan}), a,
                Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE)));
        assertTrue(e.getMessage().contains("non-finite") && e.getMessage().contains("(2, "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Gram.Options.builder().kernel(KernelKind.PNTK).normalization(KernelNormalization.NONE).tiles(0, 4).build());
        assertThrows(IllegalArgumentException.class, () -> KernelKind.parse("rbf"));
        assertEquals(KernelKind.PNTK, KernelKind.parse("margin"));
        assertEquals(KernelNormalization.COSINE, KernelNormalization.parse("cosine"));
    }
}
