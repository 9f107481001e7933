package org.projntk.internal;

import java.util.function.Function;

/**
 * Lets the engine's own packages reach a model's native handle (the fused projection needs it) without a public
 * accessor: {@code org.projntk.torch.Model} registers itself here, and the module does not export this package.
 */
public final class ModelHandles {
    private ModelHandles() {}

    private static volatile Function<Object, NativeHandle> accessor;

    public static void register(Function<Object, NativeHandle> modelToHandle) {
        accessor = modelToHandle;
    }

    /** The handle of a model (any instance implies its class, and so the registration, is initialised). */
    public static NativeHandle of(Object model) {
        return accessor.apply(model);
    }
}
