// Internal entry point shared by projntk_grads and projntk_project_grads.
#pragma once

#include "torch_internal.hpp"

namespace projntk {

// Streams per-example gradients of x (already validated, on the model's device) to consumer.
// Returns the strategy used (FUNCTIONAL or ITERATIVE). With device_blocks, a model on a GPU hands the consumer device
// pointers (the blocks stay where libtorch made them, unchecked for NaN/Inf here); otherwise blocks are in host memory.
int32_t compute_grads(projntk_model &m, const Inputs &x, const int64_t *labels, int32_t output, int32_t strategy,
                      int64_t max_block_bytes, bool check_finite, projntk_grad_consumer consumer, void *ctx,
                      bool device_blocks = false);

}  // namespace projntk
