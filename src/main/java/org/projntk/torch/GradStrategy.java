package org.projntk.torch;

/** How per-example gradients are computed. Values mirror enum projntk_grad_strategy. */
public enum GradStrategy {
    /**
     * Functional, falling back to iterative when vmap refuses an op of the model (a missing batching rule, data-dependent
     * control flow); the model then keeps the iterative path. Any other failure is reported as it is, never hidden by a
     * fallback.
     */
    AUTO,
    /**
     * vmap(grad) through ATen's functorch layer. Serialised process-wide: libtorch's functorch layer cannot run two
     * transforms at once, so functional calls on different Models from different threads take turns.
     */
    FUNCTIONAL,
    /** One backward pass per example. */
    ITERATIVE;

    /** {@return the projntk_grad_strategy value} */
    public int code() {
        return ordinal();
    }

    /**
     * Parses a name, case-insensitively.
     *
     * @param text auto, functional or iterative
     * @return the strategy
     * @throws IllegalArgumentException for another name
     */
    public static GradStrategy parse(String text) {
        return valueOf(text.trim().toUpperCase(java.util.Locale.ROOT));
    }
}
