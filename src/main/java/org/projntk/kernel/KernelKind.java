package org.projntk.kernel;

/**
 * How the per-output feature matrices of an operand are combined into a kernel.
 * <ul>
 *   <li>{@code PNTK}: one feature matrix per side (pNTK, scaled pNTK or TRAK's margin gradient); K = A Bᵀ.</li>
 *   <li>{@code TRNTK}: C matrices per side (one per class); K = Σ_c A_c B_cᵀ, an [N x M] kernel.</li>
 *   <li>{@code ENTK}: C matrices per side; the full block kernel K[(i,c),(j,c')] = A_c[i]·B_c'[j], laid out as a
 *       row-major [N*C x M*C] matrix with row i*C+c and column j*C+c' (the same bytes as an [N, C, M, C] tensor).</li>
 * </ul>
 */
public enum KernelKind {
    /** One feature matrix per side; K = A Bᵀ, [N x M]. */
    PNTK,
    /** One feature matrix per class per side; K = Σ_c A_c B_cᵀ, [N x M]. */
    TRNTK,
    /** One feature matrix per class per side; the block kernel, [N*C x M*C]. */
    ENTK;

    /**
     * Parses a kernel name as the CLI and store manifests write it, ignoring case and surrounding blanks.
     *
     * @param s {@code pntk}, {@code margin} or {@code pntk-scaled} (all {@link #PNTK}), {@code trntk} or {@code entk}
     * @return the kind
     * @throws IllegalArgumentException naming the value for any other name
     */
    public static KernelKind parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "pntk", "margin", "pntk-scaled" -> PNTK;
            case "trntk" -> TRNTK;
            case "entk" -> ENTK;
            default -> throw new IllegalArgumentException("unknown kernel kind '" + s + "' (expected pntk, trntk or entk)");
        };
    }
}
