package org.projntk.torch;

/** How per-example gradients are computed. Values mirror enum projntk_grad_strategy. */
public enum GradStrategy {
    /** Functional, falling back to iterative (with a warning) when an op has no batching rule. */
    AUTO,
    /** vmap(grad) through ATen's functorch layer. */
    FUNCTIONAL,
    /** One backward pass per example. */
    ITERATIVE;

    public int code() {
        return ordinal();
    }

    public static GradStrategy parse(String text) {
        return valueOf(text.trim().toUpperCase(java.util.Locale.ROOT));
    }
}
