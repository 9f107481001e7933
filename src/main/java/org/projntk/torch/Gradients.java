package org.projntk.torch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.projntk.ProjntkException;
import org.projntk.internal.Native;
import org.projntk.internal.TorchCalls;
import org.projntk.tensor.Input;

/** Per-example gradients, streamed to a consumer one parameter block at a time (B x P is never materialised). */
public final class Gradients {
    private Gradients() {}

    /** Default bound on the gradient bytes alive at once inside the engine. */
    public static final long DEFAULT_MAX_BLOCK_BYTES = 256L << 20;

    /**
     * {@link #compute(Model, List, long[], OutputKind, GradStrategy, long, boolean, GradientConsumer)} for one float32
     * input.
     *
     * @param model the network
     * @param x float32 inputs, row-major
     * @param shape x's shape, shape[0] = B
     * @param labels B labels for MARGIN, else null
     * @param output which scalar output is differentiated
     * @param strategy how gradients are computed
     * @param maxBlockBytes the most gradient bytes alive at once (0 or less: {@link #DEFAULT_MAX_BLOCK_BYTES})
     * @param checkFinite whether a NaN or infinite gradient fails the call
     * @param consumer receives the blocks
     * @return the path that ran
     */
    public static GradStrategy compute(Model model, MemorySegment x, long[] shape, long[] labels, OutputKind output,
                                       GradStrategy strategy, long maxBlockBytes, boolean checkFinite,
                                       GradientConsumer consumer) {
        Native.checkBatch(x, shape, labels);
        return compute(model, List.of(Input.float32(x, shape)), labels, output, strategy, maxBlockBytes, checkFinite, consumer);
    }

    /**
     * Computes per-example gradients (with respect to the selected parameters) of {@code output} for a batch of inputs,
     * passed to forward in order, and hands them to consumer. labels (one per row) are required for MARGIN and ignored
     * otherwise. Returns the path that ran: FUNCTIONAL (vmap(grad)) or ITERATIVE (AUTO falls back to it, for this
     * model from then on, when an op lacks a batching rule). An exception thrown by the consumer aborts the
     * computation and is rethrown here. Locks the model for the call.
     *
     * @param model the network
     * @param inputs the batch's inputs, B rows each
     * @param labels B labels for MARGIN, else null
     * @param output which scalar output is differentiated
     * @param strategy how gradients are computed
     * @param maxBlockBytes the most gradient bytes alive at once; larger batches are split (0 or less:
     *     {@link #DEFAULT_MAX_BLOCK_BYTES})
     * @param checkFinite whether a NaN or infinite gradient fails the call (NONFINITE)
     * @param consumer receives the blocks, on this thread
     * @return FUNCTIONAL or ITERATIVE, the path that ran
     * @throws IllegalArgumentException if the inputs disagree on B or the labels do not number B
     * @throws org.projntk.ProjntkException if the engine fails
     */
    public static GradStrategy compute(Model model, List<Input> inputs, long[] labels, OutputKind output,
                                       GradStrategy strategy, long maxBlockBytes, boolean checkFinite,
                                       GradientConsumer consumer) {
        Input.checkBatch(inputs, labels);
        Throwable[] failure = new Throwable[1];
        try (Arena arena = Arena.ofConfined()) {
            TorchCalls.BlockSink sink = (out, rowOffset, rows, paramOffset, cols, block) -> {
                try {
                    MemorySegment view = block.reinterpret(rows * cols * Float.BYTES);
                    consumer.accept((int) out, rowOffset, (int) rows, paramOffset, (int) cols, view);
                    return 0;
                } catch (Throwable t) {
                    failure[0] = t;
                    return 1;
                }
            };
            MemorySegment labelSegment = labels == null ? MemorySegment.NULL : arena.allocateFrom(ValueLayout.JAVA_LONG, labels);
            MemorySegment used = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment tensors = TorchCalls.tensors(arena, inputs);
            int status;
            synchronized (model) {
                status = model.useHandle(m -> TorchCalls.grads(arena, m, tensors, inputs.size(), labelSegment, output.code(),
                        strategy.code(), maxBlockBytes, checkFinite, sink, used));
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

    /**
     * Dense gradients of a batch of inputs, for small models and tests. Non-finite gradients fail.
     *
     * @param model the network
     * @param inputs the batch's inputs, B rows each
     * @param labels B labels for MARGIN, else null
     * @param output which scalar output is differentiated
     * @param strategy how gradients are computed
     * @param numClasses C, the number of outputs for PER_CLASS (ignored otherwise)
     * @return [outputs][B][P] gradients
     * @throws IllegalArgumentException if outputs·B·P exceeds one Java array
     */
    public static float[][][] dense(Model model, List<Input> inputs, long[] labels, OutputKind output, GradStrategy strategy,
                                    int numClasses) {
        int batch = Math.toIntExact(Input.checkBatch(inputs, labels));
        int outputs = output == OutputKind.PER_CLASS ? numClasses : 1;
        long p = model.parameterCount();
        if ((long) outputs * batch * p > Integer.MAX_VALUE) throw new IllegalArgumentException("too large for a dense gradient array");
        float[][][] grads = new float[outputs][batch][(int) p];
        compute(model, inputs, labels, output, strategy, 0, true, (out, rowOffset, rows, paramOffset, cols, block) -> {
            for (int r = 0; r < rows; r++) {
                MemorySegment.copy(block, ValueLayout.JAVA_FLOAT, (long) r * cols * Float.BYTES,
                        grads[out][(int) rowOffset + r], (int) paramOffset, cols);
            }
        });
        return grads;
    }

    /**
     * Dense gradients of one float32 input, for small models and tests.
     *
     * @param model the network
     * @param x float32 inputs, row-major
     * @param shape x's shape, shape[0] = B
     * @param labels B labels for MARGIN, else null
     * @param output which scalar output is differentiated
     * @param strategy how gradients are computed
     * @param numClasses C, the number of outputs for PER_CLASS (ignored otherwise)
     * @return [outputs][B][P] gradients
     */
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
