package org.projntk.torch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import java.util.List;

import org.projntk.internal.Native;
import org.projntk.internal.NativeHandle;
import org.projntk.internal.TorchCalls;
import org.projntk.tensor.Input;

/**
 * SGD (with momentum) or Adam on cross-entropy, for training the built-in models. Steps may come from any thread; they
 * hold the model's monitor. close() is idempotent; a Trainer dropped without close() is freed by a
 * {@link java.lang.ref.Cleaner} after garbage collection.
 */
public final class Trainer implements AutoCloseable {
    /** The optimiser a Trainer steps with. */
    public enum Optimizer {
        /** Stochastic gradient descent, with optional momentum and weight decay. */
        SGD,
        /** Adam, with optional (L2) weight decay. */
        ADAM
    }

    /** The loss and number of correct predictions of one step. */
    public record Step(double loss, long correct) {}

    private final Model model;
    private final NativeHandle handle;

    public Trainer(Model model, Optimizer optimizer, double learningRate, double momentum, double weightDecay) {
        this.model = model;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(model.useHandle(m -> TorchCalls.trainerNew(m, optimizer.ordinal(), learningRate, momentum, weightDecay, out)),
                    "creating a " + optimizer + " trainer");
            this.handle = new NativeHandle("trainer", out.get(ValueLayout.ADDRESS, 0), TorchCalls::trainerFree).freeWhenUnreachable(this);
        }
    }

    public Step step(MemorySegment x, long[] shape, long[] labels) {
        Native.checkBatch(x, shape, labels);
        return step(List.of(Input.float32(x, shape)), labels);
    }

    /** One optimiser step on a batch of inputs (any dtypes, passed to forward in order) with one label per row. */
    public Step step(List<Input> inputs, long[] labels) {
        if (labels == null) throw new IllegalArgumentException("training needs labels");
        Input.checkBatch(inputs, labels);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment loss = arena.allocate(ValueLayout.JAVA_DOUBLE);
            MemorySegment correct = arena.allocate(ValueLayout.JAVA_LONG);
            synchronized (model) {
                // the native trainer points at the model: both stay alive for the step (a closed one fails cleanly)
                Native.check(model.useHandle(m -> handle.use(t -> TorchCalls.trainerStep(t, TorchCalls.tensors(arena, inputs),
                        inputs.size(), arena.allocateFrom(ValueLayout.JAVA_LONG, labels), loss, correct))), "training step");
            }
            return new Step(loss.get(ValueLayout.JAVA_DOUBLE, 0), correct.get(ValueLayout.JAVA_LONG, 0));
        } finally {
            java.lang.ref.Reference.reachabilityFence(this); // its Cleaner must not free the trainer during the step
        }
    }

    @Override
    public void close() {
        handle.close();
    }
}
