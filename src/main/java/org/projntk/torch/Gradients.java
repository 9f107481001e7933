package org.projntk.torch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.projntk.ProjntkException;
import org.projntk.bindings.projntk_grad_consumer;
import org.projntk.bindings.projntk_h;
import org.projntk.internal.Native;

/** Per-example gradients, streamed to a consumer one parameter block at a time (B x P is never materialised). */
public final class Gradients {
    private Gradients() {}

    /** Default bound on the gradient bytes alive at once inside the engine. */
    public static final long DEFAULT_MAX_BLOCK_BYTES = 256L << 20;

    /**
     * Computes per-example gradients of {@code output} for the float32 batch x (shape[0] = B) and hands them to
     * consumer. labels (length B) are required for MARGIN and ignored otherwise. Returns the strategy actually used.
     * An exception thrown by the consumer aborts the computation and is rethrown here.
     */
    public static GradStrategy compute(Model model, MemorySegment x, long[] shape, long[] labels, OutputKind output,
                                       GradStrategy strategy, long maxBlockBytes, boolean checkFinite,
                                       GradientConsumer consumer) {
        Native.checkBatch(x, shape, labels);
        Throwable[] failure = new Throwable[1];
        try (Arena arena = Arena.ofConfined()) {
            projntk_grad_consumer.Function callback = (ctx, out, rowOffset, rows, paramOffset, cols, block) -> {
                try {
                    MemorySegment view = block.reinterpret(rows * cols * Float.BYTES);
                    consumer.accept((int) out, rowOffset, (int) rows, paramOffset, (int) cols, view);
                    return 0;
                } catch (Throwable t) {
                    failure[0] = t;
                    return 1;
                }
            };
            MemorySegment stub = projntk_grad_consumer.allocate(callback, arena);
            MemorySegment labelSegment = labels == null ? MemorySegment.NULL : arena.allocateFrom(ValueLayout.JAVA_LONG, labels);
            MemorySegment used = arena.allocate(ValueLayout.JAVA_INT);
            int status;
            synchronized (model) {
                status = projntk_h.projntk_grads(model.address(), x, Native.shape(arena, shape), shape.length, labelSegment,
                        output.code(), strategy.code(), maxBlockBytes, checkFinite ? 1 : 0, stub, MemorySegment.NULL, used);
            }
            if (failure[0] != null) {
                if (failure[0] instanceof RuntimeException re) throw re;
                if (failure[0] instanceof Error e) throw e;
                throw new ProjntkException(ProjntkException.Status.CALLBACK, "gradient consumer failed", failure[0]);
            }
            Native.check(status, "per-example gradients of " + model.source());
            return GradStrategy.values()[used.get(ValueLayout.JAVA_INT, 0)];
        }
    }

    /** Convenience for small models and tests: the full [outputs][B][P] gradient array. */
    public static float[][][] dense(Model model, MemorySegment x, long[] shape, long[] labels, OutputKind output,
                                    GradStrategy strategy, int numClasses) {
        int batch = (int) shape[0];
        int outputs = output == OutputKind.PER_CLASS ? numClasses : 1;
        long p = model.parameterCount();
        if ((long) outputs * batch * p > Integer.MAX_VALUE) throw new IllegalArgumentException("too large for a dense gradient array");
        float[][][] grads = new float[outputs][batch][(int) p];
        compute(model, x, shape, labels, output, strategy, 0, true, (out, rowOffset, rows, paramOffset, cols, block) -> {
            for (int r = 0; r < rows; r++) {
                MemorySegment.copy(block, ValueLayout.JAVA_FLOAT, (long) r * cols * Float.BYTES,
                        grads[out][(int) rowOffset + r], (int) paramOffset, cols);
            }
        });
        return grads;
    }
}
