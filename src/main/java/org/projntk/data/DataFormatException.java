package org.projntk.data;

/** A corrupt, truncated or unsupported data file. The message names the file and the byte offset where reading failed. */
public class DataFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DataFormatException(String message) {
        super(message);
    }

    public DataFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
