package org.projntk.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** An I/O failure while writing a store; names the file. The store stays consistent and can be resumed. */
public class StoreIOException extends UncheckedIOException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;

    public StoreIOException(Path file, String what, IOException cause) {
        super(what + " " + file + ": " + cause.getMessage(), cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
