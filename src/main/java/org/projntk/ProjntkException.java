package org.projntk;

/** A failure reported by the native engine, carrying its status and message. */
public class ProjntkException extends RuntimeException {
    /** Mirrors enum projntk_status in native/include/projntk.h. */
    public enum Status {
        OK, INVALID_ARGUMENT, IO, TORCH, CUDA, NONFINITE, UNSUPPORTED, OUT_OF_MEMORY, CALLBACK, INTERNAL;

        public static Status of(int code) {
            Status[] all = values();
            return code >= 0 && code < all.length ? all[code] : INTERNAL;
        }
    }

    private final Status status;

    public ProjntkException(Status status, String message) {
        super(message);
        this.status = status;
    }

    public ProjntkException(Status status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
