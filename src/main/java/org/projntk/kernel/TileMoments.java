package org.projntk.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Mean and population standard deviation of all kernel entries, accumulated tile by tile with Chan et al.'s pairwise
 * combination of (count, mean, M2): stable where sumsq/n - mean² would cancel.
 */
final class TileMoments implements TileSink {
    private double count;
    private double mean;
    private double m2;

    @Override
    public void accept(long rowStart, long colStart, int rows, int cols, MemorySegment tile) {
        long n = (long) rows * cols;
        double sum = 0;
        for (long i = 0; i < n; i++) sum += tile.getAtIndex(ValueLayout.JAVA_FLOAT, i);
        double tileMean = sum / n;
        double tileM2 = 0;
        for (long i = 0; i < n; i++) {
            double d = tile.getAtIndex(ValueLayout.JAVA_FLOAT, i) - tileMean;
            tileM2 += d * d;
        }
        double total = count + n;
        double delta = tileMean - mean;
        mean += delta * n / total;
        m2 += tileM2 + delta * delta * count * n / total;
        count = total;
    }

    /** {mean, std}. */
    double[] meanStd() {
        return new double[] {mean, Math.sqrt(m2 / count)};
    }
}
