package org.projntk.internal;

import java.lang.foreign.MemorySegment;
import java.util.function.ToIntFunction;

/**
 * Owns one opaque native handle. close() is idempotent; any use after close throws IllegalStateException.
 * Handles are confined to no thread, but a handle must not be used concurrently (the native objects are not
 * thread-safe); wrappers synchronise on this object.
 */
public final class NativeHandle implements AutoCloseable {
    private final String kind;
    private final ToIntFunction<MemorySegment> free;
    private MemorySegment address;

    public NativeHandle(String kind, MemorySegment address, ToIntFunction<MemorySegment> free) {
        if (address == null || address.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("null " + kind + " handle");
        }
        this.kind = kind;
        this.address = address;
        this.free = free;
    }

    /** The raw address, for the internal layer only. */
    public synchronized MemorySegment get() {
        if (address == null) throw new IllegalStateException(kind + " is closed");
        return address;
    }

    public synchronized boolean isClosed() {
        return address == null;
    }

    @Override
    public synchronized void close() {
        if (address == null) return;
        MemorySegment toFree = address;
        address = null;
        free.applyAsInt(toFree);
    }
}
