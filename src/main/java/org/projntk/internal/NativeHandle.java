package org.projntk.internal;

import java.lang.foreign.MemorySegment;
import java.util.function.ToIntFunction;

/**
 * Owns one opaque native handle. close() is idempotent; any use after close throws IllegalStateException.
 *
 * <p>Calls go through {@link #use}, which counts the calls in flight: a close() that arrives while another thread is
 * inside a call marks the handle closed at once (new calls fail) and the memory is freed when the last call in flight
 * returns, never under it. The native objects themselves are not thread-safe; wrappers serialise their calls.
 */
public final class NativeHandle implements AutoCloseable {
    private final String kind;
    private final ToIntFunction<MemorySegment> free;
    private MemorySegment address;
    private int callsInFlight;
    private boolean closed;

    public NativeHandle(String kind, MemorySegment address, ToIntFunction<MemorySegment> free) {
        if (address == null || address.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("null " + kind + " handle");
        }
        this.kind = kind;
        this.address = address;
        this.free = free;
    }

    /** A native call on this handle's address. */
    @FunctionalInterface
    public interface Call<T> {
        T apply(MemorySegment address);
    }

    /** Runs body with the address; the handle cannot be freed until body returns. */
    public <T> T use(Call<T> body) {
        MemorySegment current = acquire();
        try {
            return body.apply(current);
        } finally {
            release();
        }
    }

    private synchronized MemorySegment acquire() {
        if (closed) throw new IllegalStateException(kind + " is closed");
        callsInFlight++;
        return address;
    }

    private void release() {
        MemorySegment toFree = null;
        synchronized (this) {
            callsInFlight--;
            if (closed && callsInFlight == 0 && address != null) {
                toFree = address;
                address = null;
            }
        }
        if (toFree != null) free.applyAsInt(toFree);
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        MemorySegment toFree = null;
        synchronized (this) {
            if (closed) return;
            closed = true;
            if (callsInFlight == 0) {
                toFree = address;
                address = null;
            }
        }
        if (toFree != null) free.applyAsInt(toFree);
    }
}
