package org.projntk.store;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;
import org.projntk.project.ProjectorSpec;

/** What determines the projection, as recorded in a store's manifest. Two stores agree only if all fields are equal. */
public record ProjectorInfo(
        @JsonProperty("kind") String kind,
        @JsonProperty("rng") String rng,
        @JsonProperty("seed") long seed,
        @JsonProperty("model_id") long modelId,
        @JsonProperty("k") int k,
        @JsonProperty("sjlt_s") int sjltS,
        @JsonProperty("scaled") boolean scaled) {

    public ProjectorInfo {
        Objects.requireNonNull(kind, "projector kind");
        Objects.requireNonNull(rng, "projector rng");
        if (k < 1) throw new IllegalArgumentException("projector K must be >= 1, got " + k);
    }

    public static ProjectorInfo of(ProjectorSpec p) {
        return new ProjectorInfo(p.kind().cliName(), ProjectorSpec.RNG_ALGORITHM, p.seed(), p.modelId(), p.K(), p.sjltS(), !p.unscaled());
    }
}
