// Per-example gradients: functional (vmap(grad) through ATen's functorch layer) and iterative (one backward per
// example), streamed to a consumer one parameter tensor at a time within memory-bounded sub-batches.
#include <ATen/functorch/BatchedTensorImpl.h>
#include <ATen/functorch/DynamicLayer.h>
#include <ATen/functorch/TensorWrapper.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "functorch_lock.hpp"
#include "grads.hpp"

namespace projntk {
namespace {

namespace ft = at::functorch;

// Replaces module parameters for the duration of a computation and puts the originals back, even on exceptions.
struct ParamSwap {
    projntk_model &m;
    std::vector<at::Tensor> originals;
    bool swapped = false;
    explicit ParamSwap(projntk_model &model) : m(model), originals(all_parameters(model)) {}
    void set(size_t i, const at::Tensor &t) {
        swapped = true;
        set_parameter(m, i, t);
    }
    void restore() {
        if (!swapped) return;
        swapped = false;
        for (size_t i = 0; i < originals.size(); ++i) set_parameter(m, i, originals[i]);
    }
    ~ParamSwap() {
        try {
            restore();
        } catch (...) {
        }
    }
};

// functorch layers pushed by us; popped in reverse order on scope exit.
struct LayerStack {
    int pushed = 0;
    int64_t push(int64_t level) {
        ++pushed;
        return level;
    }
    void pop() {
        ft::popDynamicLayerAndDeleteMetadata();
        --pushed;
    }
    ~LayerStack() {
        while (pushed > 0) {
            try {
                pop();
            } catch (...) {
                --pushed;
            }
        }
    }
};

// The scalar(s) whose gradients we want, from one example's logits `out` [C] and one-hot label `onehot` [C].
std::vector<at::Tensor> output_functions(const at::Tensor &out, const at::Tensor &onehot, int32_t output, int64_t C) {
    switch (output) {
        case PROJNTK_OUTPUT_PNTK:
            return {out.sum()};
        case PROJNTK_OUTPUT_PNTK_SCALED:
            return {out.sum() / std::sqrt(static_cast<double>(C))};
        case PROJNTK_OUTPUT_PER_CLASS: {
            std::vector<at::Tensor> fs;
            for (int64_t c = 0; c < C; ++c) fs.push_back(out.select(0, c));
            return fs;
        }
        case PROJNTK_OUTPUT_MARGIN: {
            // log(p_y / (1 - p_y)) = logit_y - logsumexp over the other classes.
            at::Tensor logit_y = (out * onehot).sum();
            at::Tensor others = out.masked_fill(onehot > 0.5, -std::numeric_limits<double>::infinity()).logsumexp(0);
            return {logit_y - others};
        }
    }
    throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "unknown output " + std::to_string(output));
}

at::Tensor example_logits(projntk_model &m, const Inputs &x_single_batch) {
    at::Tensor out = forward_logits(m, x_single_batch);
    // autograd would only say "element 0 of tensors does not require grad" for integer outputs
    if (!at::isFloatingType(out.scalar_type()))
        throw Error(PROJNTK_ERR_INVALID_ARGUMENT, std::string("the model's output has dtype ") + c10::toString(out.scalar_type()) +
                                                      "; gradients need float logits");
    return out.select(0, 0);
}

// The gradient of one batched tensor at `level` with its batch dim first; a tensor not batched there is the same
// for every member of the batch (it does not depend on the batched input) and is expanded to `size` of them.
at::Tensor unbatch(const at::Tensor &g, int64_t level, int64_t size) {
    auto *b = ft::maybeGetBatchedImpl(g);
    if (b && b->level() == level) return b->value().movedim(b->bdim(), 0);
    std::vector<int64_t> sizes{size};
    sizes.insert(sizes.end(), g.sizes().begin(), g.sizes().end());
    return g.unsqueeze(0).expand(sizes);
}

// Per selected parameter, [n_outputs, B, numel]. For PER_CLASS with batch_classes the C class gradients come from one
// backward pass vmapped over the C one-hot cotangents, the way torch.func.jacrev does it: the Grad level is closed
// after the forward pass, a Vmap level over the basis vectors is opened, and autograd::grad runs with the batched
// cotangent. Otherwise one backward pass per output function, with retain_graph.
std::vector<at::Tensor> functional_grads(projntk_model &m, const Inputs &x, const at::Tensor &onehot, int32_t output,
                                         int64_t C, bool batch_classes) {
    const int64_t B = batch_size(x);
    const bool per_class = output == PROJNTK_OUTPUT_PER_CLASS;
    batch_classes = batch_classes && per_class;
    torch::AutoGradMode grad_on(true);
    LayerStack layers;
    ParamSwap swap(m);
    std::vector<at::Tensor> detached;
    for (size_t i = 0; i < swap.originals.size(); ++i) {
        detached.push_back(swap.originals[i].detach());
        swap.set(i, detached.back());
    }
    // rows[f][k]: output function f (all C classes at once when batch_classes), selected parameter k.
    std::vector<std::vector<at::Tensor>> rows;
    {
        const int64_t vlevel = layers.push(ft::initAndPushDynamicLayer(ft::TransformType::Vmap, B, ft::RandomnessType::Error));
        Inputs xv;
        for (const auto &t : x) xv.push_back(ft::addBatchDim(t, 0, vlevel));
        at::Tensor ov = onehot.defined() ? ft::addBatchDim(onehot, 0, vlevel) : at::Tensor();
        const int64_t glevel = layers.push(ft::initAndPushDynamicLayer(ft::TransformType::Grad, c10::nullopt, c10::nullopt,
                                                                       c10::GradMode::is_enabled()));
        bool grad_open = true;
        std::vector<at::Tensor> wrapped;
        for (int64_t i : m.selected) {
            at::Tensor w = ft::makeTensorWrapper(detached[i], glevel);
            w.requires_grad_(true);
            wrapped.push_back(w);
            swap.set(static_cast<size_t>(i), w);
        }
        {
            // Inside vmap each example has no batch dim: give it one of size 1 and take row 0 of the logits.
            Inputs one;
            for (const auto &t : xv) one.push_back(t.unsqueeze(0));
            at::Tensor out = example_logits(m, one);
            if (batch_classes) {
                layers.pop();  // grad: its wrappers stay differentiable, and the backward below runs under the class vmap
                grad_open = false;
                const int64_t clevel =
                    layers.push(ft::initAndPushDynamicLayer(ft::TransformType::Vmap, C, ft::RandomnessType::Error));
                at::Tensor basis = ft::addBatchDim(torch::eye(C, out.options()), 0, clevel);
                auto gs = torch::autograd::grad({out}, wrapped, {basis}, /*retain_graph=*/false,
                                                /*create_graph=*/false, /*allow_unused=*/true);
                std::vector<at::Tensor> unwrapped;
                for (auto &g : gs) {
                    if (g.defined()) {
                        // A wrapper of the closed grad level holds the plain value.
                        if (auto *w = ft::maybeGetTensorWrapper(g)) g = w->value();
                        g = unbatch(g, clevel, C);
                    }
                    unwrapped.push_back(g);
                }
                rows.push_back(std::move(unwrapped));
                layers.pop();  // class vmap
            } else {
                std::vector<at::Tensor> fs = output_functions(out, ov, output, C);
                for (size_t c = 0; c < fs.size(); ++c) {
                    auto gs = torch::autograd::grad({fs[c]}, wrapped, {}, /*retain_graph=*/c + 1 < fs.size(),
                                                    /*create_graph=*/true, /*allow_unused=*/true);
                    std::vector<at::Tensor> unwrapped;
                    for (auto &g : gs) {
                        if (g.defined()) {
                            auto *w = ft::maybeGetTensorWrapper(g);
                            if (w && w->level() == glevel) g = w->value();
                        }
                        unwrapped.push_back(g);
                    }
                    rows.push_back(std::move(unwrapped));
                }
            }
        }
        wrapped.clear();
        swap.restore();
        if (grad_open) layers.pop();  // grad
        for (auto &row : rows)
            for (auto &g : row)
                if (g.defined()) g = unbatch(g, vlevel, B);
        xv.clear();
        ov.reset();
        layers.pop();  // vmap
    }
    std::vector<at::Tensor> result;
    for (size_t k = 0; k < m.selected.size(); ++k) {
        const at::Tensor &p = detached[m.selected[k]];
        if (batch_classes) {
            at::Tensor g = rows[0][k];  // [B, C, *shape]
            result.push_back(g.defined() ? g.reshape({B, C, -1}).transpose(0, 1)
                                         : torch::zeros({C, B, p.numel()}, p.options()));
        } else {
            std::vector<at::Tensor> per_output;
            for (auto &row : rows)
                per_output.push_back(row[k].defined() ? row[k].reshape({B, -1}) : torch::zeros({B, p.numel()}, p.options()));
            result.push_back(torch::stack(per_output));
        }
    }
    return result;
}

// functional_grads under the process-wide functorch lock (see functorch_lock.hpp): the batched class backward pushes
// functorch layers too.
std::vector<at::Tensor> serialised_functional_grads(projntk_model &m, const Inputs &x, const at::Tensor &onehot,
                                                    int32_t output, int64_t C, bool batch_classes) {
    std::lock_guard<std::mutex> lock(functorch_mutex());
    return functional_grads(m, x, onehot, output, C, batch_classes);
}

// True for libtorch's report that vmap cannot run an op (no batching rule, data-dependent control flow, .item(),
// in-place ops on unbatched tensors...): a property of the model, so AUTO may use the per-example loop for good.
// Anything else (an internal assert, out of memory, a bad input) is not, and is reported as it is.
bool is_missing_batching_rule(const std::exception &e) {
    const std::string text = e.what();
    if (text.find("INTERNAL ASSERT") != std::string::npos) return false;
    return text.find("vmap:") != std::string::npos || text.find("Batching rule not implemented") != std::string::npos ||
           text.find("batching rule") != std::string::npos;
}

// Per selected parameter, [n_outputs, B, numel].
std::vector<at::Tensor> iterative_grads(projntk_model &m, const Inputs &x, const at::Tensor &onehot, int32_t output,
                                        int64_t C) {
    const int64_t B = batch_size(x);
    torch::AutoGradMode grad_on(true);
    ParamSwap swap(m);
    std::vector<at::Tensor> inputs;
    for (size_t i = 0; i < swap.originals.size(); ++i) swap.set(i, swap.originals[i].detach());
    for (int64_t i : m.selected) {
        at::Tensor p = swap.originals[i].detach().requires_grad_(true);
        inputs.push_back(p);
        swap.set(static_cast<size_t>(i), p);
    }
    const int64_t n_out = output == PROJNTK_OUTPUT_PER_CLASS ? C : 1;
    std::vector<at::Tensor> result;
    for (auto &p : inputs) result.push_back(torch::zeros({n_out, B, p.numel()}, p.options().requires_grad(false)));
    for (int64_t i = 0; i < B; ++i) {
        at::Tensor out = example_logits(m, narrow_rows(x, i, 1));
        std::vector<at::Tensor> fs = output_functions(out, onehot.defined() ? onehot[i] : at::Tensor(), output, C);
        for (size_t c = 0; c < fs.size(); ++c) {
            auto gs = torch::autograd::grad({fs[c]}, inputs, {}, /*retain_graph=*/c + 1 < fs.size(),
                                            /*create_graph=*/false, /*allow_unused=*/true);
            for (size_t k = 0; k < gs.size(); ++k)
                if (gs[k].defined()) result[k][c][i].copy_(gs[k].reshape({-1}));
        }
    }
    return result;
}

// libtorch's own errors (reaching here as c10::Error, or as PROJNTK_ERR_TORCH from the forward pass) are what a
// missing batching rule looks like; projntk's other errors (bad labels, non-finite values...) are not.
bool is_torch_error(const std::exception &e) {
    auto *own = dynamic_cast<const Error *>(&e);
    return !own || own->status == PROJNTK_ERR_TORCH;
}

// One pass over a contiguous block; cheaper than isfinite(t).all(), which allocates and dispatches per tensor.
// Tests the exponent bits as integers so the loop vectorises without -ffast-math.
bool all_finite(const float *v, int64_t n) {
    uint32_t bad = 0;
    for (int64_t i = 0; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, v + i, sizeof bits);
        bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
    }
    return bad == 0;
}

}  // namespace

int32_t compute_grads(projntk_model &m, const Inputs &x, const int64_t *labels, int32_t output, int32_t strategy,
                      int64_t max_block_bytes, bool check_finite, const GradBlockConsumer &consumer,
                      bool device_blocks) {
    require(static_cast<bool>(consumer), "consumer is null");
    require(output >= PROJNTK_OUTPUT_PNTK && output <= PROJNTK_OUTPUT_MARGIN, "unknown output " + std::to_string(output));
    require(strategy >= PROJNTK_GRAD_AUTO && strategy <= PROJNTK_GRAD_ITERATIVE,
            "unknown gradient strategy " + std::to_string(strategy));
    require(m.selected_numel > 0, "no parameters selected");
    const int64_t B = batch_size(x);
    const int64_t C = model_classes(m, x);
    at::Tensor onehot;
    if (output == PROJNTK_OUTPUT_MARGIN) {
        require(C >= 2, "MARGIN output needs at least 2 classes, model has " + std::to_string(C));
        at::Tensor y = labels_tensor(labels, B, C);
        onehot = copy_to(torch::one_hot(y, C).to(torch::kFloat32), m.device);
    }
    const int64_t n_out = output == PROJNTK_OUTPUT_PER_CLASS ? C : 1;
    const int64_t budget = max_block_bytes <= 0 ? (int64_t(256) << 20) : max_block_bytes;
    const int64_t row_bytes = m.selected_numel * int64_t(sizeof(float)) * n_out;
    const int64_t sub = std::min(B, std::max<int64_t>(1, budget / row_bytes));

    std::vector<at::Tensor> params = all_parameters(m);
    std::vector<int64_t> offsets;
    int64_t off = 0;
    for (int64_t i : m.selected) {
        offsets.push_back(off);
        off += params[i].numel();
    }
    params.clear();

    int32_t used = strategy != PROJNTK_GRAD_AUTO ? strategy
                   : m.functional_unsupported ? PROJNTK_GRAD_ITERATIVE
                                              : PROJNTK_GRAD_FUNCTIONAL;
    for (int64_t row = 0; row < B; row += sub) {
        const int64_t rows = std::min(sub, B - row);
        Inputs xs = narrow_rows(x, row, rows);
        at::Tensor os = onehot.defined() ? onehot.narrow(0, row, rows) : at::Tensor();
        // The functional path; per-class gradients one class at a time once the batched class backward has failed.
        // Each attempt runs under the functorch lock. A batched class backward that libtorch refuses is retried one
        // class at a time; only when that succeeds is the batched form given up for this model (a failure of both is
        // the model's or the input's, reported as the one-class-at-a-time path raised it).
        auto functional = [&] {
            if (output == PROJNTK_OUTPUT_PER_CLASS && !m.class_vmap_unsupported) {
                try {
                    return serialised_functional_grads(m, xs, os, output, C, true);
                } catch (const std::exception &e) {
                    if (!is_torch_error(e)) throw;
                }
                std::vector<at::Tensor> g = serialised_functional_grads(m, xs, os, output, C, false);
                m.class_vmap_unsupported = true;
                return g;
            }
            return serialised_functional_grads(m, xs, os, output, C, false);
        };
        std::vector<at::Tensor> g;
        if (used == PROJNTK_GRAD_ITERATIVE) {
            g = iterative_grads(m, xs, os, output, C);
        } else if (strategy == PROJNTK_GRAD_FUNCTIONAL) {
            g = functional();
        } else {
            try {
                g = functional();
            } catch (const std::exception &e) {
                // projntk's own errors (bad labels, non-finite values...) are not about batching rules; libtorch's may
                // be, and only vmap's own refusal makes the per-example loop this model's path for good.
                if (!is_torch_error(e) || !is_missing_batching_rule(e)) throw;
                // No print: a library keeps stderr to its host; out_strategy_used reports the path that ran.
                g = iterative_grads(m, xs, os, output, C);
                used = PROJNTK_GRAD_ITERATIVE;
                m.functional_unsupported = true;
            }
        }
        for (size_t k = 0; k < m.selected.size(); ++k) {
            at::Tensor t = std::move(g[k]);
            t = t.reshape({n_out, rows, -1}).to(torch::kFloat32).contiguous();
            if (!(device_blocks && t.is_cuda())) t = to_host(t);
            const int64_t cols = t.size(2);
            const std::string &name = m.names[m.selected[k]];
            const float *data = t.data_ptr<float>();
            // Device blocks are checked by their consumer (the projector's on-device check).
            if (check_finite && t.is_cpu() && !all_finite(data, t.numel()))
                for (int64_t c = 0; c < n_out; ++c)
                    if (!all_finite(data + c * rows * cols, rows * cols))
                        throw Error(PROJNTK_ERR_NONFINITE, "the gradient of parameter " + name + " (output " +
                                                               std::to_string(c) + ", rows " + std::to_string(row) +
                                                               ".." + std::to_string(row + rows - 1) +
                                                               ") contains NaN or Inf");
            int32_t rc = consumer(GradBlock{n_out, row, rows, offsets[k], cols, data});
            if (rc != 0)
                throw Error(PROJNTK_ERR_CALLBACK, "consumer returned " + std::to_string(rc) + " for parameter " + name +
                                                      " (rows from " + std::to_string(row) + ")");
        }
    }
    return used;
}

}  // namespace projntk

using namespace projntk;

extern "C" int projntk_grads_inputs(projntk_model *model, const projntk_tensor *inputs, int32_t n_inputs,
                                    const int64_t *labels, int32_t output, int32_t strategy, int64_t max_block_bytes,
                                    int32_t check_finite, projntk_grad_consumer consumer, void *ctx,
                                    int32_t *out_strategy_used) {
    return torch_guarded("projntk_grads", [&] {
        require(model != nullptr, "model is null");
        Inputs x = input_tensors(*model, inputs, n_inputs);
        require(consumer != nullptr, "consumer is null");
        // The public consumer takes one output at a time: each output's rows are a contiguous slice of the block.
        auto per_output = [&](const GradBlock &b) -> int32_t {
            for (int64_t c = 0; c < b.n_outputs; ++c)
                if (int32_t rc = consumer(ctx, c, b.row_offset, b.rows, b.param_offset, b.cols,
                                          b.data + c * b.rows * b.cols))
                    return rc;
            return 0;
        };
        int32_t used = compute_grads(*model, x, labels, output, strategy, max_block_bytes, check_finite != 0, per_output);
        if (out_strategy_used) *out_strategy_used = used;
    });
}

extern "C" int projntk_grads(projntk_model *model, const float *x, const int64_t *x_shape, int32_t x_ndim,
                             const int64_t *labels, int32_t output, int32_t strategy, int64_t max_block_bytes,
                             int32_t check_finite, projntk_grad_consumer consumer, void *ctx,
                             int32_t *out_strategy_used) {
    projntk_tensor in = float_input(x, x_shape, x_ndim);
    return projntk_grads_inputs(model, &in, 1, labels, output, strategy, max_block_bytes, check_finite, consumer, ctx,
                                out_strategy_used);
}
