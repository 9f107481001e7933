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
        ADAM;

        /** {@return the learning rate used when none is given: 0.05 for SGD, 1e-3 for Adam} */
        public double defaultLearningRate() {
            return this == ADAM ? 1e-3 : 0.05;
        }
    }

    /**
     * The loss and number of correct predictions of one step, both measured on the batch before the update.
     *
     * @param loss the mean cross-entropy over the batch, in nats
     * @param correct the number of rows whose arg-max logit is the label
     */
    public record Step(double loss, long correct) {}

    private final Model model;
    private final NativeHandle handle;

    /**
     * A trainer over all the model's parameters, which it trains in place (a step on a closed model fails cleanly).
     *
     * @param model the network
     * @param optimizer SGD or Adam
     * @param learningRate the step size, above 0
     * @param momentum SGD's momentum in [0, 1) (0: none); ignored by Adam
     * @param weightDecay L2 weight decay, 0 or more
     * @throws org.projntk.ProjntkException (INVALID_ARGUMENT) for a value out of range
     */
    public Trainer(Model model, Optimizer optimizer, double learningRate, double momentum, double weightDecay) {
        this.model = model;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(model.useHandle(m -> TorchCalls.trainerNew(m, optimizer.ordinal(), learningRate, momentum, weightDecay, out)),
                    "creating a " + optimizer + " trainer");
            this.handle = new NativeHandle("trainer", out.get(ValueLayout.ADDRESS, 0), TorchCalls::trainerFree).freeWhenUnreachable(this);
        }
    }

    /**
     * One optimiser step on a single float32 input.
     *
     * @param x float32 inputs, row-major
     * @param shape x's shape, shape[0] = B
     * @param labels B class labels
     * @return the step's loss and correct count
     */
    public Step step(MemorySegment x, long[] shape, long[] labels) {
        Native.checkBatch(x, shape, labels);
        return step(List.of(Input.float32(x, shape)), labels);
    }

    /**
     * One optimiser step on cross-entropy: train mode during the step, eval mode after.
     *
     * @param inputs the batch's inputs (any dtypes, passed to forward in order)
     * @param labels one class label per row
     * @return the step's loss and correct count
     * @throws IllegalArgumentException if labels are missing or do not number the batch's rows
     * @throws org.projntk.ProjntkException (NONFINITE) if the loss is NaN or infinite
     */
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
