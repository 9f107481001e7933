package org.projntk.store;

/** Rows [start, start + count) of a split. */
public record RowRange(long start, int count) {
    public long end() {
        return start + count;
    }
}
