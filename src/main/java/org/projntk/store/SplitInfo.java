package org.projntk.store;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;

/**
 * A split of a store: the dataset spec string and the resolved row range [start, end) it covers.
 *
 * @param dataset the dataset spec without its row range
 * @param start the first row of the dataset file
 * @param end one past the last
 * @param rows end - start
 */
public record SplitInfo(
        @JsonProperty("dataset") String dataset,
        @JsonProperty("start") long start,
        @JsonProperty("end") long end,
        @JsonProperty("rows") long rows) {

    /**
     * Checks the range.
     *
     * @throws IllegalArgumentException for a negative start, end before start, or rows other than end - start
     */
    public SplitInfo {
        Objects.requireNonNull(dataset, "dataset");
        if (start < 0 || end < start || rows != end - start) {
            throw new IllegalArgumentException("bad split range start=" + start + " end=" + end + " rows=" + rows);
        }
    }

    /**
     * A split over rows [start, end).
     *
     * @param dataset the dataset spec without its row range
     * @param start the first row
     * @param end one past the last
     * @return the split
     */
    public static SplitInfo of(String dataset, long start, long end) {
        return new SplitInfo(dataset, start, end, end - start);
    }
}
