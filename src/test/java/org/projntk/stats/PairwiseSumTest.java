package org.projntk.stats;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** PairwiseSum against the recursive definition of its order, and split into aligned ranges as a block job does. */
class PairwiseSumTest {
    /** Terms whose sum depends on the order of additions (magnitudes from 1e-8 to 1e8). */
    static double[][] terms(int n, int length, long seed) {
        Random r = new Random(seed);
        double[][] t = new double[n][length];
        for (double[] row : t) for (int i = 0; i < length; i++) row[i] = r.nextGaussian() * Math.pow(10, r.nextInt(17) - 8);
        return t;
    }

    /** S(lo, size) of the class comment, written as the recursion; null when the range holds no term. */
    static double[] tree(double[][] t, int lo, int size) {
        if (lo >= t.length) return null;
        if (size == 1) return t[lo].clone();
        double[] left = tree(t, lo, size / 2), right = tree(t, lo + size / 2, size / 2);
        if (right == null) return left;
        for (int i = 0; i < left.length; i++) left[i] += right[i];
        return left;
    }

    static double[] pairwise(double[][] t, int from, int to) {
        PairwiseSum s = new PairwiseSum();
        for (int i = from; i < to; i++) s.add(t[i].clone());
        return s.result();
    }

    @Test
    void isTheRecursiveTreeAndSplitsIntoAlignedRanges() {
        int orderMattered = 0;
        for (int n = 1; n <= 40; n++) {
            double[][] t = terms(n, 16, n);
            double[] want = tree(t, 0, Integer.highestOneBit(2 * n - 1));
            assertArrayEquals(want, pairwise(t, 0, n), "n = " + n);
            for (int span = 1; span <= 16; span *= 2) {      // tasks sum aligned ranges of span terms, the driver sums those
                PairwiseSum ranges = new PairwiseSum();
                for (int from = 0; from < n; from += span) ranges.add(pairwise(t, from, Math.min(from + span, n)));
                assertArrayEquals(want, ranges.result(), "n = " + n + ", ranges of " + span);
            }
            double[] leftFold = t[0].clone();
            for (int i = 1; i < n; i++) for (int j = 0; j < 16; j++) leftFold[j] += t[i][j];
            if (!Arrays.equals(leftFold, want)) orderMattered++;
        }
        assertTrue(orderMattered > 20, "the terms should be such that the order of additions shows: " + orderMattered);
    }

    @Test
    void misuseIsRejected() {
        PairwiseSum s = new PairwiseSum();
        assertThrows(IllegalStateException.class, s::result);
        s.add(new double[3]);
        assertThrows(IllegalArgumentException.class, () -> s.add(new double[4]));
        assertEquals(1, s.terms());
        assertArrayEquals(new double[3], s.result());
        assertThrows(IllegalStateException.class, () -> s.add(new double[3]));
    }
}
