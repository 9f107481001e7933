package org.projntk;

/** A failure reported by the native engine, carrying its status and message. */
public class ProjntkException extends RuntimeException {
    /** Mirrors enum projntk_status in native/include/projntk.h. */
    public enum Status {
        /** Success; never carried by an exception. */
        OK,
        /** A bad argument: a null handle, a mismatched shape, an out-of-range value. */
        INVALID_ARGUMENT,
        /** A missing or unreadable file. */
        IO,
        /** libtorch raised: a corrupt model, an op that failed. */
        TORCH,
        /** A CUDA runtime or kernel error. */
        CUDA,
        /** NaN or infinity in an input or a gradient. */
        NONFINITE,
        /** Not supported by this build, e.g. CUDA asked of a CPU-only library. */
        UNSUPPORTED,
        /** A host or device allocation failed. */
        OUT_OF_MEMORY,
        /** A gradient consumer failed; the cause is the exception it threw. */
        CALLBACK,
        /** A bug in the engine, or a status code this Java side does not know. */
        INTERNAL,
        /** The JVM is shutting down: its shutdown hook closed the native boundary, so no new native call starts. */
        EXITING;

        /**
         * The status of a native code.
         *
         * @param code a projntk_status value
         * @return its status; {@link #INTERNAL} for a code outside the enum
         */
        public static Status of(int code) {
            Status[] all = values();
            return code >= 0 && code < all.length ? all[code] : INTERNAL;
        }
    }

    /** The native status. */
    private final Status status;

    /**
     * A failure without a cause.
     *
     * @param status the native status
     * @param message the native engine's message, one line
     */
    public ProjntkException(Status status, String message) {
        super(message);
        this.status = status;
    }

    /**
     * A failure caused by another exception (a callback's, for {@link Status#CALLBACK}).
     *
     * @param status the native status
     * @param message one line
     * @param cause the underlying exception
     */
    public ProjntkException(Status status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** {@return the native status, for callers that react to the kind of failure (e.g. retry on OUT_OF_MEMORY)} */
    public Status status() {
        return status;
    }
}
