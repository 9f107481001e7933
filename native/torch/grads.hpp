// Internal entry point shared by projntk_grads and projntk_project_grads.
#pragma once

#include <functional>

#include "torch_internal.hpp"

namespace projntk {

// The gradients of one selected parameter tensor for every output at once: data is row-major
// [n_outputs][rows][cols] float32 (output-major, so for PER_CLASS it is one [C·rows x cols] block whose
// rows c·rows .. c·rows+rows-1 belong to class c), for batch rows [row_offset, row_offset+rows) and coordinates
// [param_offset, param_offset+cols) of the selected-parameter vector. In host memory, or in the model's GPU memory
// when compute_grads was asked for device blocks. Valid only during the call.
struct GradBlock {
    int64_t n_outputs, row_offset, rows, param_offset, cols;
    const float *data;
};

// Returns 0 to continue, non-zero to abort (compute_grads then throws PROJNTK_ERR_CALLBACK).
using GradBlockConsumer = std::function<int32_t(const GradBlock &)>;

// Streams per-example gradients of x (already validated, on the model's device) to consumer, one call per
// (sub-batch, selected parameter tensor), parameters in selection order. Returns the strategy used (FUNCTIONAL or
// ITERATIVE). With device_blocks, a model on a GPU hands the consumer device pointers (the blocks stay where libtorch
// made them, unchecked for NaN/Inf here); otherwise blocks are in host memory.
int32_t compute_grads(projntk_model &m, const Inputs &x, const int64_t *labels, int32_t output, int32_t strategy,
                      int64_t max_block_bytes, bool check_finite, const GradBlockConsumer &consumer,
                      bool device_blocks = false);

}  // namespace projntk
