package org.projntk.store;

/**
 * Rows [start, start + count) of a split.
 *
 * @param start the first row
 * @param count the number of rows
 */
public record RowRange(long start, int count) {
    /** {@return one past the last row, start + count} */
    public long end() {
        return start + count;
    }
}
