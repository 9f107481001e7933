package org.projntk.data;

import java.util.Arrays;
import java.util.Locale;

/**
 * How raw values become model inputs.
 * <ul>
 * <li>{@code DEFAULT}: IDX/CIFAR bytes scaled to [0,1]; {@code .npy} data used exactly as stored.</li>
 * <li>{@code NONE}: raw values (0..255 for bytes; stored values for npy).</li>
 * <li>{@code UNIT}: raw / 255.</li>
 * <li>{@code STANDARD}: (d - mean[c]) / std[c] per channel, where d is the DEFAULT value (so image-set mean/std are on the
 * [0,1] scale, like torchvision's Normalize after ToTensor). With mean/std null they are computed (fp64) over the
 * selected rows. Channel c is the first example dimension when examples have rank >= 2, else there is one channel.</li>
 * </ul>
 *
 * @param kind which normalisation
 * @param mean STANDARD's per-channel means (copied), or null to compute them
 * @param std STANDARD's per-channel standard deviations, positive (copied), or null to compute them
 */
public record Normalization(Kind kind, float[] mean, float[] std) {
    /** Which of the normalisations above. */
    public enum Kind {
        /** Bytes scaled to [0,1], npy values as stored. */
        DEFAULT,
        /** Raw values. */
        NONE,
        /** raw / 255. */
        UNIT,
        /** (DEFAULT value - mean[c]) / std[c]. */
        STANDARD
    }

    /** Bytes scaled to [0,1], npy values as stored. */
    public static final Normalization DEFAULT = new Normalization(Kind.DEFAULT, null, null);
    /** Raw values. */
    public static final Normalization NONE = new Normalization(Kind.NONE, null, null);
    /** raw / 255, for every source. */
    public static final Normalization UNIT = new Normalization(Kind.UNIT, null, null);
    /** Standardisation with per-channel statistics computed from the data. */
    public static final Normalization STANDARD_COMPUTED = new Normalization(Kind.STANDARD, null, null);

    /**
     * Checks the statistics.
     *
     * @throws IllegalArgumentException if only one of mean and std is given, they are given for another kind, their
     *     lengths differ or are 0, a std is not positive and finite, or a mean is not finite
     */
    public Normalization {
        if ((mean == null) != (std == null)) throw new IllegalArgumentException("give both mean and std, or neither");
        if (mean != null) {
            if (kind != Kind.STANDARD) throw new IllegalArgumentException("mean/std only apply to standard normalisation");
            if (mean.length != std.length || mean.length == 0) {
                throw new IllegalArgumentException("mean and std need the same, non-zero length: " + mean.length + " vs " + std.length);
            }
            for (float s : std) {
                if (!(s > 0) || !Float.isFinite(s)) throw new IllegalArgumentException("std must be positive and finite: " + Arrays.toString(std));
            }
            for (float m : mean) if (!Float.isFinite(m)) throw new IllegalArgumentException("mean must be finite: " + Arrays.toString(mean));
            mean = mean.clone();
            std = std.clone();
        }
    }

    /**
     * Standardisation with given statistics, on the [0,1] scale for image data.
     *
     * @param mean per-channel means, e.g. CIFAR-10's {0.4914, 0.4822, 0.4465}
     * @param std per-channel standard deviations, positive
     * @return the normalisation
     */
    public static Normalization standard(float[] mean, float[] std) {
        return new Normalization(Kind.STANDARD, mean, std);
    }

    /**
     * Parses the command line's form, case-insensitively; {@link #toString()} gives it back.
     *
     * @param s "default", "none", "unit", "standard" or "standard:M1,M2,..:S1,S2,.."
     * @return the normalisation
     * @throws IllegalArgumentException for another form or bad numbers
     */
    public static Normalization parse(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT);
        switch (t) {
            case "default": return DEFAULT;
            case "none": return NONE;
            case "unit": return UNIT;
            case "standard": return STANDARD_COMPUTED;
            default:
        }
        if (t.startsWith("standard:")) {
            String[] parts = t.substring(9).split(":");
            if (parts.length == 2) {
                try {
                    return standard(floats(parts[0]), floats(parts[1]));
                } catch (NumberFormatException e) {
                    // fall through to the error below
                }
            }
        }
        throw new IllegalArgumentException("bad normalisation '" + s
                + "': expected default, none, unit, standard or standard:MEAN,..:STD,..");
    }

    private static float[] floats(String csv) {
        String[] p = csv.split(",");
        float[] out = new float[p.length];
        for (int i = 0; i < p.length; i++) out[i] = Float.parseFloat(p[i].strip());
        return out;
    }

    @Override
    public String toString() {
        if (mean == null) return kind.name().toLowerCase(Locale.ROOT);
        return "standard:" + join(mean) + ":" + join(std);
    }

    private static String join(float[] a) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < a.length; i++) b.append(i == 0 ? "" : ",").append(a[i]);
        return b.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalization n && n.kind == kind && Arrays.equals(n.mean, mean) && Arrays.equals(n.std, std);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Arrays.hashCode(mean) * 7 + Arrays.hashCode(std);
    }
}
