package org.projntk.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.projntk.ProjntkException;
import org.projntk.bindings.projntk_h;

/** Status checking and small marshalling helpers for calls into libprojntk. */
public final class Native {
    private Native() {}

    private static final int MESSAGE_CAPACITY = 4096;

    /** Loads the library; call before the first projntk_h call (every wrapper does). */
    public static void ensureLoaded() {
        NativeLibraries.loadProjntk();
    }

    /**
     * Turns a non-zero status into an exception carrying the native message. The message is thread-local on the
     * native side, so this must run on the thread that made the failing call, right after it.
     */
    public static void check(int status, String what) {
        if (status == projntk_h.PROJNTK_OK()) return;
        throw new ProjntkException(ProjntkException.Status.of(status), what + " failed: " + lastError());
    }

    public static String lastError() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(MESSAGE_CAPACITY);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_LONG);
            projntk_h.projntk_last_error(buffer, MESSAGE_CAPACITY, length);
            String message = buffer.getString(0);
            return message.isEmpty() ? "(no message)" : message;
        }
    }

    /** Calls a native function that writes a NUL-terminated string into (buf, cap). */
    public static String string(String what, StringCall call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(MESSAGE_CAPACITY);
            check(call.apply(buffer, MESSAGE_CAPACITY), what);
            return buffer.getString(0);
        }
    }

    @FunctionalInterface
    public interface StringCall {
        int apply(MemorySegment buffer, long capacity);
    }

    /** A shape as an int64 array segment. */
    public static MemorySegment shape(Arena arena, long[] shape) {
        return arena.allocateFrom(ValueLayout.JAVA_LONG, shape);
    }
}
