package org.projntk.stats;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

public class SpearmanTest {
    /** Rank i = 1 + #{j: v_j < v_i} + (#{j: v_j == v_i} − 1)/2: the average rank of i's tie group, in O(n²). */
    static double[] naiveRanks(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int less = 0, equal = 0;
            for (double w : v) {
                if (w < v[i]) less++;
                else if (w == v[i]) equal++;
            }
            r[i] = 1 + less + (equal - 1) / 2.0;
        }
        return r;
    }

    public static double naiveSpearman(double[] x, double[] y) {
        double[] a = naiveRanks(x), b = naiveRanks(y);
        int n = a.length;
        double sa = 0, sb = 0;
        for (int i = 0; i < n; i++) {
            sa += a[i];
            sb += b[i];
        }
        double cov = 0, va = 0, vb = 0;
        for (int i = 0; i < n; i++) {
            cov += (a[i] - sa / n) * (b[i] - sb / n);
            va += (a[i] - sa / n) * (a[i] - sa / n);
            vb += (b[i] - sb / n) * (b[i] - sb / n);
        }
        return cov / Math.sqrt(va * vb);
    }

    @Test
    void matchesANaiveImplementationWithAndWithoutTies() {
        Random r = new Random(3);
        for (int trial = 0; trial < 200; trial++) {
            int n = 2 + r.nextInt(40);
            double[] x = new double[n], y = new double[n];
            boolean ties = trial % 2 == 0;
            for (int i = 0; i < n; i++) {
                x[i] = ties ? r.nextInt(5) : r.nextGaussian();
                y[i] = ties ? r.nextInt(4) + 0.5 * x[i] : x[i] + r.nextGaussian();
            }
            assertArrayEquals(naiveRanks(x), Spearman.ranks(x), 0);
            double want = naiveSpearman(x, y);
            if (Double.isNaN(want)) assertTrue(Double.isNaN(Spearman.correlation(x, y)));
            else assertEquals(want, Spearman.correlation(x, y), 1e-12, "trial " + trial);
        }
    }

    @Test
    void knownValues() {
        assertEquals(1.0, Spearman.correlation(new double[] {1, 2, 3, 4}, new double[] {10, 20, 35, 1000}), 1e-15);
        assertEquals(-1.0, Spearman.correlation(new double[] {1, 2, 3, 4}, new double[] {4, 3, 2, 1}), 1e-15);
        // ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): 4.5 / sqrt(4.5 * 5)
        assertEquals(4.5 / Math.sqrt(4.5 * 5), Spearman.correlation(new double[] {1, 2, 2, 3}, new double[] {1, 2, 3, 4}), 1e-15);
        assertTrue(Double.isNaN(Spearman.correlation(new double[] {1, 1, 1}, new double[] {1, 2, 3})));
        assertThrows(IllegalArgumentException.class, () -> Spearman.correlation(new double[] {1, 2}, new double[] {1}));
    }
}
