package org.projntk.store;

import java.nio.file.Path;

/** A feature file whose bytes do not match the CRC32C recorded in its store's manifest. Names the file and the batch. */
public final class ChecksumMismatchException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    /** Which bytes differ. */
    private final String batch;
    /** The recorded CRC32C. */
    private final String recorded;
    /** The CRC32C found. */
    private final String actual;

    ChecksumMismatchException(Path file, String batch, String recorded, String actual) {
        super("checksum mismatch in " + file + ", " + batch + ": crc32c is " + actual + ", the manifest records " + recorded
                + " (the file was changed after it was written; featurize it again)");
        this.file = file;
        this.batch = batch;
        this.recorded = recorded;
        this.actual = actual;
    }

    /** {@return the feature file; null after deserialisation (paths are not serialisable)} */
    public Path file() {
        return file;
    }

    /** {@return which bytes: "batch rows [a, b)" or "whole file" (when the rows that differ are outside every recorded batch)} */
    public String batch() {
        return batch;
    }

    /** {@return the CRC32C recorded in the manifest, 8 hex digits} */
    public String recorded() {
        return recorded;
    }

    /** {@return the CRC32C of the bytes on disk now, 8 hex digits} */
    public String actual() {
        return actual;
    }
}
