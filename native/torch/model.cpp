// Models: loading, built-ins, saving, parameter selection, checksum and forward.
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/cuda.h>

#include "torch_internal.hpp"

namespace projntk {

torch::Device device_from_code(int32_t device) {
    if (device == PROJNTK_DEVICE_CPU) return torch::kCPU;
    if (device != PROJNTK_DEVICE_CUDA) throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "unknown device " + std::to_string(device));
#ifdef PROJNTK_WITH_CUDA
    if (!torch::cuda::is_available()) throw Error(PROJNTK_ERR_UNSUPPORTED, "device CUDA requested but no GPU is available");
    return torch::kCUDA;
#else
    throw Error(PROJNTK_ERR_UNSUPPORTED, "device CUDA requested but libprojntk was built without CUDA");
#endif
}

void copy_string(const std::string &s, char *buf, int64_t cap, const char *what) {
    require(buf != nullptr, std::string(what) + " is null");
    require(cap > static_cast<int64_t>(s.size()),
            std::string(what) + " too small: need " + std::to_string(s.size() + 1) + " bytes, got " + std::to_string(cap));
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
}

std::vector<at::Tensor> all_parameters(projntk_model &m) {
    std::vector<at::Tensor> out;
    for (const auto &p : m.module.named_parameters(true)) out.push_back(p.value);
    return out;
}

void refresh_parameter_names(projntk_model &m) {
    m.names.clear();
    for (const auto &p : m.module.named_parameters(true)) m.names.push_back(p.name);
    m.selected.clear();
    m.selected_numel = 0;
    auto params = all_parameters(m);
    for (size_t i = 0; i < params.size(); ++i) {
        m.selected.push_back(static_cast<int64_t>(i));
        m.selected_numel += params[i].numel();
    }
}

void set_parameter(projntk_model &m, size_t index, const at::Tensor &value) {
    const std::string &name = m.names.at(index);
    torch::jit::Module owner = m.module;
    size_t start = 0, dot;
    while ((dot = name.find('.', start)) != std::string::npos) {
        owner = owner.attr(name.substr(start, dot - start)).toModule();
        start = dot + 1;
    }
    owner.setattr(name.substr(start), value);
}

static std::string shape_string(const int64_t *dims, size_t n) {
    std::ostringstream s;
    s << "[";
    for (size_t i = 0; i < n; ++i) s << (i ? ", " : "") << dims[i];
    s << "]";
    return s.str();
}

at::Tensor input_tensor(projntk_model &m, const float *x, const int64_t *x_shape, int32_t x_ndim, const char *what) {
    require(x_shape != nullptr, std::string(what) + "_shape is null");
    require(x_ndim >= 1 && x_ndim <= 8, std::string(what) + "_ndim must be in 1..8, got " + std::to_string(x_ndim));
    std::vector<int64_t> shape(x_shape, x_shape + x_ndim);
    int64_t numel = 1;
    for (int64_t d : shape) {
        require(d >= 1, std::string(what) + " shape " + shape_string(shape.data(), shape.size()) + " has a dimension < 1");
        require(numel <= (int64_t(1) << 50) / d, std::string(what) + " is too large");
        numel *= d;
    }
    if (!m.input_shape.empty()) {
        bool ok = shape.size() == m.input_shape.size() + 1 &&
                  std::equal(m.input_shape.begin(), m.input_shape.end(), shape.begin() + 1);
        if (!ok) {
            std::vector<int64_t> expected{shape[0]};
            expected.insert(expected.end(), m.input_shape.begin(), m.input_shape.end());
            throw Error(PROJNTK_ERR_INVALID_ARGUMENT, std::string(what) + " has shape " +
                                                          shape_string(shape.data(), shape.size()) + " but model " +
                                                          m.arch + " expects " +
                                                          shape_string(expected.data(), expected.size()) + " (B first)");
        }
    }
    require(x != nullptr, std::string(what) + " is null");
    at::Tensor t = torch::from_blob(const_cast<float *>(x), shape, torch::kFloat32);
    at::Tensor bad = torch::logical_not(torch::isfinite(t));
    if (bad.any().item<bool>()) {
        int64_t first = bad.reshape({-1}).nonzero()[0][0].item<int64_t>();
        int64_t per = numel / shape[0];
        throw Error(PROJNTK_ERR_NONFINITE, std::string(what) + " contains NaN or Inf (first at flat index " +
                                               std::to_string(first) + ", example " + std::to_string(first / per) + ")");
    }
    return t.to(m.device, /*non_blocking=*/false, /*copy=*/true);
}

at::Tensor forward_logits(projntk_model &m, const at::Tensor &x) {
    c10::IValue v = m.module.forward({x});
    if (!v.isTensor()) throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "model forward must return a Tensor, got " + v.tagKind());
    at::Tensor out = v.toTensor();
    if (out.dim() != 2 || out.size(0) != x.size(0))
        throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "model forward must return [B, C] logits; for B=" +
                                                      std::to_string(x.size(0)) + " it returned shape " +
                                                      shape_string(out.sizes().data(), out.dim()));
    if (m.classes < 0) m.classes = out.size(1);
    return out;
}

int64_t model_classes(projntk_model &m, const at::Tensor &x) {
    if (m.classes < 0) {
        torch::NoGradGuard no_grad;
        forward_logits(m, x.narrow(0, 0, 1));
    }
    return m.classes;
}

at::Tensor labels_tensor(const int64_t *labels, int64_t B, int64_t classes) {
    require(labels != nullptr, "labels are required for this output (got null)");
    for (int64_t i = 0; i < B; ++i)
        if (labels[i] < 0 || labels[i] >= classes)
            throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "label " + std::to_string(labels[i]) + " of example " +
                                                          std::to_string(i) + " is out of range [0, " +
                                                          std::to_string(classes) + ")");
    return torch::from_blob(const_cast<int64_t *>(labels), {B}, torch::kLong).clone();
}

}  // namespace projntk

using namespace projntk;

namespace {

projntk_model &checked(projntk_model *m) {
    require(m != nullptr, "model is null");
    return *m;
}

void finish_model(projntk_model &m) {
    m.module.to(m.device);
    m.module.eval();
    for (auto p : all_parameters(m)) p.requires_grad_(true);
    refresh_parameter_names(m);
}

}  // namespace

extern "C" int projntk_model_load(const char *path, int32_t device, projntk_model **out_model) {
    return torch_guarded("projntk_model_load", [&] {
        require(path != nullptr, "path is null");
        require(out_model != nullptr, "out_model is null");
        *out_model = nullptr;
        auto m = std::make_unique<projntk_model>();
        m->device = device_from_code(device);
        struct stat st;
        if (stat(path, &st) != 0) throw Error(PROJNTK_ERR_IO, std::string("cannot read model file '") + path + "': " + std::strerror(errno));
        if (!S_ISREG(st.st_mode)) throw Error(PROJNTK_ERR_IO, std::string("model path '") + path + "' is not a regular file");
        {
            std::ifstream f(path, std::ios::binary);
            if (!f) throw Error(PROJNTK_ERR_IO, std::string("cannot open model file '") + path + "'");
        }
        try {
            m->module = torch::jit::load(path, torch::kCPU);
        } catch (const c10::Error &e) {
            throw Error(PROJNTK_ERR_TORCH, std::string("'") + path + "' is not a loadable TorchScript file: " +
                                               e.what_without_backtrace());
        } catch (const std::exception &e) {
            throw Error(PROJNTK_ERR_TORCH, std::string("'") + path + "' is not a loadable TorchScript file: " + e.what());
        }
        m->arch = std::string("file:") + path;
        if (m->module.hasattr("projntk_input_shape")) m->input_shape = m->module.attr("projntk_input_shape").toIntVector();
        if (m->module.hasattr("projntk_classes")) m->classes = m->module.attr("projntk_classes").toInt();
        finish_model(*m);
        *out_model = m.release();
    });
}

extern "C" int projntk_model_builtin(const char *name, int64_t seed, int32_t device, projntk_model **out_model) {
    return torch_guarded("projntk_model_builtin", [&] {
        require(name != nullptr, "name is null");
        require(out_model != nullptr, "out_model is null");
        *out_model = nullptr;
        auto m = std::make_unique<projntk_model>();
        m->device = device_from_code(device);
        require(make_builtin(name, seed, *m),
                std::string("unknown builtin model '") + name + "' (known: " + builtin_names() + ")");
        finish_model(*m);
        *out_model = m.release();
    });
}

extern "C" int projntk_model_save(projntk_model *model, const char *path) {
    return torch_guarded("projntk_model_save", [&] {
        projntk_model &m = checked(model);
        require(path != nullptr, "path is null");
        std::ofstream probe(path, std::ios::binary | std::ios::app);
        if (!probe) throw Error(PROJNTK_ERR_IO, std::string("cannot write '") + path + "': " + std::strerror(errno));
        probe.close();
        m.module.save(path);
    });
}

extern "C" int projntk_model_free(projntk_model *model) {
    return torch_guarded("projntk_model_free", [&] { delete model; });
}

extern "C" int projntk_model_param_count(projntk_model *model, int64_t *out_tensors, int64_t *out_total_numel) {
    return torch_guarded("projntk_model_param_count", [&] {
        projntk_model &m = checked(model);
        if (out_tensors) *out_tensors = static_cast<int64_t>(m.selected.size());
        if (out_total_numel) *out_total_numel = m.selected_numel;
    });
}

extern "C" int projntk_model_param_info(projntk_model *model, int64_t index, char *name_buf, int64_t cap,
                                        int64_t *out_numel) {
    return torch_guarded("projntk_model_param_info", [&] {
        projntk_model &m = checked(model);
        require(index >= 0 && index < static_cast<int64_t>(m.selected.size()),
                "parameter index " + std::to_string(index) + " out of range [0, " + std::to_string(m.selected.size()) + ")");
        size_t i = static_cast<size_t>(m.selected[index]);
        if (name_buf) copy_string(m.names[i], name_buf, cap, "name buffer");
        if (out_numel) *out_numel = all_parameters(m)[i].numel();
    });
}

extern "C" int projntk_model_select_params(projntk_model *model, const char *prefixes) {
    return torch_guarded("projntk_model_select_params", [&] {
        projntk_model &m = checked(model);
        auto params = all_parameters(m);
        std::vector<std::string> wanted;
        if (prefixes) {
            std::stringstream s(prefixes);
            std::string item;
            while (std::getline(s, item, ',')) {
                size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
                if (a != std::string::npos) wanted.push_back(item.substr(a, b - a + 1));
            }
        }
        std::vector<int64_t> selected;
        int64_t numel = 0;
        std::vector<bool> used(wanted.size(), false);
        for (size_t i = 0; i < m.names.size(); ++i) {
            bool take = wanted.empty();
            for (size_t w = 0; w < wanted.size(); ++w)
                if (m.names[i].compare(0, wanted[w].size(), wanted[w]) == 0) take = used[w] = true;
            if (take) {
                selected.push_back(static_cast<int64_t>(i));
                numel += params[i].numel();
            }
        }
        for (size_t w = 0; w < wanted.size(); ++w)
            require(used[w], "parameter prefix '" + wanted[w] + "' matches no parameter of " + m.arch);
        m.selected = std::move(selected);
        m.selected_numel = numel;
    });
}

extern "C" int projntk_model_get_params(projntk_model *model, float *out, int64_t cap) {
    return torch_guarded("projntk_model_get_params", [&] {
        projntk_model &m = checked(model);
        require(out != nullptr, "out is null");
        require(cap >= m.selected_numel, "out capacity " + std::to_string(cap) + " < selected parameter count " +
                                             std::to_string(m.selected_numel));
        auto params = all_parameters(m);
        int64_t off = 0;
        for (int64_t i : m.selected) {
            at::Tensor p = params[i].detach().to(torch::kCPU, torch::kFloat32).contiguous();
            std::memcpy(out + off, p.data_ptr<float>(), sizeof(float) * p.numel());
            off += p.numel();
        }
    });
}

extern "C" int projntk_model_set_params(projntk_model *model, const float *params_in, int64_t count) {
    return torch_guarded("projntk_model_set_params", [&] {
        projntk_model &m = checked(model);
        require(params_in != nullptr, "params is null");
        require(count == m.selected_numel, "params count " + std::to_string(count) +
                                               " != selected parameter count " + std::to_string(m.selected_numel));
        auto params = all_parameters(m);
        torch::NoGradGuard no_grad;
        int64_t off = 0;
        for (int64_t i : m.selected) {
            at::Tensor &p = params[i];
            at::Tensor src = torch::from_blob(const_cast<float *>(params_in + off), p.sizes(), torch::kFloat32);
            p.copy_(src);
            off += p.numel();
        }
    });
}

extern "C" int projntk_model_checksum(projntk_model *model, char *buf, int64_t cap) {
    return torch_guarded("projntk_model_checksum", [&] {
        projntk_model &m = checked(model);
        std::vector<at::Tensor> keep;
        for (const auto &p : m.module.named_parameters(true)) keep.push_back(p.value.detach().cpu().contiguous());
        for (const auto &b : m.module.named_buffers(true)) keep.push_back(b.value.detach().cpu().contiguous());
        std::vector<std::pair<const void *, size_t>> chunks;
        for (auto &t : keep) chunks.emplace_back(t.data_ptr(), t.numel() * t.element_size());
        copy_string(sha256_hex(chunks), buf, cap, "checksum buffer");
    });
}

extern "C" int projntk_model_forward(projntk_model *model, const float *x, const int64_t *x_shape, int32_t x_ndim,
                                     float *out_logits, int64_t cap, int64_t *out_classes) {
    return torch_guarded("projntk_model_forward", [&] {
        projntk_model &m = checked(model);
        require(out_logits != nullptr, "out_logits is null");
        at::Tensor xt = input_tensor(m, x, x_shape, x_ndim, "x");
        torch::NoGradGuard no_grad;
        at::Tensor out = forward_logits(m, xt).to(torch::kCPU, torch::kFloat32).contiguous();
        require(cap >= out.numel(), "out_logits capacity " + std::to_string(cap) + " < B*C = " + std::to_string(out.numel()));
        std::memcpy(out_logits, out.data_ptr<float>(), sizeof(float) * out.numel());
        if (out_classes) *out_classes = out.size(1);
    });
}
