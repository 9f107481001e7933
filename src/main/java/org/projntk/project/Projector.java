package org.projntk.project;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.projntk.internal.Buffers;
import org.projntk.internal.ModelHandles;
import org.projntk.internal.Native;
import org.projntk.internal.NativeHandle;
import org.projntk.internal.ProjectorCalls;
import org.projntk.internal.TorchCalls;
import org.projntk.tensor.Input;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/**
 * A random projection R [P x K] that is never stored: entries are generated on the fly from the spec, so the same
 * spec gives the same projection on any device, batch size, batch order or chunking (see docs/projection.md).
 * Calls are serialised and may come from any thread; close() is idempotent, and frees the native buffers only once no
 * call is in flight. A Projector dropped without close() is freed by a {@link java.lang.ref.Cleaner} after garbage
 * collection.
 */
public final class Projector implements AutoCloseable {
    private final ProjectorSpec spec;
    private final NativeHandle handle;

    /**
     * Builds the native projector; R itself is never materialised.
     *
     * @param spec the projection and where it runs
     * @throws IllegalArgumentException for {@link ProjectorKind#CURAND}
     * @throws org.projntk.ProjntkException if the native projector cannot be made (UNSUPPORTED: CUDA asked of a
     *     CPU-only library)
     */
    public Projector(ProjectorSpec spec) {
        if (spec.kind() == ProjectorKind.CURAND) {
            throw new IllegalArgumentException("the curand projector runs on CUDA through CurandProjector, not Projector");
        }
        this.spec = spec;
        int flags = (spec.unscaled() ? ProjectorCalls.FLAG_UNSCALED : 0) | (spec.checkFinite() ? 0 : ProjectorCalls.FLAG_NO_CHECK)
                | (spec.fp32Strict() ? ProjectorCalls.FLAG_FP32_STRICT : 0);
        this.handle = ProjectorCalls.create(spec.kind().code(), spec.P(), spec.K(), spec.seed(), spec.modelId(), spec.sjltS(),
                flags, spec.device().code(spec.gpu()), spec.toString()).freeWhenUnreachable(this);
    }

    /** {@return the spec this projector was built from} */
    public ProjectorSpec spec() {
        return spec;
    }

    /**
     * The CPU's fp32 FMA rate in GFLOP/s on all of the library's OpenMP threads, the best of short trials over about
     * {@code seconds} (independent FMA chains on the projection kernels' vector width). A dense projection's ceiling
     * on this host is this rate divided by its 2·P·K flops per row.
     *
     * @param seconds roughly how long to measure
     * @return the peak rate in GFLOP/s
     * @throws org.projntk.ProjntkException (UNSUPPORTED) on a CPU without AVX2 and FMA
     */
    public static double cpuFmaPeakGflops(double seconds) {
        return ProjectorCalls.cpuFmaPeakGflops(seconds);
    }

    /**
     * The scaled entry R[p,k] as the kernels apply it, bit for bit.
     *
     * @param p the row, in [0, P)
     * @param k the column, in [0, K)
     * @return R[p,k]
     */
    public synchronized float entry(long p, int k) {
        return ProjectorCalls.entry(handle, p, k);
    }

    /**
     * out[rows x K] += block[rows x cols] · R[paramOffset .. paramOffset+cols): one parameter block of per-example
     * gradients, added at its offset. Host memory only; the result does not depend on the thread count.
     *
     * @param block [rows x cols] float32, row-major
     * @param rows the number of examples
     * @param cols the block's width in parameters
     * @param paramOffset the index in [0, P) of the block's first parameter
     * @param out [rows x K] float32, row-major; added to
     * @throws IllegalArgumentException if a segment is too small
     */
    public synchronized void accumulate(MemorySegment block, int rows, int cols, long paramOffset, MemorySegment out) {
        Buffers.requireFloats(block, (long) rows * cols, "block");
        Buffers.requireFloats(out, (long) rows * spec.K(), "out");
        ProjectorCalls.accumulate(handle, block, rows, cols, paramOffset, out);
    }

    /**
     * out[B x K] = x[B x P] · R, overwriting out. Host memory only.
     *
     * @param x [batch x P] float32, row-major
     * @param batch B
     * @param out [batch x K] float32, row-major
     * @throws IllegalArgumentException if a segment is too small
     */
    public synchronized void project(MemorySegment x, int batch, MemorySegment out) {
        Buffers.requireFloats(x, (long) batch * spec.P(), "x");
        Buffers.requireFloats(out, (long) batch * spec.K(), "out");
        ProjectorCalls.project(handle, x, batch, spec.P(), out);
    }

    /**
     * x · R for small inputs held on the heap (copies both ways).
     *
     * @param x B rows of P values
     * @return B rows of K values
     * @throws IllegalArgumentException if a row does not hold P values
     */
    public float[][] project(float[][] x) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(ValueLayout.JAVA_FLOAT, (long) x.length * spec.P());
            for (int i = 0; i < x.length; i++) {
                if (x[i].length != spec.P()) throw new IllegalArgumentException("row " + i + " has " + x[i].length + " values, expected P=" + spec.P());
                MemorySegment.copy(x[i], 0, in, ValueLayout.JAVA_FLOAT, (long) i * spec.P() * 4, x[i].length);
            }
            MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT, (long) x.length * spec.K());
            project(in, x.length, out);
            float[][] result = new float[x.length][spec.K()];
            for (int i = 0; i < x.length; i++) {
                MemorySegment.copy(out, ValueLayout.JAVA_FLOAT, (long) i * spec.K() * 4, result[i], 0, spec.K());
            }
            return result;
        }
    }

    /**
     * The fused path: per-example gradients of model on x streamed straight into this projector.
     * Locks the model for the call.
     *
     * @param model the network; its selected parameters must number P
     * @param x float32 inputs, row-major
     * @param shape x's shape, shape[0] = B
     * @param labels B labels for {@link OutputKind#MARGIN}, else null
     * @param output which scalar output is differentiated
     * @param strategy how gradients are computed
     * @param maxBlockBytes the most bytes of gradients alive at once (0 or less: 256 MiB)
     * @param out receives [outputs x B x K] floats
     * @return the number of outputs: C for PER_CLASS, else 1
     */
    public synchronized int projectGradients(Model model, MemorySegment x, long[] shape, long[] labels, OutputKind output,
                                             GradStrategy strategy, long maxBlockBytes, MemorySegment out) {
        synchronized (model) {
            return ProjectorCalls.projectGradients(ModelHandles.of(model), model.source(), handle, x, shape, labels, output.code(),
                    strategy.code(), maxBlockBytes, out);
        }
    }

    /**
     * The fused path for a model with several inputs of any dtype (passed to forward in order): out receives
     * [outputs x B x K] floats (outputs = C for PER_CLASS, else 1). Locks the model for the call.
     *
     * @param model the network; its selected parameters must number P
     * @param inputs the model's inputs, one batch of B rows each
     * @param labels B labels for {@link OutputKind#MARGIN}, else null
     * @param output which scalar output is differentiated
     * @param strategy how gradients are computed
     * @param maxBlockBytes the most bytes of gradients alive at once (0 or less: 256 MiB)
     * @param out receives [outputs x B x K] floats
     * @return the gradient path that ran ({@link GradStrategy#AUTO} resolved)
     * @throws IllegalArgumentException if the inputs disagree on B or the labels do not number B
     */
    public synchronized GradStrategy projectGradients(Model model, List<Input> inputs, long[] labels, OutputKind output,
                                                      GradStrategy strategy, long maxBlockBytes, MemorySegment out) {
        Input.checkBatch(inputs, labels);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment labelSegment = labels == null ? MemorySegment.NULL : arena.allocateFrom(ValueLayout.JAVA_LONG, labels);
            MemorySegment outputs = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment used = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment tensors = TorchCalls.tensors(arena, inputs);
            int status;
            synchronized (model) {
                status = ModelHandles.of(model).use(m -> handle.use(p -> TorchCalls.projectGrads(m, p, tensors, inputs.size(),
                        labelSegment, output.code(), strategy.code(), maxBlockBytes, out, out.byteSize() / Float.BYTES, outputs, used)));
            }
            Native.check(status, "projecting gradients of " + model.source());
            return GradStrategy.values()[used.get(ValueLayout.JAVA_INT, 0)];
        }
    }

    @Override
    public void close() {
        handle.close();
    }
}
