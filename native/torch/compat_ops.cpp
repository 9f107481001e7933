// Ops that models saved by newer PyTorch call and an older libtorch lacks, registered under PyTorch's own names.
//
// PyTorch 2.x's nn.MultiheadAttention (and so every TransformerEncoder, BERT-style model and explicit
// F.scaled_dot_product_attention call) serialises a call to aten::scaled_dot_product_attention, which libtorch 1.13
// does not have, so such a model fails at load. Where the runtime lacks the op, this file defines it with PyTorch
// 2.5+'s schema and an implementation composed of ATen ops (PyTorch's math formulation), registered as
// CompositeImplicitAutograd, so autograd differentiates through its parts, and for FuncTorchBatched, so vmap
// decomposes it into ops that have batching rules (functorch registers its own decompositions the same way). Where
// the runtime has the op, nothing is registered and libtorch's kernels run.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include <cmath>
#include <limits>
#include <mutex>

#include "torch_internal.hpp"

namespace projntk {
namespace {

constexpr const char *kSdpaSchema =
    "scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, Tensor? attn_mask=None, "
    "float dropout_p=0.0, bool is_causal=False, *, float? scale=None, bool enable_gqa=False) -> Tensor";

// softmax(Q·Kᵀ·scale + mask)·V, with PyTorch's conventions: a bool mask keeps the positions that are True; a float
// mask is added; is_causal keeps j <= i; the scale (default 1/sqrt(E)) is applied as sqrt(scale) to both Q and K; a
// row with every position masked gives zeros (PyTorch's _safe_softmax) rather than NaN; with enable_gqa, K and V
// heads are repeated to match Q's.
at::Tensor scaled_dot_product_attention(const at::Tensor &query, const at::Tensor &key, const at::Tensor &value,
                                        const c10::optional<at::Tensor> &attn_mask, double dropout_p, bool is_causal,
                                        c10::optional<double> scale, bool enable_gqa) {
    TORCH_CHECK(query.dim() >= 2 && key.dim() >= 2 && value.dim() >= 2,
                "scaled_dot_product_attention: query, key and value need at least 2 dimensions");
    TORCH_CHECK(!(is_causal && attn_mask.has_value() && attn_mask->defined()),
                "scaled_dot_product_attention: an explicit attn_mask cannot be combined with is_causal=True");
    TORCH_CHECK(dropout_p >= 0.0 && dropout_p < 1.0, "scaled_dot_product_attention: dropout_p must be in [0, 1)");
    const int64_t L = query.size(-2);
    const int64_t S = key.size(-2);
    at::Tensor k = key;
    at::Tensor v = value;
    if (enable_gqa && query.dim() >= 3) {
        const int64_t hq = query.size(-3), hk = key.size(-3), hv = value.size(-3);
        TORCH_CHECK(hk > 0 && hv > 0 && hq % hk == 0 && hq % hv == 0,
                    "scaled_dot_product_attention: enable_gqa needs the query heads (", hq,
                    ") to be a multiple of the key heads (", hk, ") and value heads (", hv, ")");
        // repeat_interleave along the head dim, as unsqueeze-expand-flatten, which every vmap version batches.
        auto repeat_heads = [](const at::Tensor &t, int64_t times) {
            std::vector<int64_t> sizes = t.sizes().vec();
            sizes.insert(sizes.end() - 2, times);
            return t.unsqueeze(-3).expand(sizes).flatten(-4, -3);
        };
        if (hk != hq) k = repeat_heads(key, hq / hk);
        if (hv != hq) v = repeat_heads(value, hq / hv);
    }
    const double s = scale.has_value() ? *scale : 1.0 / std::sqrt(static_cast<double>(query.size(-1)));
    const double root = std::sqrt(s);
    at::Tensor scores = at::matmul(query * root, k.transpose(-2, -1) * root);

    at::Tensor additive;
    if (is_causal) {
        at::Tensor keep = at::ones({L, S}, query.options().dtype(at::kBool)).tril();
        additive = at::zeros({L, S}, query.options()).masked_fill(keep.logical_not(), -std::numeric_limits<double>::infinity());
    } else if (attn_mask.has_value() && attn_mask->defined()) {
        if (attn_mask->scalar_type() == at::kBool) {
            additive = at::where(*attn_mask, at::zeros({}, query.options()),
                                 at::full({}, -std::numeric_limits<double>::infinity(), query.options()));
        } else {
            additive = attn_mask->to(query.scalar_type());
        }
    }
    at::Tensor weights;
    if (additive.defined()) {
        scores = scores + additive;
        // A row whose every score is -inf would give NaN weights and NaN gradients; PyTorch gives it zero weights and
        // zero gradients. Such rows are made finite before the softmax and zeroed after it.
        at::Tensor dead = scores.amax(-1, /*keepdim=*/true) == -std::numeric_limits<double>::infinity();
        weights = at::softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0);
    } else {
        weights = at::softmax(scores, -1);
    }
    if (dropout_p > 0.0) weights = at::dropout(weights, dropout_p, /*train=*/true);
    return at::matmul(weights, v);
}

bool runtime_has(const char *name) {
    return c10::Dispatcher::singleton().findSchema(c10::OperatorName(name, "")).has_value();
}

std::string registered;  // comma-separated names of the ops registered here; written once, under the once_flag

}  // namespace

void register_compat_ops() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (runtime_has("aten::scaled_dot_product_attention")) return;
        // Never destroyed: the registrations must outlive every model, to the end of the process.
        auto *lib = new torch::Library(torch::Library::FRAGMENT, "aten", c10::nullopt, __FILE__, __LINE__);
        lib->def(kSdpaSchema);
        lib->impl("scaled_dot_product_attention", c10::DispatchKey::CompositeImplicitAutograd,
                  TORCH_FN(scaled_dot_product_attention));
        lib->impl("scaled_dot_product_attention", c10::DispatchKey::FuncTorchBatched,
                  TORCH_FN(scaled_dot_product_attention));
        registered = "aten::scaled_dot_product_attention";
    });
}

std::string compat_ops_registered() {
    register_compat_ops();
    return registered;
}

}  // namespace projntk
