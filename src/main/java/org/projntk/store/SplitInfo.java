package org.projntk.store;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;

/** A split of a store: the dataset spec string and the resolved row range [start, end) it covers; rows = end - start. */
public record SplitInfo(
        @JsonProperty("dataset") String dataset,
        @JsonProperty("start") long start,
        @JsonProperty("end") long end,
        @JsonProperty("rows") long rows) {

    public SplitInfo {
        Objects.requireNonNull(dataset, "dataset");
        if (start < 0 || end < start || rows != end - start) {
            throw new IllegalArgumentException("bad split range start=" + start + " end=" + end + " rows=" + rows);
        }
    }

    public static SplitInfo of(String dataset, long start, long end) {
        return new SplitInfo(dataset, start, end, end - start);
    }
}
