package org.projntk.store;

/** An existing store was made with a different spec (projector, kernel, dtype, splits or model checksum). */
public class IncompatibleStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * A mismatch.
     *
     * @param message names the store and each field that differs, with both values
     */
    public IncompatibleStoreException(String message) {
        super(message);
    }
}
