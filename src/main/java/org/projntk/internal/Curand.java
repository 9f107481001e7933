package org.projntk.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.projntk.ProjntkException;
import org.projntk.bindings.curand_h;

/**
 * A cuRAND Philox4x32-10 host-API generator on the default stream. Each {@link #normal} call first sets the
 * generator's absolute offset, so what it writes depends only on (seed, offset, n), not on earlier calls.
 * Methods are synchronised; close() is idempotent and any use after close throws IllegalStateException.
 */
public final class Curand implements AutoCloseable {
    private MemorySegment generator;

    public Curand(long seed) {
        Cuda.require();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            check(curand_h.curandCreateGenerator(out, curand_h.CURAND_RNG_PSEUDO_PHILOX4_32_10()), "curandCreateGenerator(PHILOX4_32_10)");
            generator = out.get(ValueLayout.ADDRESS, 0);
        }
        try {
            // the seed is an unsigned long long: a negative Java long passes the same 64 bits
            check(curand_h.curandSetPseudoRandomGeneratorSeed(generator, seed), "curandSetPseudoRandomGeneratorSeed");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Writes n normal(mean, stddev) floats to out at float offset outOffset, taken from absolute position
     * streamOffset of this generator's sequence. cuRAND's Box-Muller path needs n even and 8-byte-aligned output,
     * so n and outOffset must be even.
     */
    public synchronized void normal(Cuda.DeviceBuffer out, long outOffset, long n, long streamOffset, float mean, float stddev) {
        if (generator == null) throw new IllegalStateException("cuRAND generator is closed");
        if (n < 0 || (n & 1) != 0) throw new IllegalArgumentException("cuRAND normal needs an even count, got " + n);
        if (outOffset < 0 || (outOffset & 1) != 0) throw new IllegalArgumentException("cuRAND normal needs an even offset, got " + outOffset);
        if (streamOffset < 0) throw new IllegalArgumentException("negative stream offset " + streamOffset);
        MemorySegment p = out.address(outOffset * Float.BYTES, n * Float.BYTES);
        if (n == 0) return;
        check(curand_h.curandSetGeneratorOffset(generator, streamOffset), "curandSetGeneratorOffset(" + streamOffset + ")");
        check(curand_h.curandGenerateNormal(generator, p, n, mean, stddev), "curandGenerateNormal of " + n + " values");
    }

    static void check(int status, String what) {
        if (status == curand_h.CURAND_STATUS_SUCCESS()) return;
        throw new ProjntkException(ProjntkException.Status.CUDA, what + " failed: " + statusName(status));
    }

    /** The curandStatus_t enumerator's name, e.g. CURAND_STATUS_LENGTH_NOT_MULTIPLE. */
    static String statusName(int status) {
        return switch (status) {
            case 0 -> "CURAND_STATUS_SUCCESS";
            case 100 -> "CURAND_STATUS_VERSION_MISMATCH";
            case 101 -> "CURAND_STATUS_NOT_INITIALIZED";
            case 102 -> "CURAND_STATUS_ALLOCATION_FAILED";
            case 103 -> "CURAND_STATUS_TYPE_ERROR";
            case 104 -> "CURAND_STATUS_OUT_OF_RANGE";
            case 105 -> "CURAND_STATUS_LENGTH_NOT_MULTIPLE";
            case 106 -> "CURAND_STATUS_DOUBLE_PRECISION_REQUIRED";
            case 201 -> "CURAND_STATUS_LAUNCH_FAILURE";
            case 202 -> "CURAND_STATUS_PREEXISTING_FAILURE";
            case 203 -> "CURAND_STATUS_INITIALIZATION_FAILED";
            case 204 -> "CURAND_STATUS_ARCH_MISMATCH";
            case 999 -> "CURAND_STATUS_INTERNAL_ERROR";
            default -> "curandStatus " + status + " (unknown)";
        };
    }

    public synchronized boolean isClosed() {
        return generator == null;
    }

    @Override
    public synchronized void close() {
        if (generator == null) return;
        MemorySegment g = generator;
        generator = null;
        check(curand_h.curandDestroyGenerator(g), "curandDestroyGenerator");
    }
}
