package org.projntk.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class KendallTauTest {
    /** Naive O(n²) τ-b from the definition: (C - D) / sqrt((n0 - n1)(n0 - n2)). */
    static double naive(double[] x, double[] y) {
        long conc = 0;
        long disc = 0;
        long tx = 0;
        long ty = 0;
        int n = x.length;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double dx = Math.signum(x[i] - x[j]);
                double dy = Math.signum(y[i] - y[j]);
                if (dx == 0) {
                    tx++;
                }
                if (dy == 0) {
                    ty++;
                }
                if (dx * dy > 0) {
                    conc++;
                } else if (dx * dy < 0) {
                    disc++;
                }
            }
        }
        long n0 = (long) n * (n - 1) / 2;
        return (conc - disc) / Math.sqrt((double) (n0 - tx) * (n0 - ty));
    }

    @Test
    void knownSmallCases() {
        assertEquals(1.0, KendallTau.tauB(new double[] {1, 2, 3, 4}, new double[] {10, 20, 30, 40}), 1e-15);
        assertEquals(-1.0, KendallTau.tauB(new double[] {1, 2, 3, 4}, new double[] {4, 3, 2, 1}), 1e-15);
        // pairs: (1,2) concordant, (1,3) concordant, (2,3) discordant -> 1/3
        assertEquals(1.0 / 3, KendallTau.tauB(new double[] {1, 2, 3}, new double[] {1, 3, 2}), 1e-15);
        // x tie in pair (1,2); (1,3),(2,3) concordant: 2 / sqrt((3-1)(3-0))
        assertEquals(2 / Math.sqrt(6), KendallTau.tauB(new double[] {1, 1, 2}, new double[] {1, 2, 3}), 1e-15);
        assertTrue(Double.isNaN(KendallTau.tauB(new double[] {1, 1, 1}, new double[] {1, 2, 3})));
        assertEquals(1.0, KendallTau.tauB(new double[] {-0.0, 0.0, 1}, new double[] {5, 5, 6}), 1e-15);
    }

    @Test
    void matchesNaiveOnRandomDataWithManyTies() {
        Random r = new Random(11);
        for (int trial = 0; trial < 40; trial++) {
            int n = 2 + r.nextInt(300);
            int levelsX = 1 + r.nextInt(6);
            int levelsY = 1 + r.nextInt(trial % 2 == 0 ? 6 : 1000);
            double[] x = new double[n];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = r.nextInt(levelsX);
                y[i] = trial % 3 == 0 ? x[i] + r.nextInt(levelsY) : r.nextInt(levelsY);
            }
            double want = naive(x, y);
            double got = KendallTau.tauB(x, y);
            if (Double.isNaN(want)) {
                assertTrue(Double.isNaN(got));
            } else {
                assertEquals(want, got, 1e-12, "trial " + trial);
            }
        }
    }

    @Test
    void largeInputIsFast() {
        Random r = new Random(12);
        int n = 200_000;
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextGaussian();
            y[i] = x[i] + r.nextGaussian();
        }
        long t0 = System.nanoTime();
        double tau = KendallTau.tauB(x, y);
        double secs = (System.nanoTime() - t0) / 1e9;
        // for a bivariate normal with correlation ρ, τ = (2/π) asin(ρ); here ρ = 1/√2 -> τ = 0.5
        assertEquals(0.5, tau, 0.01);
        assertTrue(secs < 5, "took " + secs + " s");
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> KendallTau.tauB(new double[] {1, 2}, new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> KendallTau.tauB(new double[] {1, Double.NaN}, new double[] {1, 2}));
    }
}
