package org.projntk.store;

/** An existing store was made with a different spec (projector, kernel, dtype, splits or model checksum). */
public class IncompatibleStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public IncompatibleStoreException(String message) {
        super(message);
    }
}
