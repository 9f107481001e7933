package org.projntk.stats;

import java.util.Arrays;

/** Spearman rank correlation: Pearson correlation of the ranks, ties given their average rank. */
public final class Spearman {
    private Spearman() {}

    /**
     * The rank correlation of paired samples.
     *
     * @param x the first variable
     * @param y the second, as long as {@code x}
     * @return ρ in [-1, 1]; NaN when either side is constant (its ranks have no variance)
     * @throws IllegalArgumentException for different lengths, fewer than 2 pairs or a NaN
     */
    public static double correlation(double[] x, double[] y) {
        if (x.length != y.length) throw new IllegalArgumentException("lengths differ: " + x.length + " vs " + y.length);
        if (x.length < 2) throw new IllegalArgumentException("need at least 2 pairs, got " + x.length);
        return pearson(ranks(x), ranks(y));
    }

    /**
     * 1-based ranks, ties given their average rank.
     *
     * @param v the values, not modified
     * @return the rank of each value, in v's order
     * @throws IllegalArgumentException on a NaN
     */
    public static double[] ranks(double[] v) {
        Integer[] order = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            if (Double.isNaN(v[i])) throw new IllegalArgumentException("NaN at index " + i);
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(v[a], v[b]));
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; ) {
            int j = i;
            while (j + 1 < v.length && v[order[j + 1]] == v[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int t = i; t <= j; t++) r[order[t]] = rank;
            i = j + 1;
        }
        return r;
    }

    static double pearson(double[] a, double[] b) {
        double ma = 0, mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= a.length;
        mb /= b.length;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.length; i++) {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return saa == 0 || sbb == 0 ? Double.NaN : sab / Math.sqrt(saa * sbb);
    }
}
