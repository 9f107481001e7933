package org.projntk.torch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/** Seeded inputs for the builtin models, and norm-wise comparisons. */
final class TestData {
    private TestData() {}

    static long[] shape(String builtin, int batch) {
        long[] example = Builtins.inputShape(builtin);
        long[] shape = new long[example.length + 1];
        shape[0] = batch;
        System.arraycopy(example, 0, shape, 1, example.length);
        return shape;
    }

    static float[] gaussian(long n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[(int) n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    static MemorySegment input(Arena arena, long[] shape, long seed) {
        return arena.allocateFrom(ValueLayout.JAVA_FLOAT, gaussian(numel(shape), seed));
    }

    static double norm(float[] a) {
        double s = 0;
        for (float v : a) s += (double) v * v;
        return Math.sqrt(s);
    }

    /** ||a - b||_2 / ||b||_2 (b is the reference). */
    static double relDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths " + a.length + " vs " + b.length);
        double d = 0;
        for (int i = 0; i < a.length; i++) d += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
        double n = norm(b);
        return n == 0 ? Math.sqrt(d) : Math.sqrt(d) / n;
    }
}
