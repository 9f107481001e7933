// The fused path: per-example gradients streamed straight into a projector through its public C functions. When the
// model and the projector share a GPU, the gradients stay there: only the result crosses to the host, once per call.
#include <cstring>
#include <vector>

// libtorch's current CUDA stream orders the projector's kernels after the gradients' (and before the caching allocator
// reuses their memory). A CPU-only libtorch that ships c10/cuda headers without their generated macros (Debian's) has
// only the default stream to offer: NULL, the legacy default stream, which libtorch uses unless told otherwise.
#if defined(PROJNTK_WITH_CUDA) && __has_include(<c10/cuda/impl/cuda_cmake_macros.h>)
#include <c10/cuda/CUDAStream.h>
#define PROJNTK_TORCH_CUDA_STREAM 1
#endif

#include "grads.hpp"

using namespace projntk;

namespace {

struct Sink {
    projntk_projector *projector = nullptr;
    float *out = nullptr;      // [n_outputs][B][K]: host memory, or the GPU's when on_device
    bool on_device = false;    // blocks and out in the projector's GPU memory, work queued on stream
    void *stream = nullptr;    // libtorch's current stream there
    at::Tensor device_out;     // out as a tensor, when on_device
    int64_t B = 0, K = 0;
    std::vector<float> gathered;  // the block's output rows, when they are not contiguous in out
    int status = PROJNTK_OK;
    std::string message;
};

std::string last_error_text() {
    char buf[2048];
    projntk_last_error(buf, sizeof buf, nullptr);
    return buf;
}

// All outputs of one parameter block in one projector call, so each tile of R is generated once for the C·rows rows.
// Output rows are independent chains over p, so the bits are those of one call per output: the rows of a sub-batch
// that are not contiguous in out (n_outputs > 1 and rows < B) are copied out, accumulated and copied back unchanged
// (on the GPU, by libtorch on the same stream as the projector's work, when the blocks stay there).
int32_t accumulate(Sink &s, const GradBlock &b) {
    const int64_t n = b.n_outputs * b.rows;
    const bool contiguous = b.n_outputs == 1 || b.rows == s.B;
    float *target = s.out + b.row_offset * s.K;
    at::Tensor gathered_device;
    if (!contiguous) {
        if (s.on_device) {
            gathered_device = s.device_out.narrow(1, b.row_offset, b.rows).contiguous();
            target = gathered_device.data_ptr<float>();
        } else {
            s.gathered.resize(static_cast<size_t>(n * s.K));
            for (int64_t c = 0; c < b.n_outputs; ++c)
                std::memcpy(s.gathered.data() + c * b.rows * s.K, s.out + (c * s.B + b.row_offset) * s.K,
                            sizeof(float) * static_cast<size_t>(b.rows * s.K));
            target = s.gathered.data();
        }
    }
    int st = s.on_device
                 ? projntk_projector_accumulate_device(s.projector, b.data, n, b.cols, b.param_offset, target, s.stream)
                 : projntk_projector_accumulate(s.projector, b.data, n, b.cols, b.param_offset, target);
    if (st != PROJNTK_OK) {
        s.status = st;
        s.message = last_error_text();
        return 1;
    }
    if (!contiguous && s.on_device) s.device_out.narrow(1, b.row_offset, b.rows).copy_(gathered_device);
    else if (!contiguous)
        for (int64_t c = 0; c < b.n_outputs; ++c)
            std::memcpy(s.out + (c * s.B + b.row_offset) * s.K, s.gathered.data() + c * b.rows * s.K,
                        sizeof(float) * static_cast<size_t>(b.rows * s.K));
    return 0;
}

}  // namespace

extern "C" int projntk_project_grads_inputs(projntk_model *model, projntk_projector *projector,
                                            const projntk_tensor *inputs, int32_t n_inputs, const int64_t *labels,
                                            int32_t output, int32_t strategy, int64_t max_block_bytes, float *out,
                                            int64_t cap, int64_t *out_outputs, int32_t *out_strategy_used) {
    return torch_guarded("projntk_project_grads", [&] {
        require(model != nullptr, "model is null");
        require(projector != nullptr, "projector is null");
        require(out != nullptr, "out is null");
        projntk_model &m = *model;
        int64_t P = 0, K = 0;
        if (int st = projntk_projector_dims(projector, &P, &K); st != PROJNTK_OK) throw Error(st, last_error_text());
        require(P == m.selected_numel, "projector P = " + std::to_string(P) + " but the model has " +
                                           std::to_string(m.selected_numel) + " selected parameters");
        Inputs xt = input_tensors(m, inputs, n_inputs);
        const int64_t B = batch_size(xt);
        const int64_t C = model_classes(m, xt);
        const int64_t n_out = output == PROJNTK_OUTPUT_PER_CLASS ? C : 1;
        require(cap / K / B >= n_out, "out capacity " + std::to_string(cap) + " < n_outputs*B*K = " +
                                          std::to_string(n_out) + "*" + std::to_string(B) + "*" + std::to_string(K));
        std::memset(out, 0, sizeof(float) * static_cast<size_t>(n_out * B * K));
        Sink sink;
        sink.projector = projector;
        sink.out = out;
        sink.B = B;
        sink.K = K;
        at::Tensor device_out;  // [n_out, B, K] on the GPU, for the device path
        int32_t projector_device = PROJNTK_DEVICE_CPU;
        if (int st = projntk_projector_device(projector, &projector_device); st != PROJNTK_OK)
            throw Error(st, last_error_text());
#ifdef PROJNTK_WITH_CUDA
        const int32_t model_device =
            m.device.is_cuda() ? PROJNTK_DEVICE_CUDA | ((m.device.has_index() ? m.device.index() : 0)
                                                        << PROJNTK_DEVICE_ORDINAL_SHIFT)
                               : PROJNTK_DEVICE_CPU;
        if (m.device.is_cuda() && projector_device == model_device) {
            device_out = torch::zeros({n_out, B, K}, torch::TensorOptions().dtype(torch::kFloat32).device(m.device));
            sink.out = device_out.data_ptr<float>();
            sink.device_out = device_out;
            sink.on_device = true;
#ifdef PROJNTK_TORCH_CUDA_STREAM
            sink.stream = c10::cuda::getCurrentCUDAStream(m.device.index()).stream();
#endif
        }
#endif
        int32_t used;
        try {
            // Gradients are checked by the projector unless it was built with PROJNTK_PROJ_NO_CHECK.
            used = compute_grads(m, xt, labels, output, strategy, max_block_bytes, true,
                                 [&](const GradBlock &b) { return accumulate(sink, b); }, sink.on_device);
        } catch (const Error &e) {
            if (e.status == PROJNTK_ERR_CALLBACK && sink.status != PROJNTK_OK) throw Error(sink.status, sink.message);
            throw;
        }
        if (sink.on_device) {
            at::Tensor host = to_host(device_out);  // the one copy of the call's result
            std::memcpy(out, host.data_ptr<float>(), sizeof(float) * static_cast<size_t>(n_out * B * K));
        }
        if (out_outputs) *out_outputs = n_out;
        if (out_strategy_used) *out_strategy_used = used;
    });
}

extern "C" int projntk_project_grads(projntk_model *model, projntk_projector *projector, const float *x,
                                     const int64_t *x_shape, int32_t x_ndim, const int64_t *labels, int32_t output,
                                     int32_t strategy, int64_t max_block_bytes, float *out, int64_t cap,
                                     int64_t *out_outputs, int32_t *out_strategy_used) {
    projntk_tensor in = float_input(x, x_shape, x_ndim);
    return projntk_project_grads_inputs(model, projector, &in, 1, labels, output, strategy, max_block_bytes, out, cap,
                                        out_outputs, out_strategy_used);
}
