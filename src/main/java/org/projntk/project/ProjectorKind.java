package org.projntk.project;

import java.util.Locale;

/** Projection matrices. The first four mirror enum projntk_projector_kind; CURAND is the GPU cuRAND+cuBLAS path. */
public enum ProjectorKind {
    /** Dense ±1/√K entries ({@code rademacher} on the command line). */
    RADEMACHER,
    /** Dense N(0, 1/K) entries ({@code normal}). */
    GAUSSIAN,
    /** A sparse Johnson-Lindenstrauss transform: s non-zeros ±1/√s per row of R. */
    SJLT,
    /** The identity: K = P, the exact gradients. */
    NONE,
    /** cuRAND + cuBLAS on a materialised R, a GPU benchmark baseline only. */
    CURAND;

    /**
     * The native code.
     *
     * @return the projntk_projector_kind value
     * @throws IllegalStateException for CURAND, which has none
     */
    public int code() {
        if (this == CURAND) throw new IllegalStateException("curand is not a native projector kind");
        return ordinal();
    }

    /**
     * Parses a command-line name, case-insensitively.
     *
     * @param text rademacher (or dense), normal (gaussian), sjlt (sparse), none (exact) or curand
     * @return the kind
     * @throws IllegalArgumentException for another name, listing the accepted ones
     */
    public static ProjectorKind parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "rademacher", "dense" -> RADEMACHER;
            case "normal", "gaussian" -> GAUSSIAN;
            case "sjlt", "sparse" -> SJLT;
            case "none", "exact" -> NONE;
            case "curand" -> CURAND;
            default -> throw new IllegalArgumentException("unknown projector '" + text
                    + "' (expected rademacher, normal, sjlt, curand or none)");
        };
    }

    /** {@return the name the command line and store manifests use: lower case, {@code normal} for GAUSSIAN} */
    public String cliName() {
        return this == GAUSSIAN ? "normal" : name().toLowerCase(Locale.ROOT);
    }
}
