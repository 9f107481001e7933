package org.projntk.torch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.projntk.ProjntkException;
import org.projntk.bindings.projntk_h;
import org.projntk.internal.ModelHandles;
import org.projntk.internal.Native;
import org.projntk.internal.NativeHandle;

/**
 * A TorchScript model held by the native engine, in eval mode. Not thread-safe: use one Model per thread.
 * Close it (try-with-resources) to free the native module; use after close throws IllegalStateException.
 */
public final class Model implements AutoCloseable {
    /** A named parameter tensor of the current selection, in named_parameters() order. */
    public record Parameter(String name, long numel, long offset) {}

    static {
        ModelHandles.register(model -> ((Model) model).handle);
    }

    private final NativeHandle handle;
    private final String source;
    private final Device device;

    private Model(MemorySegment address, String source, Device device) {
        this.handle = new NativeHandle("model " + source, address, projntk_h::projntk_model_free);
        this.source = source;
        this.device = device;
    }

    /** Loads a TorchScript file, or {@code builtin:NAME} (initialised from {@code seed}). */
    public static Model open(String spec, long seed, Device device) {
        if (spec.startsWith("builtin:")) return builtin(spec.substring("builtin:".length()), seed, device);
        return load(Path.of(spec), device);
    }

    public static Model load(Path path, Device device) {
        Native.ensureLoaded();
        if (!Files.isRegularFile(path)) {
            throw new ProjntkException(ProjntkException.Status.IO, "model file not found: " + path.toAbsolutePath());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(projntk_h.projntk_model_load(arena.allocateFrom(path.toString()), device.code(), out),
                    "loading model " + path);
            return new Model(out.get(ValueLayout.ADDRESS, 0), path.toString(), device);
        }
    }

    public static Model builtin(String name, long seed, Device device) {
        Native.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(projntk_h.projntk_model_builtin(arena.allocateFrom(name), seed, device.code(), out),
                    "creating builtin:" + name);
            return new Model(out.get(ValueLayout.ADDRESS, 0), "builtin:" + name, device);
        }
    }

    public String source() {
        return source;
    }

    public Device device() {
        return device;
    }

    public synchronized void save(Path path) {
        try (Arena arena = Arena.ofConfined()) {
            Native.check(projntk_h.projntk_model_save(handle.get(), arena.allocateFrom(path.toString())), "saving model to " + path);
        }
    }

    /** Restricts gradients to parameters whose names match one of the comma-separated names or prefixes; null = all. */
    public synchronized void selectParameters(String prefixes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = prefixes == null ? MemorySegment.NULL : arena.allocateFrom(prefixes);
            Native.check(projntk_h.projntk_model_select_params(handle.get(), text), "selecting parameters '" + prefixes + "'");
        }
    }

    /** Total number of selected parameters (the gradient length P). */
    public synchronized long parameterCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tensors = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            Native.check(projntk_h.projntk_model_param_count(handle.get(), tensors, total), "counting parameters");
            return total.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public synchronized List<Parameter> parameters() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tensors = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            Native.check(projntk_h.projntk_model_param_count(handle.get(), tensors, total), "counting parameters");
            long count = tensors.get(ValueLayout.JAVA_LONG, 0);
            List<Parameter> out = new ArrayList<>();
            MemorySegment name = arena.allocate(1024);
            MemorySegment numel = arena.allocate(ValueLayout.JAVA_LONG);
            long offset = 0;
            for (long i = 0; i < count; i++) {
                Native.check(projntk_h.projntk_model_param_info(handle.get(), i, name, 1024, numel), "reading parameter " + i);
                long n = numel.get(ValueLayout.JAVA_LONG, 0);
                out.add(new Parameter(name.getString(0), n, offset));
                offset += n;
            }
            return out;
        }
    }

    public synchronized float[] parameterValues() {
        long total = parameterCount();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(ValueLayout.JAVA_FLOAT, total);
            Native.check(projntk_h.projntk_model_get_params(handle.get(), buffer, total), "reading parameters");
            return buffer.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    public synchronized void setParameterValues(float[] values) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            Native.check(projntk_h.projntk_model_set_params(handle.get(), buffer, values.length), "writing parameters");
        }
    }

    /** Hex SHA-256 of the model's weights: identifies a checkpoint in a feature store. */
    public synchronized String checksum() {
        return Native.string("checksumming model", (buf, cap) -> projntk_h.projntk_model_checksum(handle.get(), buf, cap));
    }

    /** Eval-mode logits [B x C] for a float32 batch x of the given shape (shape[0] = B). */
    public synchronized float[][] forward(MemorySegment x, long[] shape) {
        Native.checkBatch(x, shape, null);
        int batch = (int) shape[0];
        try (Arena arena = Arena.ofConfined()) {
            long cap = (long) batch * 4096;
            MemorySegment logits = arena.allocate(ValueLayout.JAVA_FLOAT, cap);
            MemorySegment classes = arena.allocate(ValueLayout.JAVA_LONG);
            Native.check(projntk_h.projntk_model_forward(handle.get(), x, Native.shape(arena, shape), shape.length,
                    logits, cap, classes), "forward pass of " + source);
            int c = (int) classes.get(ValueLayout.JAVA_LONG, 0);
            float[][] out = new float[batch][c];
            for (int i = 0; i < batch; i++) {
                MemorySegment.copy(logits, ValueLayout.JAVA_FLOAT, (long) i * c * 4, out[i], 0, c);
            }
            return out;
        }
    }

    /** Number of classes C, from a forward pass on one example of the given shape (without the batch dim). */
    public int numClasses(long[] exampleShape) {
        long[] shape = new long[exampleShape.length + 1];
        shape[0] = 1;
        System.arraycopy(exampleShape, 0, shape, 1, exampleShape.length);
        long n = 1;
        for (long d : exampleShape) n *= d;
        try (Arena arena = Arena.ofConfined()) {
            return forward(arena.allocate(ValueLayout.JAVA_FLOAT, n), shape)[0].length;
        }
    }


    /** The native handle's address, for this package's wrappers. */
    MemorySegment address() {
        return handle.get();
    }

    @Override
    public void close() {
        handle.close();
    }
}
