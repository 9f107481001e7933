package org.projntk.project;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ReferenceProjectorTest {

    // Random123's published known-answer vectors (kat_vectors): counter, key, expected output.
    @Test
    void philoxMatchesRandom123KnownAnswers() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                ReferenceProjector.philox4x32_10(new int[] {0, 0, 0, 0}, new int[] {0, 0}));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                ReferenceProjector.philox4x32_10(new int[] {-1, -1, -1, -1}, new int[] {-1, -1}));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                ReferenceProjector.philox4x32_10(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                        new int[] {0xa4093822, 0x299f31d0}));
    }

    /** Key of docs/projection.md, derived here by hand from the spec. */
    private static int[] key(long seed, long modelId, int kind) {
        return ReferenceProjector.philox4x32_10(
                new int[] {(int) modelId, (int) (modelId >>> 32), kind, 0x504A4E54}, new int[] {(int) seed, (int) (seed >>> 32)});
    }

    private static int[] bits(int[] key, long p, long block) {
        return ReferenceProjector.philox4x32_10(new int[] {(int) p, (int) (p >>> 32), (int) block, (int) (block >>> 32)},
                new int[] {key[0], key[1]});
    }

    @Test
    void rademacherEntriesFollowTheDocumentedBitMapping() {
        long seed = 12345, model = 0x1_0000_0002L, bigP = 1L << 40;
        int bigK = 1000;
        ReferenceProjector r = new ReferenceProjector(ReferenceProjector.RADEMACHER, bigP, bigK, seed, model, 0, false);
        int[] key = key(seed, model, 0);
        float scale = (float) (1 / Math.sqrt(bigK));
        for (long p : new long[] {0, 1, 4_294_967_295L, 4_294_967_296L, bigP - 1}) {
            for (int k : new int[] {0, 31, 32, 127, 128, 500, 999}) {
                int[] w = bits(key, p, k / 128);
                int word = (k % 128) / 32, bit = k % 32;
                double expected = ((w[word] >>> bit) & 1) == 1 ? -scale : scale;
                assertEquals(expected, r.entry(p, k), "p=" + p + " k=" + k);
            }
        }
        // Unscaled gives exactly +-1, with the same signs.
        ReferenceProjector u = new ReferenceProjector(ReferenceProjector.RADEMACHER, bigP, bigK, seed, model, 0, true);
        assertEquals(Math.signum(r.entry(77, 400)), u.entry(77, 400));
        assertEquals(1.0, Math.abs(u.entry(77, 400)));
    }

    @Test
    void gaussianEntriesAreBoxMullerOfTheirWords() {
        long seed = -3, model = 9;
        int bigK = 64;
        ReferenceProjector r = new ReferenceProjector(ReferenceProjector.GAUSSIAN, 100, bigK, seed, model, 0, true);
        int[] key = key(seed, model, 1);
        for (long p = 0; p < 100; p += 7) {
            for (int k = 0; k < bigK; k++) {
                int[] w = bits(key, p, k / 4);
                int pair = (k / 2) % 2;
                double u = ((w[2 * pair] >>> 8) + 1) / 16777216.0;
                double angle = 2 * Math.PI * (w[2 * pair + 1] >>> 8) / 16777216.0;
                double radius = Math.sqrt(-2 * Math.log(u));
                double expected = (k % 2 == 0) ? radius * Math.cos(angle) : radius * Math.sin(angle);
                // float construction: a few float ulps of the radius
                assertEquals(expected, r.entry(p, k), 2e-6 * Math.max(1, radius), "p=" + p + " k=" + k);
            }
        }
        ReferenceProjector scaled = new ReferenceProjector(ReferenceProjector.GAUSSIAN, 100, bigK, seed, model, 0, false);
        assertEquals(r.entry(5, 5) / 8.0, scaled.entry(5, 5), 1e-7);
    }

    @Test
    void sjltRowsHaveOneSignedNonzeroPerBlock() {
        long seed = 1, model = 2;
        int bigK = 103, s = 4;
        ReferenceProjector r = new ReferenceProjector(ReferenceProjector.SJLT, 50, bigK, seed, model, s, false);
        int[] key = key(seed, model, 2);
        for (long p = 0; p < 50; p++) {
            for (int j = 0; j < s; j++) {
                long lo = (long) j * bigK / s, hi = (long) (j + 1) * bigK / s;
                int[] w = bits(key, p, j / 2);
                int a = 2 * (j % 2);
                long pos = lo + (((w[a] & 0xFFFFFFFFL) * (hi - lo)) >>> 32);
                double expected = (w[a + 1] < 0 ? -1 : 1) / Math.sqrt(s);
                for (long k = lo; k < hi; k++) {
                    assertEquals(k == pos ? expected : 0.0, r.entry(p, (int) k), 1e-7, "p=" + p + " k=" + k);
                }
            }
        }
        // s is clamped to K: every column of a 3-column SJLT with s=10 is +-1 (unscaled).
        ReferenceProjector c = new ReferenceProjector(ReferenceProjector.SJLT, 5, 3, 1, 1, 10, true);
        for (int k = 0; k < 3; k++) assertEquals(1.0, Math.abs(c.entry(4, k)));
    }

    @Test
    void projectionIsTheDoubleSumOfEntries() {
        Random rnd = new Random(4);
        float[][] x = new float[3][37];
        for (float[] row : x) for (int i = 0; i < row.length; i++) row[i] = (float) rnd.nextGaussian();
        for (int kind = 0; kind < 3; kind++) {
            ReferenceProjector r = new ReferenceProjector(kind, 37, 11, 5, 6, 3, false);
            double[][] out = r.project(x);
            for (int b = 0; b < 3; b++) {
                for (int k = 0; k < 11; k++) {
                    double sum = 0;
                    for (int p = 0; p < 37; p++) sum += x[b][p] * r.entry(p, k);
                    assertEquals(sum, out[b][k], 1e-12);
                }
            }
            assertArrayEquals(out[1], r.project(x[1]), 0.0);
        }
        ReferenceProjector id = new ReferenceProjector(ReferenceProjector.NONE, 37, 37, 0, 0, 0, false);
        double[] copy = id.project(x[2]);
        for (int p = 0; p < 37; p++) assertEquals(x[2][p], copy[p], 0.0);
    }

    @Test
    void normIsPreservedOnAverageOverSeeds() {
        // E|Rx|^2 = |x|^2 with Var <= 2|x|^4/K; over 200 seeds the mean is within 4.5 standard errors.
        Random rnd = new Random(8);
        float[] x = new float[64];
        double xx = 0;
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
            xx += x[i] * x[i];
        }
        int bigK = 16, seeds = 200;
        for (int kind = 0; kind < 3; kind++) {
            double mean = 0;
            for (int seed = 0; seed < seeds; seed++) {
                double[] y = new ReferenceProjector(kind, 64, bigK, seed, 1, 2, false).project(x);
                double n = 0;
                for (double v : y) n += v * v;
                mean += n / seeds;
            }
            double se = Math.sqrt(2 * xx * xx / bigK / seeds);
            assertTrue(Math.abs(mean - xx) < 4.5 * se, "kind " + kind + ": mean " + mean + " vs " + xx);
        }
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ReferenceProjector(7, 10, 5, 0, 0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new ReferenceProjector(0, 0, 5, 0, 0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new ReferenceProjector(0, 10, 0, 0, 0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new ReferenceProjector(3, 10, 5, 0, 0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new ReferenceProjector(2, 10, 5, 0, 0, 0, false));
        ReferenceProjector r = new ReferenceProjector(0, 10, 5, 0, 0, 1, false);
        assertThrows(IndexOutOfBoundsException.class, () -> r.entry(10, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> r.entry(0, 5));
        assertThrows(IllegalArgumentException.class, () -> r.project(new float[][] {new float[9]}));
    }
}
