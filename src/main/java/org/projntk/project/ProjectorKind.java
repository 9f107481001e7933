package org.projntk.project;

import java.util.Locale;

/** Projection matrices. The first four mirror enum projntk_projector_kind; CURAND is the GPU cuRAND+cuBLAS path. */
public enum ProjectorKind {
    RADEMACHER, GAUSSIAN, SJLT, NONE, CURAND;

    public int code() {
        if (this == CURAND) throw new IllegalStateException("curand is not a native projector kind");
        return ordinal();
    }

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

    public String cliName() {
        return this == GAUSSIAN ? "normal" : name().toLowerCase(Locale.ROOT);
    }
}
