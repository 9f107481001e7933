package org.projntk.internal;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToIntFunction;

/**
 * Owns one opaque native handle. close() is idempotent; any use after close throws IllegalStateException.
 *
 * <p>Calls go through {@link #use}, which counts the calls in flight: a close() that arrives while another thread is
 * inside a call marks the handle closed at once (new calls fail) and the memory is freed when the last call in flight
 * returns, never under it. The native objects themselves are not thread-safe; wrappers serialise their calls.
 *
 * <p>An owner that is dropped without close() is freed too: {@link #freeWhenUnreachable} registers the owner with a
 * shared {@link Cleaner}, whose action holds this handle but never the owner (or it would stay reachable for ever).
 * {@link #live()} counts the handles not freed yet, for tests and diagnostics.
 */
public final class NativeHandle implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create(Thread.ofPlatform().daemon().name("projntk-cleaner").factory());
    private static final AtomicLong LIVE = new AtomicLong();

    private final String kind;
    private final ToIntFunction<MemorySegment> free;
    private MemorySegment address;
    private int callsInFlight;
    private boolean closed;
    private volatile Cleaner.Cleanable cleanable;

    public NativeHandle(String kind, MemorySegment address, ToIntFunction<MemorySegment> free) {
        if (address == null || address.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("null " + kind + " handle");
        }
        this.kind = kind;
        this.address = address;
        this.free = free;
        LIVE.incrementAndGet();
    }

    /**
     * Frees this handle once {@code owner} (the public object holding it) becomes unreachable, if it was not closed
     * before. Returns this handle. The owner's methods must keep the owner reachable while they use the address; calls
     * through {@link #use} are safe anyway, since a free that arrives during a call waits for it.
     */
    public NativeHandle freeWhenUnreachable(Object owner) {
        if (owner == this) throw new IllegalArgumentException("the owner must be another object");
        cleanable = CLEANER.register(owner, this::closeNow);
        return this;
    }

    /** Native handles created and not yet freed, in this process. */
    public static long live() {
        return LIVE.get();
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
        if (toFree != null) freeNow(toFree);
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /** Frees now (or, with calls in flight, when the last returns); idempotent; also deregisters the owner's cleaner. */
    @Override
    public void close() {
        closeNow();
        Cleaner.Cleanable c = cleanable;
        if (c != null) c.clean(); // runs closeNow again at most once: a no-op now
    }

    private void closeNow() {
        MemorySegment toFree = null;
        synchronized (this) {
            if (closed) return;
            closed = true;
            if (callsInFlight == 0) {
                toFree = address;
                address = null;
            }
        }
        if (toFree != null) freeNow(toFree);
    }

    private void freeNow(MemorySegment toFree) {
        try {
            free.applyAsInt(toFree);
        } finally {
            LIVE.decrementAndGet();
        }
    }
}
