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

    /** The example shape of builtin:NAME (NAME with or without the prefix). */
    public static long[] inputShape(String name) {
        String bare = name.startsWith("builtin:") ? name.substring("builtin:".length()) : name;
        long[] shape = INPUT_SHAPES.get(bare);
        if (shape == null) throw new IllegalArgumentException("unknown builtin model '" + bare + "'; known: " + INPUT_SHAPES.keySet());
        return shape.clone();
    }

    public static boolean isBuiltin(String spec) {
        return spec.startsWith("builtin:");
    }
}
