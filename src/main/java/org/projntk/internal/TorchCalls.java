package org.projntk.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.projntk.bindings.projntk_grad_consumer;
import org.projntk.bindings.projntk_h;
import org.projntk.tensor.Input;

/**
 * The libtorch half of projntk.h, for org.projntk.torch: the only place outside this package that needs the generated
 * bindings. Every method returns the raw status; callers check it with {@link Native#check} on the same thread.
 */
public final class TorchCalls {
    private TorchCalls() {}

    /** struct projntk_tensor { const void *data; const int64_t *shape; int32_t ndim; int32_t dtype; } */
    public static final StructLayout TENSOR = MemoryLayout.structLayout(
            ValueLayout.ADDRESS.withName("data"), ValueLayout.ADDRESS.withName("shape"),
            ValueLayout.JAVA_INT.withName("ndim"), ValueLayout.JAVA_INT.withName("dtype")).withName("projntk_tensor");

    /** The inputs as a projntk_tensor array in arena (shapes copied; data referenced, not copied). */
    public static MemorySegment tensors(Arena arena, List<Input> inputs) {
        MemorySegment array = arena.allocate(TENSOR, inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            Input in = inputs.get(i);
            long[] shape = in.shape();
            MemorySegment element = array.asSlice(i * TENSOR.byteSize(), TENSOR.byteSize());
            element.set(ValueLayout.ADDRESS, 0, in.data());
            element.set(ValueLayout.ADDRESS, 8, arena.allocateFrom(ValueLayout.JAVA_LONG, shape));
            element.set(ValueLayout.JAVA_INT, 16, shape.length);
            element.set(ValueLayout.JAVA_INT, 20, in.dtype().code());
        }
        return array;
    }

    public static int version(MemorySegment buf, long cap) { Native.ensureLoaded(); return projntk_h.projntk_version(buf, cap); }
    public static int runtimeInfo(MemorySegment buf, long cap) { Native.ensureLoaded(); return projntk_h.projntk_runtime_info(buf, cap); }
    public static int setThreads(int threads) { Native.ensureLoaded(); return projntk_h.projntk_set_num_threads(threads); }

    public static int modelLoad(MemorySegment path, int device, MemorySegment out) { return projntk_h.projntk_model_load(path, device, out); }
    public static int modelBuiltin(MemorySegment name, long seed, int device, MemorySegment out) {
        return projntk_h.projntk_model_builtin(name, seed, device, out);
    }
    public static int modelFree(MemorySegment model) { return projntk_h.projntk_model_free(model); }
    public static int modelSave(MemorySegment model, MemorySegment path) { return projntk_h.projntk_model_save(model, path); }
    public static int selectParams(MemorySegment model, MemorySegment prefixes) { return projntk_h.projntk_model_select_params(model, prefixes); }
    public static int paramCount(MemorySegment model, MemorySegment tensors, MemorySegment total) {
        return projntk_h.projntk_model_param_count(model, tensors, total);
    }
    public static int paramInfo(MemorySegment model, long index, MemorySegment name, long cap, MemorySegment numel) {
        return projntk_h.projntk_model_param_info(model, index, name, cap, numel);
    }
    public static int getParams(MemorySegment model, MemorySegment out, long cap) { return projntk_h.projntk_model_get_params(model, out, cap); }
    public static int setParams(MemorySegment model, MemorySegment values, long count) { return projntk_h.projntk_model_set_params(model, values, count); }
    public static int checksum(MemorySegment model, MemorySegment buf, long cap) { return projntk_h.projntk_model_checksum(model, buf, cap); }
    public static int setOutput(MemorySegment model, long index, MemorySegment key) { return projntk_h.projntk_model_set_output(model, index, key); }
    public static int inputCount(MemorySegment model, MemorySegment min, MemorySegment max) { return projntk_h.projntk_model_input_count(model, min, max); }
    public static int forward(MemorySegment model, MemorySegment tensors, int n, MemorySegment logits, long cap, MemorySegment classes) {
        return projntk_h.projntk_model_forward_inputs(model, tensors, n, logits, cap, classes);
    }

    /** A native callback receiving gradient blocks; see projntk_grad_consumer. */
    public interface BlockSink {
        int accept(long output, long rowOffset, long rows, long paramOffset, long cols, MemorySegment block);
    }

    public static int grads(Arena arena, MemorySegment model, MemorySegment tensors, int n, MemorySegment labels, int output,
                            int strategy, long maxBlockBytes, boolean checkFinite, BlockSink sink, MemorySegment used) {
        projntk_grad_consumer.Function callback = (ctx, out, rowOffset, rows, paramOffset, cols, block) ->
                sink.accept(out, rowOffset, rows, paramOffset, cols, block);
        MemorySegment stub = projntk_grad_consumer.allocate(callback, arena);
        return projntk_h.projntk_grads_inputs(model, tensors, n, labels, output, strategy, maxBlockBytes, checkFinite ? 1 : 0,
                stub, MemorySegment.NULL, used);
    }

    public static int projectGrads(MemorySegment model, MemorySegment projector, MemorySegment tensors, int n, MemorySegment labels,
                                   int output, int strategy, long maxBlockBytes, MemorySegment out, long cap,
                                   MemorySegment outputs, MemorySegment used) {
        return projntk_h.projntk_project_grads_inputs(model, projector, tensors, n, labels, output, strategy, maxBlockBytes,
                out, cap, outputs, used);
    }

    public static int trainerNew(MemorySegment model, int optimizer, double lr, double momentum, double weightDecay, MemorySegment out) {
        return projntk_h.projntk_trainer_new(model, optimizer, lr, momentum, weightDecay, out);
    }
    public static int trainerStep(MemorySegment trainer, MemorySegment tensors, int n, MemorySegment labels, MemorySegment loss,
                                  MemorySegment correct) {
        return projntk_h.projntk_trainer_step_inputs(trainer, tensors, n, labels, loss, correct);
    }
    public static int trainerFree(MemorySegment trainer) { return projntk_h.projntk_trainer_free(trainer); }
}
