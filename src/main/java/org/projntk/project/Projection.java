package org.projntk.project;

import java.util.Objects;

/**
 * What projection a featurize job applies to the per-example gradients, chosen by name:
 * {@code Projection.rademacher(2048).seed(42)}. Immutable: each method returns a new value. The gradient length P is
 * not part of it; it comes from the model when the job runs.
 *
 * @param kind     the random matrix (never {@link ProjectorKind#CURAND}, a GPU benchmark baseline)
 * @param dim      the projected dimension K (for {@link #none()}: 0, meaning K = P)
 * @param seed     the projection seed
 * @param modelId  mixed into the seed with it (a store gives each checkpoint its own on top of this)
 * @param sjltS    non-zeros per column of the SJLT
 * @param unscaled TRAK's convention: no 1/sqrt(K) scaling
 */
public record Projection(ProjectorKind kind, int dim, long seed, long modelId, int sjltS, boolean unscaled) {
    /** Checks the values. */
    public Projection {
        Objects.requireNonNull(kind, "kind");
        if (kind == ProjectorKind.CURAND) {
            throw new IllegalArgumentException("the curand projector is a GPU benchmark baseline; use rademacher, normal, sjlt or none");
        }
        if (kind != ProjectorKind.NONE && dim < 1) throw new IllegalArgumentException("projected dimension K must be >= 1, got " + dim);
        if (sjltS < 1) throw new IllegalArgumentException("SJLT non-zeros per column must be >= 1, got " + sjltS);
    }

    /**
     * Dense ±1/√K entries.
     *
     * @param dim the projected dimension K, at least 1
     * @return the projection, seed 0
     */
    public static Projection rademacher(int dim) {
        return new Projection(ProjectorKind.RADEMACHER, dim, 0, 0, ProjectorSpec.DEFAULT_SJLT_S, false);
    }

    /**
     * Dense N(0, 1/K) entries.
     *
     * @param dim the projected dimension K, at least 1
     * @return the projection, seed 0
     */
    public static Projection normal(int dim) {
        return new Projection(ProjectorKind.GAUSSIAN, dim, 0, 0, ProjectorSpec.DEFAULT_SJLT_S, false);
    }

    /**
     * A sparse Johnson-Lindenstrauss transform with {@link ProjectorSpec#DEFAULT_SJLT_S} non-zeros per column.
     *
     * @param dim the projected dimension K, at least 1
     * @return the projection, seed 0
     */
    public static Projection sjlt(int dim) {
        return new Projection(ProjectorKind.SJLT, dim, 0, 0, ProjectorSpec.DEFAULT_SJLT_S, false);
    }

    /** {@return no projection: the exact gradients are stored (K = P)} */
    public static Projection none() {
        return new Projection(ProjectorKind.NONE, 0, 0, 0, ProjectorSpec.DEFAULT_SJLT_S, false);
    }

    /**
     * This projection with another seed.
     *
     * @param value the seed; any value, the same seed giving the same R
     * @return the new projection
     */
    public Projection seed(long value) {
        return new Projection(kind, dim, value, modelId, sjltS, unscaled);
    }

    /**
     * This projection with another model id.
     *
     * @param value mixed into the seed
     * @return the new projection
     */
    public Projection modelId(long value) {
        return new Projection(kind, dim, seed, value, sjltS, unscaled);
    }

    /**
     * This projection with s SJLT non-zeros per gradient coordinate (ignored by the other kinds).
     *
     * @param s at least 1; clamped to K when R is built
     * @return the new projection
     */
    public Projection sjltNonZeros(int s) {
        return new Projection(kind, dim, seed, modelId, s, unscaled);
    }

    /** {@return this projection without the 1/√K scaling (TRAK's convention)} */
    public Projection withoutScaling() {
        return new Projection(kind, dim, seed, modelId, sjltS, true);
    }
}
