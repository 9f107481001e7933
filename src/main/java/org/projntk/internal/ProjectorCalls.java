package org.projntk.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.projntk.bindings.projntk_h;

/** The native projector functions, for {@code org.projntk.project.Projector}. */
public final class ProjectorCalls {
    private ProjectorCalls() {}

    public static final int FLAG_UNSCALED = projntk_h.PROJNTK_PROJ_UNSCALED();
    public static final int FLAG_NO_CHECK = projntk_h.PROJNTK_PROJ_NO_CHECK();
    public static final int FLAG_FP32_STRICT = projntk_h.PROJNTK_PROJ_FP32_STRICT();

    public static NativeHandle create(int kind, long P, long K, long seed, long modelId, int sjltS, int flags, int device,
                                      String description) {
        Native.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(projntk_h.projntk_projector_new(kind, P, K, seed, modelId, sjltS, flags, device, out),
                    "creating projector " + description);
            return new NativeHandle("projector", out.get(ValueLayout.ADDRESS, 0), projntk_h::projntk_projector_free);
        }
    }

    public static double cpuFmaPeakGflops(double seconds) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_DOUBLE);
            Native.check(projntk_h.projntk_cpu_fma_peak(seconds, value), "measuring the CPU's FMA peak");
            return value.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    public static float entry(NativeHandle projector, long p, long k) {
        return projector.use(address -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment value = arena.allocate(ValueLayout.JAVA_FLOAT);
                Native.check(projntk_h.projntk_projector_entry(address, p, k, value), "reading R[" + p + "," + k + "]");
                return value.get(ValueLayout.JAVA_FLOAT, 0);
            }
        });
    }

    public static void accumulate(NativeHandle projector, MemorySegment block, long rows, long cols, long paramOffset,
                                  MemorySegment out) {
        projector.use(address -> {
            Native.check(projntk_h.projntk_projector_accumulate(address, block, rows, cols, paramOffset, out),
                    "projecting a [" + rows + " x " + cols + "] block at offset " + paramOffset);
            return null;
        });
    }

    public static void project(NativeHandle projector, MemorySegment x, long batch, long P, MemorySegment out) {
        projector.use(address -> {
            Native.check(projntk_h.projntk_project(address, x, batch, P, out), "projecting " + batch + " rows");
            return null;
        });
    }

    /** The fused gradient projection; returns the number of outputs written. */
    public static int projectGradients(NativeHandle model, String modelName, NativeHandle projector, MemorySegment x,
                                       long[] shape, long[] labels, int output, int strategy, long maxBlockBytes,
                                       MemorySegment out) {
        Native.checkBatch(x, shape, labels);
        return model.use(modelAddress -> projector.use(projectorAddress -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment labelSegment = labels == null ? MemorySegment.NULL : arena.allocateFrom(ValueLayout.JAVA_LONG, labels);
                MemorySegment outputs = arena.allocate(ValueLayout.JAVA_LONG);
                MemorySegment used = arena.allocate(ValueLayout.JAVA_INT);
                Native.check(projntk_h.projntk_project_grads(modelAddress, projectorAddress, x, Native.shape(arena, shape),
                        shape.length, labelSegment, output, strategy, maxBlockBytes, out, out.byteSize() / Float.BYTES,
                        outputs, used), "projecting gradients of " + modelName);
                return (int) outputs.get(ValueLayout.JAVA_LONG, 0);
            }
        }));
    }
}
