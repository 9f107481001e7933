package org.projntk.torch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.projntk.ProjntkException;
import org.projntk.internal.ModelHandles;
import org.projntk.internal.Native;
import org.projntk.internal.NativeHandle;
import org.projntk.internal.TorchCalls;
import org.projntk.tensor.Input;

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
        this.handle = new NativeHandle("model " + source, address, TorchCalls::modelFree);
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
            Native.check(TorchCalls.modelLoad(arena.allocateFrom(path.toString()), device.code(), out),
                    "loading model " + path);
            return new Model(out.get(ValueLayout.ADDRESS, 0), path.toString(), device);
        }
    }

    public static Model builtin(String name, long seed, Device device) {
        Native.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(TorchCalls.modelBuiltin(arena.allocateFrom(name), seed, device.code(), out),
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
            Native.check(handle.use(m -> TorchCalls.modelSave(m, arena.allocateFrom(path.toString()))), "saving model to " + path);
        }
    }

    /** Restricts gradients to parameters whose names match one of the comma-separated names or prefixes; null = all. */
    public synchronized void selectParameters(String prefixes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = prefixes == null ? MemorySegment.NULL : arena.allocateFrom(prefixes);
            Native.check(handle.use(m -> TorchCalls.selectParams(m, text)), "selecting parameters '" + prefixes + "'");
        }
    }

    /** Total number of selected parameters (the gradient length P). */
    public synchronized long parameterCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tensors = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            Native.check(handle.use(m -> TorchCalls.paramCount(m, tensors, total)), "counting parameters");
            return total.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public synchronized List<Parameter> parameters() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tensors = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            Native.check(handle.use(m -> TorchCalls.paramCount(m, tensors, total)), "counting parameters");
            long count = tensors.get(ValueLayout.JAVA_LONG, 0);
            List<Parameter> out = new ArrayList<>();
            MemorySegment name = arena.allocate(1024);
            MemorySegment numel = arena.allocate(ValueLayout.JAVA_LONG);
            long offset = 0;
            for (long i = 0; i < count; i++) {
                long index = i;
                Native.check(handle.use(m -> TorchCalls.paramInfo(m, index, name, 1024, numel)), "reading parameter " + i);
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
            Native.check(handle.use(m -> TorchCalls.getParams(m, buffer, total)), "reading parameters");
            return buffer.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    public synchronized void setParameterValues(float[] values) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            Native.check(handle.use(m -> TorchCalls.setParams(m, buffer, values.length)), "writing parameters");
        }
    }

    /** Hex SHA-256 of the model's weights: identifies a checkpoint in a feature store. */
    public synchronized String checksum() {
        return Native.string("checksumming model", (buf, cap) -> handle.use(m -> TorchCalls.checksum(m, buf, cap)));
    }

    /**
     * Chooses where the logits are in forward's result: element {@code index} of a tuple or list, or the value under
     * {@code key} of a dict (null: "logits"). A plain Tensor result is used as is.
     */
    public synchronized void selectOutput(int index, String key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = key == null ? MemorySegment.NULL : arena.allocateFrom(key);
            Native.check(handle.use(m -> TorchCalls.setOutput(m, index, k)), "choosing output " + (key == null ? "index " + index : "key '" + key + "'"));
        }
    }

    /** How many inputs forward takes: {min, max} (max counts those with default values). */
    public synchronized int[] inputCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment min = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment max = arena.allocate(ValueLayout.JAVA_INT);
            Native.check(handle.use(m -> TorchCalls.inputCount(m, min, max)), "reading forward's signature");
            return new int[] {min.get(ValueLayout.JAVA_INT, 0), max.get(ValueLayout.JAVA_INT, 0)};
        }
    }

    /** Eval-mode logits [B x C] for a float32 batch x of the given shape (shape[0] = B). */
    public float[][] forward(MemorySegment x, long[] shape) {
        Native.checkBatch(x, shape, null);
        return forward(List.of(Input.float32(x, shape)));
    }

    /** Eval-mode logits [B x C] for a batch of inputs, passed to forward in order. */
    public synchronized float[][] forward(List<Input> inputs) {
        int batch = Math.toIntExact(Input.checkBatch(inputs, null));
        try (Arena arena = Arena.ofConfined()) {
            long cap = (long) batch * 4096;
            MemorySegment logits = arena.allocate(ValueLayout.JAVA_FLOAT, cap);
            MemorySegment classes = arena.allocate(ValueLayout.JAVA_LONG);
            Native.check(handle.use(m -> TorchCalls.forward(m, TorchCalls.tensors(arena, inputs), inputs.size(), logits, cap, classes)),
                    "forward pass of " + source);
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

    /** Number of classes C, from a forward pass on the first row of the given inputs. */
    public int numClasses(List<Input> inputs) {
        List<Input> first = inputs.stream()
                .map(in -> { long[] s = in.shape(); s[0] = 1; return new Input(in.data(), in.dtype(), s); }).toList();
        return forward(first)[0].length;
    }

    /** Runs a native call with this model's handle, which cannot be freed until the call returns. */
    <T> T useHandle(NativeHandle.Call<T> call) {
        return handle.use(call);
    }

    @Override
    public void close() {
        handle.close();
    }
}
