package org.projntk.torch;

import java.util.Map;

/** The built-in architectures defined inside the native library, with the input shape (without batch) each expects. */
public final class Builtins {
    private Builtins() {}

    private static final Map<String, long[]> INPUT_SHAPES = Map.of(
            "tiny-mlp", new long[] {4},
            "tiny-cnn", new long[] {1, 6, 6},
            "mlp", new long[] {1, 28, 28},
            "linear-fmnist", new long[] {1, 28, 28},
            "cnn-fmnist", new long[] {1, 28, 28},
            "cnn-cifar", new long[] {3, 32, 32},
            "resnet18-cifar", new long[] {3, 32, 32});

    /**
     * The shape of one example of a built-in model.
     *
     * @param name builtin:NAME, or NAME alone
     * @return the example shape without the batch dimension, e.g. [3, 32, 32] for cnn-cifar (a copy)
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    public static long[] inputShape(String name) {
        String bare = name.startsWith("builtin:") ? name.substring("builtin:".length()) : name;
        long[] shape = INPUT_SHAPES.get(bare);
        if (shape == null) throw new IllegalArgumentException("unknown builtin model '" + bare + "'; known: " + INPUT_SHAPES.keySet());
        return shape.clone();
    }

    /**
     * Whether a model spec names a built-in architecture rather than a TorchScript file.
     *
     * @param spec a model spec as the command line takes it
     * @return true if it starts with {@code builtin:}
     */
    public static boolean isBuiltin(String spec) {
        return spec.startsWith("builtin:");
    }
}
