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
 * A TorchScript model held by the native engine, in eval mode.
 *
 * <p>Threads: every method may be called from any thread. Calls on one Model are serialised (they hold its monitor);
 * calls on different Models run in parallel, except the functional (vmap) gradient path, which the engine serialises
 * process-wide because libtorch's functorch layer cannot run two transforms at once. The per-example loop
 * ({@link GradStrategy#ITERATIVE}) takes no process-wide lock. Results do not depend on which threads make the calls.
 *
 * <p>Memory: close it (try-with-resources) to free the native module at once; close() is idempotent, and any use after
 * close throws IllegalStateException. A Model that becomes unreachable without close() is freed by a
 * {@link java.lang.ref.Cleaner} after garbage collection.
 */
public final class Model implements AutoCloseable {
    /**
     * A named parameter tensor of the current selection, in named_parameters() order.
     *
     * @param name the tensor's name, e.g. {@code conv1.weight}
     * @param numel its number of elements
     * @param offset the index of its first element in the selected-parameter vector of length P
     */
    public record Parameter(String name, long numel, long offset) {}

    static {
        ModelHandles.register(model -> ((Model) model).handle);
    }

    private final NativeHandle handle;
    private final String source;
    private final Device device;
    private final int gpu;
    private final long seed;

    private Model(MemorySegment address, String source, Device device, int gpu, long seed) {
        this.handle = new NativeHandle("model " + source, address, TorchCalls::modelFree).freeWhenUnreachable(this);
        this.source = source;
        this.device = device;
        this.gpu = gpu;
        this.seed = seed;
    }

    /**
     * Loads a TorchScript file, or builds {@code builtin:NAME} (initialised from {@code seed}).
     *
     * @param spec a TorchScript path or builtin:NAME
     * @param seed the built-in model's initialisation seed; ignored for a file
     * @param device where the model runs (GPU 0 for CUDA)
     * @return the model, in eval mode, all parameters selected; the caller closes it
     * @throws ProjntkException IO for a missing file, TORCH for one libtorch cannot load, INVALID_ARGUMENT for an
     *     unknown built-in, UNSUPPORTED for CUDA in a CPU-only library
     */
    public static Model open(String spec, long seed, Device device) {
        return open(spec, seed, device, 0);
    }

    /**
     * As {@link #open(String, long, Device)} on GPU {@code gpu} (its ordinal) of a CUDA device.
     *
     * @param spec a TorchScript path or builtin:NAME
     * @param seed the built-in model's initialisation seed
     * @param device where the model runs
     * @param gpu the CUDA ordinal; 0 for the CPU
     * @return the model; the caller closes it
     */
    public static Model open(String spec, long seed, Device device, int gpu) {
        if (spec.startsWith("builtin:")) return builtin(spec.substring("builtin:".length()), seed, device, gpu);
        return load(Path.of(spec), device, gpu);
    }

    /**
     * Loads a TorchScript file.
     *
     * @param path the .pt file
     * @param device where the model runs (GPU 0 for CUDA)
     * @return the model; the caller closes it
     * @throws ProjntkException IO for a missing file, TORCH for one libtorch cannot load
     */
    public static Model load(Path path, Device device) {
        return load(path, path.toString(), device, 0);
    }

    /**
     * As {@link #load(Path, Device)} on GPU {@code gpu} (its ordinal) of a CUDA device.
     *
     * @param path the .pt file
     * @param device where the model runs
     * @param gpu the CUDA ordinal; 0 for the CPU
     * @return the model; the caller closes it
     */
    public static Model load(Path path, Device device, int gpu) {
        return load(path, path.toString(), device, gpu);
    }

    /**
     * Loads a TorchScript file under another name: {@code source} is what {@link #source()} reports and a store records,
     * e.g. the path on the machine that submitted a job, when a worker loads its own copy of the file (Spark's
     * distributed files).
     *
     * @param path the .pt file to read
     * @param source the name to report
     * @param device where the model runs (GPU 0 for CUDA)
     * @return the model; the caller closes it
     */
    public static Model load(Path path, String source, Device device) {
        return load(path, source, device, 0);
    }

    /**
     * As {@link #load(Path, String, Device)} on GPU {@code gpu} (its ordinal) of a CUDA device.
     *
     * @param path the .pt file to read
     * @param source the name to report
     * @param device where the model runs
     * @param gpu the CUDA ordinal; 0 for the CPU
     * @return the model; the caller closes it
     * @throws ProjntkException IO for a missing file, TORCH for one libtorch cannot load
     */
    public static Model load(Path path, String source, Device device, int gpu) {
        java.util.Objects.requireNonNull(source, "source");
        int code = device.code(gpu);
        Native.ensureLoaded();
        if (!Files.isRegularFile(path)) {
            throw new ProjntkException(ProjntkException.Status.IO, "model file not found: " + path.toAbsolutePath());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(TorchCalls.modelLoad(arena.allocateFrom(path.toString()), code, out),
                    "loading model " + path);
            return new Model(out.get(ValueLayout.ADDRESS, 0), source, device, gpu, 0);
        }
    }

    /**
     * Builds a built-in architecture ({@link Builtins}) with fresh weights.
     *
     * @param name the architecture, e.g. {@code cnn-cifar}, without the builtin: prefix
     * @param seed the initialisation seed: the same seed gives the same weights
     * @param device where the model runs (GPU 0 for CUDA)
     * @return the model; the caller closes it
     * @throws ProjntkException (INVALID_ARGUMENT) for an unknown name
     */
    public static Model builtin(String name, long seed, Device device) {
        return builtin(name, seed, device, 0);
    }

    /**
     * As {@link #builtin(String, long, Device)} on GPU {@code gpu} (its ordinal) of a CUDA device.
     *
     * @param name the architecture
     * @param seed the initialisation seed
     * @param device where the model runs
     * @param gpu the CUDA ordinal; 0 for the CPU
     * @return the model; the caller closes it
     */
    public static Model builtin(String name, long seed, Device device, int gpu) {
        int code = device.code(gpu);
        Native.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(TorchCalls.modelBuiltin(arena.allocateFrom(name), seed, code, out),
                    "creating builtin:" + name);
            return new Model(out.get(ValueLayout.ADDRESS, 0), "builtin:" + name, device, gpu, seed);
        }
    }

    /** {@return the path it was loaded from (or the name given), or builtin:NAME; stores record it} */
    public String source() {
        return source;
    }

    /** {@return where the model runs} */
    public Device device() {
        return device;
    }

    /** {@return the GPU's ordinal on a CUDA device; 0 on the CPU} */
    public int gpu() {
        return gpu;
    }

    /** {@return the initialisation seed of a built-in model (0 for a loaded file, whose weights are its own)} */
    public long seed() {
        return seed;
    }

    /**
     * Saves the model, with its current weights, as TorchScript.
     *
     * @param path the .pt file, replaced if it exists; its directory must exist
     * @throws ProjntkException if it cannot be written
     */
    public synchronized void save(Path path) {
        try (Arena arena = Arena.ofConfined()) {
            Native.check(handle.use(m -> TorchCalls.modelSave(m, arena.allocateFrom(path.toString()))), "saving model to " + path);
        }
    }

    /**
     * Restricts gradients to parameters whose names match one of the comma-separated names or prefixes.
     *
     * @param prefixes e.g. {@code "fc.,layer4."}; null or empty selects all
     * @throws ProjntkException (INVALID_ARGUMENT) if a prefix matches no parameter
     */
    public synchronized void selectParameters(String prefixes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = prefixes == null ? MemorySegment.NULL : arena.allocateFrom(prefixes);
            Native.check(handle.use(m -> TorchCalls.selectParams(m, text)), "selecting parameters '" + prefixes + "'");
        }
    }

    /** {@return the total number of selected parameters, the gradient length P} */
    public synchronized long parameterCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tensors = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            Native.check(handle.use(m -> TorchCalls.paramCount(m, tensors, total)), "counting parameters");
            return total.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** {@return the selected parameter tensors, in named_parameters() order, with their offsets in [0, P)} */
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

    /** {@return the selected parameters' values, flattened and concatenated in {@link #parameters()} order: P floats} */
    public synchronized float[] parameterValues() {
        long total = parameterCount();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(ValueLayout.JAVA_FLOAT, total);
            Native.check(handle.use(m -> TorchCalls.getParams(m, buffer, total)), "reading parameters");
            return buffer.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /**
     * Overwrites the selected parameters.
     *
     * @param values P floats, in {@link #parameterValues()} layout
     * @throws ProjntkException (INVALID_ARGUMENT) for a length other than P
     */
    public synchronized void setParameterValues(float[] values) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            Native.check(handle.use(m -> TorchCalls.setParams(m, buffer, values.length)), "writing parameters");
        }
    }

    /** {@return the hex SHA-256 of all the model's weights, selected or not: identifies a checkpoint in a feature store} */
    public synchronized String checksum() {
        return Native.string("checksumming model", (buf, cap) -> handle.use(m -> TorchCalls.checksum(m, buf, cap)));
    }

    /**
     * Chooses where the logits are in forward's result: element {@code index} of a tuple or list, or the value under
     * {@code key} of a dict (null: "logits"). A plain Tensor result is used as is.
     *
     * @param index the element of a tuple or list result
     * @param key the entry of a dict result, or null for "logits"
     */
    public synchronized void selectOutput(int index, String key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = key == null ? MemorySegment.NULL : arena.allocateFrom(key);
            Native.check(handle.use(m -> TorchCalls.setOutput(m, index, k)), "choosing output " + (key == null ? "index " + index : "key '" + key + "'"));
        }
    }

    /** {@return how many inputs forward takes: {min, max} (max counts those with default values)} */
    public synchronized int[] inputCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment min = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment max = arena.allocate(ValueLayout.JAVA_INT);
            Native.check(handle.use(m -> TorchCalls.inputCount(m, min, max)), "reading forward's signature");
            return new int[] {min.get(ValueLayout.JAVA_INT, 0), max.get(ValueLayout.JAVA_INT, 0)};
        }
    }

    /**
     * Eval-mode logits for a float32 batch.
     *
     * @param x float32 inputs, row-major
     * @param shape x's shape, shape[0] = B
     * @return logits [B x C]; C is at most 4096
     */
    public float[][] forward(MemorySegment x, long[] shape) {
        Native.checkBatch(x, shape, null);
        return forward(List.of(Input.float32(x, shape)));
    }

    /**
     * Eval-mode logits for a batch of inputs, passed to forward in order.
     *
     * @param inputs the batch's inputs, B rows each
     * @return logits [B x C]; C is at most 4096
     * @throws IllegalArgumentException if the inputs disagree on B
     */
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

    /**
     * The number of classes C, from a forward pass on one all-zero example.
     *
     * @param exampleShape the shape of one float32 example, without the batch dimension
     * @return C
     */
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

    /**
     * The number of classes C, from a forward pass on the first row of the given inputs.
     *
     * @param inputs the model's inputs
     * @return C
     */
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
