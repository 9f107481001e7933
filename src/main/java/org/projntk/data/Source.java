package org.projntk.data;

/** Raw rows of a data file, before normalisation and row ranges. */
interface Source {
    String describe();

    long rows();

    int[] exampleShape();

    /** True when raw values are bytes 0..255 (IDX, CIFAR): DEFAULT normalisation then divides by 255. */
    boolean byteValued();

    /** Writes example {@code row}'s raw values (C order) into dst[off ..]. */
    void raw(long row, float[] dst, int off);

    long label(long row);

    int numClasses();

    /**
     * Typed model inputs of rows [row, row+count) when the source holds several arrays.
     *
     * @param row the first row
     * @param count the number of rows
     * @param arena owns the inputs' memory
     * @return the inputs in forward's order; null for a source of one float input
     */
    default java.util.List<org.projntk.tensor.Input> typedRows(long row, int count, java.lang.foreign.Arena arena) {
        return null;
    }
}
