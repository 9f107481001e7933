package org.projntk.kernel;

/**
 * Kernel normalisation.
 * <ul>
 *   <li>{@code NONE}: raw inner products.</li>
 *   <li>{@code COSINE}: K_ij / sqrt(K_ii K_jj), with K_ii the self-kernel of row i (its squared norm, summed over
 *       classes for trNTK; per (example, class) for eNTK) and K_jj that of column j on the other side.</li>
 *   <li>{@code STD}: K_ij / s, with s the (population) standard deviation of all entries of the raw kernel, like the
 *       "0" variants of the trNTK paper. Unless a scale is given, it costs an extra pass over the data.</li>
 * </ul>
 */
public enum KernelNormalization {
    /** Raw inner products. */
    NONE,
    /** K_ij / sqrt(K_ii K_jj); 0 where a self-kernel is 0. */
    COSINE,
    /** K_ij divided by the population std of all raw entries (or a given divisor). */
    STD;

    /**
     * Parses a normalisation name, ignoring case and surrounding blanks.
     *
     * @param s {@code none}, {@code cosine} (or {@code cos}) or {@code std}
     * @return the normalisation
     * @throws IllegalArgumentException naming the value for any other name
     */
    public static KernelNormalization parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "none" -> NONE;
            case "cosine", "cos" -> COSINE;
            case "std" -> STD;
            default -> throw new IllegalArgumentException("unknown normalisation '" + s + "' (expected none, cosine or std)");
        };
    }
}
