package org.projntk.data;

/** A corrupt, truncated or unsupported data file. The message names the file and the byte offset where reading failed. */
public class DataFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * A failure found while reading.
     *
     * @param message names the file and the byte offset
     */
    public DataFormatException(String message) {
        super(message);
    }

    /**
     * A failure with an underlying cause (a parser's exception).
     *
     * @param message names the file and the byte offset
     * @param cause the underlying exception
     */
    public DataFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
