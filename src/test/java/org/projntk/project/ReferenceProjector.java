package org.projntk.project;

/**
 * Scalar, readable reference of the projection defined in docs/projection.md and native/jl/philox.h.
 * Every entry R[p,k] is computed from scratch with Philox4x32-10 in exactly the float operations the
 * native kernels use, so {@link #entry} matches {@code projntk_projector_entry} bit for bit; the
 * projection accumulates in double. Meant for tests and for explaining the algorithm, not for speed.
 */
public final class ReferenceProjector {
    public static final int RADEMACHER = 0;
    public static final int GAUSSIAN = 1;
    public static final int SJLT = 2;
    public static final int NONE = 3;

    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final int KEY_DOMAIN = 0x504A4E54; // "PJNT"

    // Same float constants as philox.h (hexadecimal literals, so both languages read the same bits).
    private static final float LN2 = 0x1.62e430p-1f;
    private static final float L3 = 0x1.555556p-1f, L5 = 0x1.99999ap-2f, L7 = 0x1.24924ap-2f,
            L9 = 0x1.c71c72p-3f, L11 = 0x1.745d18p-3f;
    private static final float S1 = 0x1.921fb6p+2f, S3 = -0x1.4abbcep+5f, S5 = 0x1.466bc6p+6f,
            S7 = -0x1.32d2ccp+6f, S9 = 0x1.507834p+5f;
    private static final float C2 = -0x1.3bd3ccp+4f, C4 = 0x1.03c1f0p+6f, C6 = -0x1.55d3c8p+6f,
            C8 = 0x1.e1f506p+5f, C10 = -0x1.a6d1f2p+4f;

    private final int kind;
    private final long p;
    private final int k;
    private final int s;
    private final int key0, key1;
    private final float scale;

    /**
     * @param kind     RADEMACHER, GAUSSIAN, SJLT or NONE (the values of projntk.h)
     * @param P        input dimension, >= 1
     * @param K        output dimension, 1 .. 2^31-1 (must equal P for NONE)
     * @param seed     the projector seed
     * @param modelId  the model id mixed into the key
     * @param sjltS    nonzeros per coordinate for SJLT (>= 1, clamped to K); ignored otherwise
     * @param unscaled TRAK's convention: no 1/sqrt(K) (dense) or 1/sqrt(s) (SJLT) factor
     */
    public ReferenceProjector(int kind, long P, long K, long seed, long modelId, int sjltS, boolean unscaled) {
        if (kind < RADEMACHER || kind > NONE) throw new IllegalArgumentException("unknown projector kind " + kind);
        if (P < 1) throw new IllegalArgumentException("P must be >= 1, got " + P);
        if (kind == NONE) {
            if (K != P) throw new IllegalArgumentException("kind NONE needs K == P, got K=" + K + ", P=" + P);
            if (K > Integer.MAX_VALUE) throw new IllegalArgumentException("K too large for the reference: " + K);
        } else if (K < 1 || K > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("K must be in [1, 2^31-1], got " + K);
        }
        if (kind == SJLT && sjltS < 1) throw new IllegalArgumentException("SJLT needs sjltS >= 1, got " + sjltS);
        this.kind = kind;
        this.p = P;
        this.k = (int) K;
        int[] key = philox4x32_10(new int[] {(int) modelId, (int) (modelId >>> 32), kind, KEY_DOMAIN},
                new int[] {(int) seed, (int) (seed >>> 32)});
        this.key0 = key[0];
        this.key1 = key[1];
        if (kind == SJLT) {
            this.s = (int) Math.min(sjltS, K);
            this.scale = unscaled ? 1.0f : (float) (1.0 / Math.sqrt(this.s));
        } else {
            this.s = 0;
            this.scale = (unscaled || kind == NONE) ? 1.0f : (float) (1.0 / Math.sqrt((double) K));
        }
    }

    public ReferenceProjector(ProjectorKind kind, long P, long K, long seed, long modelId, int sjltS,
                              boolean unscaled) {
        this(kind.code(), P, K, seed, modelId, sjltS, unscaled);
    }

    public long inputDim() { return p; }

    public int outputDim() { return k; }

    /** Random123 Philox4x32 with 10 rounds: ctr (4 words) and key (2 words) to 4 words. */
    public static int[] philox4x32_10(int[] ctr, int[] key) {
        int c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long prod0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long prod1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (prod0 >>> 32), lo0 = (int) prod0;
            int hi1 = (int) (prod1 >>> 32), lo1 = (int) prod1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /** The four words of Philox at counter (p, block), under this projector's key. */
    int[] blockBits(long row, long block) {
        return philox4x32_10(new int[] {(int) row, (int) (row >>> 32), (int) block, (int) (block >>> 32)},
                new int[] {key0, key1});
    }

    /** The scaled entry R[p,k], as a float widened to double. */
    public double entry(long row, int col) {
        if (row < 0 || row >= p) throw new IndexOutOfBoundsException("p=" + row + " outside [0, " + p + ")");
        if (col < 0 || col >= k) throw new IndexOutOfBoundsException("k=" + col + " outside [0, " + k + ")");
        switch (kind) {
            case RADEMACHER: {
                int[] w = blockBits(row, col >>> 7);
                int bit = (w[(col >>> 5) & 3] >>> (col & 31)) & 1;
                return bit == 1 ? -scale : scale;
            }
            case GAUSSIAN: {
                int[] w = blockBits(row, col >>> 2);
                int pair = (col >>> 1) & 1;
                float r = (float) Math.sqrt(boxMullerR2(w[2 * pair]));
                float[] cs = unitCircle(w[2 * pair + 1]);
                float z = (col & 1) == 1 ? r * cs[1] : r * cs[0];
                return z * scale;
            }
            case SJLT: {
                for (int j = 0; j < s; j++) {
                    long lo = blockStart(j), hi = blockStart(j + 1);
                    if (col < lo || col >= hi) continue;
                    int[] w = blockBits(row, j >>> 1);
                    int a = 2 * (j & 1);
                    long pos = lo + (((w[a] & 0xFFFFFFFFL) * (hi - lo)) >>> 32);
                    if (pos != col) return 0.0;
                    return (w[a + 1] >>> 31) == 1 ? -scale : scale;
                }
                return 0.0;
            }
            default:
                return row == col ? 1.0 : 0.0;
        }
    }

    /** First column of SJLT block j: floor(j K / s). */
    long blockStart(long j) {
        return j * k / s;
    }

    /** -2 ln u for u = ((w >>> 8) + 1) / 2^24, in the float operations of philox.h. */
    static float boxMullerR2(int w) {
        float m = (float) ((w >>> 8) + 1);
        int bits = Float.floatToRawIntBits(m);
        int mant = bits & 0x007FFFFF;
        int big = mant > 0x3504F3 ? 1 : 0;
        int e = (bits >>> 23) - 127 + big;
        float f = Float.intBitsToFloat((mant | 0x3F800000) - (big << 23));
        float s = (f - 1.0f) / (f + 1.0f);
        float z = s * s;
        float t = Math.fma(z, L11, L9);
        t = Math.fma(z, t, L7);
        t = Math.fma(z, t, L5);
        t = Math.fma(z, t, L3);
        float lnf = Math.fma(s * z, t, 2.0f * s);
        float lnu = Math.fma((float) (e - 24), LN2, lnf);
        float r2 = -2.0f * lnu;
        return r2 > 0.0f ? r2 : 0.0f;
    }

    /** {cos, sin} of 2 pi (w >>> 8) / 2^24, in the float operations of philox.h. */
    static float[] unitCircle(int w) {
        int v = w >>> 8;
        int n = (v + (1 << 21)) >>> 22;
        int ti = v - (n << 22);
        float t = (float) ti * 0x1p-24f;
        float u = t * t;
        float sp = Math.fma(u, S9, S7);
        sp = Math.fma(u, sp, S5);
        sp = Math.fma(u, sp, S3);
        sp = Math.fma(u, sp, S1);
        float sn = t * sp;
        float cp = Math.fma(u, C10, C8);
        cp = Math.fma(u, cp, C6);
        cp = Math.fma(u, cp, C4);
        cp = Math.fma(u, cp, C2);
        float cs = Math.fma(u, cp, 1.0f);
        switch (n & 3) {
            case 0: return new float[] {cs, sn};
            case 1: return new float[] {-sn, cs};
            case 2: return new float[] {-cs, -sn};
            default: return new float[] {sn, -cs};
        }
    }

    /** x[B][P] times R, accumulated in double. */
    public double[][] project(float[][] x) {
        double[][] out = new double[x.length][k];
        for (int b = 0; b < x.length; b++) {
            if (x[b].length != p) throw new IllegalArgumentException("row " + b + " has " + x[b].length + " columns, P=" + p);
        }
        for (int row = 0; row < p; row++) {
            for (int col = 0; col < k; col++) {
                double r = entry(row, col);
                if (r == 0.0) continue;
                for (int b = 0; b < x.length; b++) out[b][col] += x[b][row] * r;
            }
        }
        return out;
    }

    public double[] project(float[] x) {
        return project(new float[][] {x})[0];
    }
}
