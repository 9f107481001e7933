package org.projntk.stats;

import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Count, mean and M2 (the sum of squared deviations from the mean) of a set of values, combined block by block with
 * Chan et al.'s pairwise formula: stable where sumsq/n - mean² would cancel. Combining the same blocks in the same order
 * gives the same bits, in one process or across a cluster.
 *
 * @param count the number of values (a double so that counts of several blocks add without overflow)
 * @param mean their mean; 0 when there are none
 * @param m2 the sum of squared deviations from the mean
 */
public record Moments(double count, double mean, double m2) implements Serializable {
    /** No values. */
    public static final Moments NONE = new Moments(0, 0, 0);

    /**
     * The moments of some floats, in two passes (mean, then squared deviations).
     *
     * @param values at least n float32 values in native order
     * @param n how many to read, at least 1
     * @return their moments
     */
    public static Moments ofFloats(MemorySegment values, long n) {
        double sum = 0;
        for (long i = 0; i < n; i++) sum += values.getAtIndex(ValueLayout.JAVA_FLOAT, i);
        double mean = sum / n;
        double m2 = 0;
        for (long i = 0; i < n; i++) {
            double d = values.getAtIndex(ValueLayout.JAVA_FLOAT, i) - mean;
            m2 += d * d;
        }
        return new Moments(n, mean, m2);
    }

    /**
     * Combines two blocks, order mattering only for the last bits.
     *
     * @param next the moments of the values that follow these
     * @return the moments of both blocks' values together
     */
    public Moments then(Moments next) {
        double total = count + next.count;
        double delta = next.mean - mean;
        return new Moments(total, mean + delta * next.count / total, m2 + next.m2 + delta * delta * count * next.count / total);
    }

    /** {@return the population standard deviation, sqrt(M2 / count); NaN with no values} */
    public double std() {
        return Math.sqrt(m2 / count);
    }
}
