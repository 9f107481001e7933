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

    private static volatile boolean configured;

    /**
     * Loads the library; call before the first projntk_h call (every wrapper does). Loading changes no process-wide
     * setting: libtorch keeps its own thread count (Debian's starts with one) unless -Dprojntk.threads or the
     * environment variable PROJNTK_THREADS asks for another, or the embedder calls
     * {@code org.projntk.torch.Runtime.setThreads} (the CLI asks for the number of processors).
     */
    public static void ensureLoaded() {
        if (configured) return;
        synchronized (Native.class) {
            if (configured) return;
            NativeLibraries.loadProjntk();
            String requested = System.getProperty("projntk.threads", System.getenv("PROJNTK_THREADS"));
            if (requested != null && !requested.isBlank()) {
                int threads;
                try {
                    threads = Integer.parseInt(requested.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("-Dprojntk.threads / PROJNTK_THREADS must be an integer, got '" + requested + "'");
                }
                check(projntk_h.projntk_set_num_threads(threads), "setting " + threads + " threads");
            }
            configured = true;
        }
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

    /**
     * Checks a float32 input batch against its shape before it crosses the boundary: the native side trusts the
     * shape, so a segment shorter than the shape says would be read out of bounds.
     */
    public static void checkBatch(MemorySegment x, long[] shape, long[] labels) {
        if (shape == null || shape.length == 0) throw new IllegalArgumentException("input shape is empty");
        long count = 1;
        for (long d : shape) {
            if (d < 1) throw new IllegalArgumentException("input shape " + java.util.Arrays.toString(shape) + " has a dimension < 1");
            count = Math.multiplyExact(count, d);
        }
        if (x == null || x.byteSize() < count * Float.BYTES) {
            throw new IllegalArgumentException("input of shape " + java.util.Arrays.toString(shape) + " needs " + count * Float.BYTES
                    + " bytes of float32, the segment holds " + (x == null ? 0 : x.byteSize()));
        }
        if (labels != null && labels.length != shape[0]) {
            throw new IllegalArgumentException(labels.length + " labels for a batch of " + shape[0]);
        }
    }

    /** A shape as an int64 array segment. */
    public static MemorySegment shape(Arena arena, long[] shape) {
        return arena.allocateFrom(ValueLayout.JAVA_LONG, shape);
    }
}
