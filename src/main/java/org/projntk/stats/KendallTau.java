package org.projntk.stats;

import java.util.Arrays;

/**
 * Kendall's τ-b in O(n log n) (Knight 1966): sort by (x, y), count x-ties and joint ties, then count the
 * discordant pairs as the swaps of a merge sort on y, and y-ties after it.
 *
 * <p>τ_b = (n0 - n1 - n2 + n3 - 2·swaps) / sqrt((n0 - n1)(n0 - n2)), with n0 = n(n-1)/2, n1 the pairs tied in x,
 * n2 the pairs tied in y and n3 the pairs tied in both. Returns NaN when either variable is constant.
 */
public final class KendallTau {
    private KendallTau() {}

    /**
     * τ-b of two paired samples.
     *
     * @param xIn the first variable, not modified
     * @param yIn the second, as long as {@code xIn}
     * @return τ-b in [-1, 1]; NaN for fewer than 2 pairs or a constant variable
     * @throws IllegalArgumentException on null input, different lengths or a NaN
     */
    public static double tauB(double[] xIn, double[] yIn) {
        if (xIn == null || yIn == null) {
            throw new IllegalArgumentException("Kendall tau: null input");
        }
        if (xIn.length != yIn.length) {
            throw new IllegalArgumentException("Kendall tau: lengths differ (" + xIn.length + " vs " + yIn.length + ")");
        }
        int n = xIn.length;
        // + 0.0 turns -0.0 into 0.0, so Double.compare agrees with == on ties
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = xIn[i] + 0.0;
            y[i] = yIn[i] + 0.0;
        }
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(x[i]) || Double.isNaN(y[i])) {
                throw new IllegalArgumentException("Kendall tau: NaN at index " + i);
            }
        }
        if (n < 2) {
            return Double.NaN;
        }
        Integer[] boxed = new Integer[n];
        for (int i = 0; i < n; i++) {
            boxed[i] = i;
        }
        Arrays.sort(boxed, (a, b) -> {
            int c = Double.compare(x[a], x[b]);
            return c != 0 ? c : Double.compare(y[a], y[b]);
        });
        double[] xs = new double[n];
        double[] ys = new double[n];
        for (int i = 0; i < n; i++) {
            xs[i] = x[boxed[i]];
            ys[i] = y[boxed[i]];
        }
        long n0 = (long) n * (n - 1) / 2;
        long n1 = 0; // ties in x
        long n3 = 0; // ties in both
        long runX = 1;
        long runXY = 1;
        for (int i = 1; i < n; i++) {
            if (xs[i] == xs[i - 1]) {
                runX++;
                if (ys[i] == ys[i - 1]) {
                    runXY++;
                } else {
                    n3 += runXY * (runXY - 1) / 2;
                    runXY = 1;
                }
            } else {
                n1 += runX * (runX - 1) / 2;
                n3 += runXY * (runXY - 1) / 2;
                runX = 1;
                runXY = 1;
            }
        }
        n1 += runX * (runX - 1) / 2;
        n3 += runXY * (runXY - 1) / 2;

        long swaps = mergeSortSwaps(ys, new double[n], 0, n);

        long n2 = 0; // ties in y (ys is now sorted)
        long runY = 1;
        for (int i = 1; i < n; i++) {
            if (ys[i] == ys[i - 1]) {
                runY++;
            } else {
                n2 += runY * (runY - 1) / 2;
                runY = 1;
            }
        }
        n2 += runY * (runY - 1) / 2;

        double denom = Math.sqrt((double) (n0 - n1) * (double) (n0 - n2));
        if (denom == 0) {
            return Double.NaN;
        }
        double num = (double) (n0 - n1 - n2 + n3) - 2.0 * swaps;
        return num / denom;
    }

    /** Sorts a[lo, hi) ascending and returns the number of strict inversions (pairs i<j with a[i] > a[j]). */
    private static long mergeSortSwaps(double[] a, double[] buf, int lo, int hi) {
        if (hi - lo < 2) {
            return 0;
        }
        int mid = (lo + hi) >>> 1;
        long swaps = mergeSortSwaps(a, buf, lo, mid) + mergeSortSwaps(a, buf, mid, hi);
        int i = lo;
        int j = mid;
        int k = lo;
        while (i < mid && j < hi) {
            if (a[j] < a[i]) {
                swaps += mid - i;
                buf[k++] = a[j++];
            } else {
                buf[k++] = a[i++];
            }
        }
        while (i < mid) {
            buf[k++] = a[i++];
        }
        while (j < hi) {
            buf[k++] = a[j++];
        }
        System.arraycopy(buf, lo, a, lo, hi - lo);
        return swaps;
    }

    /**
     * As {@link #tauB(double[], double[])}, on float samples widened to double.
     *
     * @param x the first variable
     * @param y the second, as long as {@code x}
     * @return τ-b in [-1, 1], or NaN
     */
    public static double tauB(float[] x, float[] y) {
        double[] dx = new double[x.length];
        double[] dy = new double[y.length];
        for (int i = 0; i < x.length; i++) {
            dx[i] = x[i];
        }
        for (int i = 0; i < y.length; i++) {
            dy[i] = y[i];
        }
        return tauB(dx, dy);
    }

    /**
     * The paper's τ (pnnl/projection_ntk): τ-b between the network's and the surrogate's softmax probability of the
     * TRUE class of each test example, leaving out examples where either probability is exactly 0 or 1 (saturated).
     *
     * @param networkProbabilities   [T x C] row-major softmax probabilities
     * @param surrogateProbabilities [T x C] row-major softmax probabilities
     * @param trueLabels             the T true classes, each in [0, C)
     * @param classes                C
     * @return τ-b over the unsaturated examples; NaN if fewer than 2 remain or either side is constant
     * @throws IllegalArgumentException if the shapes disagree or a label is outside [0, C)
     */
    public static double trueClassMasked(double[] networkProbabilities, double[] surrogateProbabilities, int[] trueLabels,
                                         int classes) {
        return masked(networkProbabilities, surrogateProbabilities, trueLabels, classes, true);
    }

    /**
     * τ-b between the two probabilities of the network's PREDICTED class (projntk's first definition), unmasked.
     *
     * @param networkProbabilities   [T x C] row-major softmax probabilities
     * @param surrogateProbabilities [T x C] row-major softmax probabilities
     * @param networkPredictions     the network's T predicted classes, each in [0, C)
     * @param classes                C
     * @return τ-b over all T examples, or NaN if either side is constant
     * @throws IllegalArgumentException if the shapes disagree or a class is outside [0, C)
     */
    public static double predictedClass(double[] networkProbabilities, double[] surrogateProbabilities, int[] networkPredictions,
                                        int classes) {
        return masked(networkProbabilities, surrogateProbabilities, networkPredictions, classes, false);
    }

    private static double masked(double[] a, double[] b, int[] cls, int classes, boolean mask) {
        int t = cls.length;
        if (a.length != (long) t * classes || b.length != (long) t * classes) {
            throw new IllegalArgumentException("Kendall tau: probabilities must be [" + t + " x " + classes + "], got "
                    + a.length + " and " + b.length + " values");
        }
        double[] x = new double[t];
        double[] y = new double[t];
        int kept = 0;
        for (int i = 0; i < t; i++) {
            if (cls[i] < 0 || cls[i] >= classes) {
                throw new IllegalArgumentException("Kendall tau: class " + cls[i] + " of example " + i + " is outside [0, " + classes + ")");
            }
            double p = a[i * classes + cls[i]];
            double q = b[i * classes + cls[i]];
            if (mask && (p == 0 || p == 1 || q == 0 || q == 1)) continue;
            x[kept] = p;
            y[kept] = q;
            kept++;
        }
        return tauB(Arrays.copyOf(x, kept), Arrays.copyOf(y, kept));
    }
}
