package org.projntk.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** An I/O failure while writing a store; names the file. The store stays consistent and can be resumed. */
public class StoreIOException extends UncheckedIOException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;

    /**
     * A failure on one file.
     *
     * @param file the file
     * @param what what was being done, e.g. "cannot write features"
     * @param cause the I/O failure
     */
    public StoreIOException(Path file, String what, IOException cause) {
        super(what + " " + file + ": " + cause.getMessage(), cause);
        this.file = file;
    }

    /** {@return the file; null after deserialisation (paths are not serialisable)} */
    public Path file() {
        return file;
    }
}
