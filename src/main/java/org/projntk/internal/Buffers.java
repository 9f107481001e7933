package org.projntk.internal;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** Checks on caller-supplied buffers, and closing several native resources at once. */
public final class Buffers {
    private Buffers() {}

    /** Fails with the buffer's name unless {@code segment} holds at least {@code floats} floats. */
    public static void requireFloats(MemorySegment segment, long floats, String what) {
        Objects.requireNonNull(segment, what);
        if (segment.byteSize() < floats * Float.BYTES) {
            throw new IllegalArgumentException(what + " holds " + segment.byteSize() / Float.BYTES + " floats, needs " + floats);
        }
    }

    /**
     * Closes every non-null resource, even when one fails, then throws the first failure (a checked one wrapped in a
     * RuntimeException).
     */
    public static void closeAll(AutoCloseable... resources) {
        RuntimeException first = null;
        for (AutoCloseable c : resources) {
            if (c == null) continue;
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) first = e instanceof RuntimeException re ? re : new RuntimeException(e);
            }
        }
        if (first != null) throw first;
    }
}
