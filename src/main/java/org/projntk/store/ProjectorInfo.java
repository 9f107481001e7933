package org.projntk.store;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;
import org.projntk.project.ProjectorSpec;

/**
 * What determines the projection, as recorded in a store's manifest. Two stores agree only if all fields are equal.
 *
 * @param kind the projector's command-line name, e.g. rademacher
 * @param rng the entries' definition, {@link ProjectorSpec#RNG_ALGORITHM}
 * @param seed the projection seed
 * @param modelId the base model id: checkpoint i (in registration order) projects with modelId + i
 * @param k the projected dimension K, at least 1
 * @param sjltS SJLT non-zeros per gradient coordinate
 * @param scaled whether entries carry the 1/√K factor (false: TRAK's convention)
 */
public record ProjectorInfo(
        @JsonProperty("kind") String kind,
        @JsonProperty("rng") String rng,
        @JsonProperty("seed") long seed,
        @JsonProperty("model_id") long modelId,
        @JsonProperty("k") int k,
        @JsonProperty("sjlt_s") int sjltS,
        @JsonProperty("scaled") boolean scaled) {

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException for K below 1
     */
    public ProjectorInfo {
        Objects.requireNonNull(kind, "projector kind");
        Objects.requireNonNull(rng, "projector rng");
        if (k < 1) throw new IllegalArgumentException("projector K must be >= 1, got " + k);
    }

    /**
     * The record of a projector.
     *
     * @param p the projector's spec (its device and checks are not recorded)
     * @return the record
     */
    public static ProjectorInfo of(ProjectorSpec p) {
        return new ProjectorInfo(p.kind().cliName(), ProjectorSpec.RNG_ALGORITHM, p.seed(), p.modelId(), p.K(), p.sjltS(), !p.unscaled());
    }
}
