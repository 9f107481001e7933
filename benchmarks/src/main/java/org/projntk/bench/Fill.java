package org.projntk.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Benchmark inputs: float32 segments of pseudo-random values in [-1, 1), filled fast (xorshift64*). */
final class Fill {
    private Fill() {}

    static MemorySegment uniform(Arena arena, long floats, long seed) {
        MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, floats);
        long state = seed * 0x9E3779B97F4A7C15L + 0x2545F4914F6CDD1DL;
        for (long i = 0; i < floats; i++) {
            state ^= state >>> 12;
            state ^= state << 25;
            state ^= state >>> 27;
            long bits = state * 0x2545F4914F6CDD1DL;
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (bits >>> 40) * 0x1.0p-23f - 1f);
        }
        return s;
    }

    static MemorySegment uniformDouble(Arena arena, long doubles, long seed) {
        MemorySegment f = uniform(arena, doubles, seed);
        MemorySegment d = arena.allocate(ValueLayout.JAVA_DOUBLE, doubles);
        for (long i = 0; i < doubles; i++) d.setAtIndex(ValueLayout.JAVA_DOUBLE, i, f.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        return d;
    }
}
