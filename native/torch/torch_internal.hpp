// Shared internals of the libtorch half of libprojntk (not part of the C boundary).
#pragma once

#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "status.hpp"

struct projntk_model {
    torch::jit::Module module;
    torch::Device device{torch::kCPU};
    std::string arch;                   // builtin name, or "file:<path>"
    std::vector<int64_t> input_shape;   // per-example shape (C,H,W) or (D) of a one-input model; empty: unknown
    std::vector<at::ScalarType> input_dtypes;  // builtins: the dtype of each input; empty: unknown (loaded file)
    int64_t output_index = 0;           // element of a tuple/list result holding the logits
    std::string output_key = "logits";  // value of a dict result holding the logits
    bool output_chosen = false;         // set_output named an index > 0 or a key: a result it cannot apply to is an error
    bool functional_unsupported = false;  // AUTO met vmap refusing an op (not any failure): the iterative path from then on
    bool class_vmap_unsupported = false;  // the batched class backward failed once where one class at a time ran: the latter from then on
    int64_t classes = -1;               // -1: not known until the first forward
    std::vector<std::string> names;     // all parameters, named_parameters() order
    std::vector<int64_t> selected;      // indices into names, in order
    int64_t selected_numel = 0;
};

namespace projntk {

// c10::Error first (without its backtrace), other exceptions from libtorch as PROJNTK_ERR_TORCH, then
// projntk::guarded's mapping (projntk::Error keeps its status).
// Every call runs with the TorchScript graph executor's optimisation off (it slows the vmap path, see
// docs/gradients.md). The setting is thread-local in libtorch, so it is set here, on the calling thread, and restored
// when the call returns: the caller's own TorchScript use is untouched.
template <class Body>
int torch_guarded(const char *where, Body &&body) noexcept {
    return guarded(where, [&] {
        torch::jit::GraphOptimizerEnabledGuard executor_optimisation_off(false);
        try {
            body();
        } catch (const c10::Error &e) {
            throw Error(PROJNTK_ERR_TORCH, e.what_without_backtrace());
        } catch (const torch::jit::ErrorReport &e) {
            throw Error(PROJNTK_ERR_TORCH, e.what());
        } catch (const Error &) {
            throw;
        } catch (const std::bad_alloc &) {
            throw;
        } catch (const std::exception &e) {
            // libtorch also throws plain std::runtime_error (e.g. an op failing inside the TorchScript interpreter).
            throw Error(PROJNTK_ERR_TORCH, e.what());
        }
    });
}

torch::Device device_from_code(int32_t device);

// Parameter bookkeeping.
std::vector<at::Tensor> all_parameters(projntk_model &m);
void refresh_parameter_names(projntk_model &m);
void set_parameter(projntk_model &m, size_t index, const at::Tensor &value);

// A batch of model inputs, each with B rows along dim 0, in forward's order.
using Inputs = std::vector<at::Tensor>;

// Validates the inputs (count against forward's signature, dtype, shapes, common B, finiteness of floats) and returns
// them as tensors on the model's device. The data is copied, so the caller's buffers may go away.
Inputs input_tensors(projntk_model &m, const projntk_tensor *inputs, int32_t n_inputs);
// The single float32 input of the older entry points, as one projntk_tensor.
projntk_tensor float_input(const float *x, const int64_t *x_shape, int32_t x_ndim);
int64_t batch_size(const Inputs &x);
// The projection path's only ways across the host/device boundary, both counted (common/transfer.hpp, transfer.cpp):
// a new copy of t on `device` (also when t is already there), and t on the host (t itself when it is there).
at::Tensor copy_to(const at::Tensor &t, torch::Device device);
at::Tensor to_host(const at::Tensor &t);
Inputs narrow_rows(const Inputs &x, int64_t start, int64_t rows);
// forward's (min, max) input count, from its TorchScript schema.
std::pair<int32_t, int32_t> forward_arity(projntk_model &m);
// Eval-mode forward of a batch; picks the logits out of the result, checks they are [B, C] and records C.
at::Tensor forward_logits(projntk_model &m, const Inputs &x);
// Number of classes, running a one-example forward if not known yet.
int64_t model_classes(projntk_model &m, const Inputs &x);
at::Tensor labels_tensor(const int64_t *labels, int64_t B, int64_t classes);

// Builtin architectures (builtins.cpp).
bool make_builtin(const std::string &name, int64_t seed, projntk_model &out);
std::string builtin_names();

// Registers the ops of newer PyTorch that this libtorch lacks and projntk provides (compat_ops.cpp); idempotent.
void register_compat_ops();
// Comma-separated names of the ops registered by register_compat_ops(), "" when the runtime has them all.
std::string compat_ops_registered();

std::string sha256_hex(const std::vector<std::pair<const void *, size_t>> &chunks);

void copy_string(const std::string &s, char *buf, int64_t cap, const char *what);

}  // namespace projntk
