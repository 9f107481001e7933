// Models: loading, built-ins, saving, parameter selection, checksum and forward.
#include <sys/stat.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "device_code.hpp"
#include "torch_internal.hpp"

namespace projntk {

torch::Device device_from_code(int32_t device) {
    const DeviceCode d = decode_device(device);
    if (d.kind == PROJNTK_DEVICE_CPU) return torch::kCPU;
#ifdef PROJNTK_WITH_CUDA
    if (!torch::cuda::is_available())
        throw Error(PROJNTK_ERR_UNSUPPORTED, "device " + d.name() + " requested but no GPU is available");
    const int64_t present = static_cast<int64_t>(torch::cuda::device_count());
    require(d.ordinal < present, "device " + d.name() + " requested but this machine has " + std::to_string(present) +
                                     " CUDA device(s) (ordinals 0.." + std::to_string(present - 1) + ")");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(d.ordinal));
#else
    throw Error(PROJNTK_ERR_UNSUPPORTED, "device " + d.name() + " requested but libprojntk was built without CUDA");
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

static std::string dtype_name(at::ScalarType t) {
    switch (t) {
        case at::kFloat: return "float32";
        case at::kDouble: return "float64";
        case at::kLong: return "int64";
        case at::kInt: return "int32";
        case at::kBool: return "bool";
        default: return c10::toString(t);
    }
}

static at::ScalarType scalar_type_of(int32_t dtype, const std::string &what) {
    switch (dtype) {
        case PROJNTK_DTYPE_FLOAT32: return at::kFloat;
        case PROJNTK_DTYPE_FLOAT64: return at::kDouble;
        case PROJNTK_DTYPE_INT64: return at::kLong;
        case PROJNTK_DTYPE_INT32: return at::kInt;
        case PROJNTK_DTYPE_BOOL: return at::kBool;
    }
    throw Error(PROJNTK_ERR_INVALID_ARGUMENT, what + " has unknown dtype code " + std::to_string(dtype));
}

static std::string describe_inputs(const Inputs &x) {
    std::string s;
    for (size_t i = 0; i < x.size(); ++i)
        s += (i ? ", " : "") + dtype_name(x[i].scalar_type()) + shape_string(x[i].sizes().data(), x[i].dim());
    return s;
}

std::pair<int32_t, int32_t> forward_arity(projntk_model &m) {
    const c10::FunctionSchema &schema = m.module.get_method("forward").function().getSchema();
    int32_t min = 0, max = 0;
    for (size_t i = 1; i < schema.arguments().size(); ++i) {  // argument 0 is self
        ++max;
        if (!schema.arguments()[i].default_value()) ++min;
    }
    return {min, max};
}

projntk_tensor float_input(const float *x, const int64_t *x_shape, int32_t x_ndim) {
    return projntk_tensor{x, x_shape, x_ndim, PROJNTK_DTYPE_FLOAT32};
}

int64_t batch_size(const Inputs &x) { return x.at(0).size(0); }

Inputs narrow_rows(const Inputs &x, int64_t start, int64_t rows) {
    Inputs out;
    for (const auto &t : x) out.push_back(t.narrow(0, start, rows));
    return out;
}

Inputs input_tensors(projntk_model &m, const projntk_tensor *inputs, int32_t n_inputs) {
    require(n_inputs >= 1, "at least one input is needed, got " + std::to_string(n_inputs));
    require(inputs != nullptr, "inputs is null");
    auto [min_in, max_in] = forward_arity(m);
    if (n_inputs < min_in || n_inputs > max_in)
        throw Error(PROJNTK_ERR_INVALID_ARGUMENT,
                    "model " + m.arch + " takes " +
                        (min_in == max_in ? std::to_string(min_in) : std::to_string(min_in) + " to " + std::to_string(max_in)) +
                        " input(s) in forward, got " + std::to_string(n_inputs));
    Inputs out;
    int64_t B = -1;
    for (int32_t k = 0; k < n_inputs; ++k) {
        const projntk_tensor &in = inputs[k];
        const std::string what = n_inputs == 1 ? std::string("x") : "input " + std::to_string(k);
        require(in.shape != nullptr, what + " shape is null");
        require(in.ndim >= 1 && in.ndim <= 8, what + " ndim must be in 1..8, got " + std::to_string(in.ndim));
        at::ScalarType type = scalar_type_of(in.dtype, what);
        std::vector<int64_t> shape(in.shape, in.shape + in.ndim);
        int64_t numel = 1;
        for (int64_t d : shape) {
            require(d >= 1, what + " shape " + shape_string(shape.data(), shape.size()) + " has a dimension < 1");
            require(numel <= (int64_t(1) << 50) / d, what + " is too large");
            numel *= d;
        }
        if (B < 0) B = shape[0];
        require(shape[0] == B, what + " has " + std::to_string(shape[0]) + " rows but input 0 has " + std::to_string(B) +
                                   " (every input is batched along dim 0)");
        if (k < static_cast<int32_t>(m.input_dtypes.size()) && m.input_dtypes[k] != type)
            throw Error(PROJNTK_ERR_INVALID_ARGUMENT, what + " is " + dtype_name(type) + " but model " + m.arch +
                                                          " expects " + dtype_name(m.input_dtypes[k]));
        if (n_inputs == 1 && !m.input_shape.empty()) {
            bool ok = shape.size() == m.input_shape.size() + 1 &&
                      std::equal(m.input_shape.begin(), m.input_shape.end(), shape.begin() + 1);
            if (!ok) {
                std::vector<int64_t> expected{shape[0]};
                expected.insert(expected.end(), m.input_shape.begin(), m.input_shape.end());
                throw Error(PROJNTK_ERR_INVALID_ARGUMENT, what + " has shape " + shape_string(shape.data(), shape.size()) +
                                                              " but model " + m.arch + " expects " +
                                                              shape_string(expected.data(), expected.size()) + " (B first)");
            }
        }
        require(in.data != nullptr, what + " is null");
        at::Tensor t = torch::from_blob(const_cast<void *>(in.data), shape, type);
        if (at::isFloatingType(type)) {
            at::Tensor bad = torch::logical_not(torch::isfinite(t));
            if (bad.any().item<bool>()) {
                int64_t first = bad.reshape({-1}).nonzero()[0][0].item<int64_t>();
                int64_t per = numel / shape[0];
                throw Error(PROJNTK_ERR_NONFINITE, what +
                                                       " contains NaN or Inf (first at flat index " + std::to_string(first) +
                                                       ", example " + std::to_string(first / per) + ")");
            }
        }
        out.push_back(copy_to(t, m.device));
    }
    return out;
}

// The logits inside forward's result, as the model's output choice says.
static at::Tensor pick_logits(projntk_model &m, const c10::IValue &v) {
    // A choice that does not fit the result's form would be silently ignored otherwise: the user meant another output.
    if (v.isTensor()) {
        require(!m.output_chosen, "forward returned a single Tensor, so there is no output to choose: drop " +
                                      (m.output_index > 0 ? "--output-index " + std::to_string(m.output_index)
                                                          : "--output-key " + m.output_key));
        return v.toTensor();
    }
    if (v.isTuple() || v.isList()) {
        require(!m.output_chosen || m.output_key == "logits",
                std::string("forward returned a ") + (v.isTuple() ? "tuple" : "list") + ", not a dict: choose its element " +
                    "with --output-index, not --output-key " + m.output_key);
        std::vector<c10::IValue> items;
        if (v.isTuple()) {
            for (const auto &e : v.toTupleRef().elements()) items.push_back(e);
        } else {
            for (const auto &e : v.toListRef()) items.push_back(e);
        }
        require(m.output_index < static_cast<int64_t>(items.size()),
                "output index " + std::to_string(m.output_index) + " is out of range: forward returned a " +
                    (v.isTuple() ? "tuple" : "list") + " of " + std::to_string(items.size()));
        const c10::IValue &e = items[m.output_index];
        if (!e.isTensor())
            throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "element " + std::to_string(m.output_index) +
                                                          " of forward's result is a " + e.tagKind() + ", not a Tensor");
        return e.toTensor();
    }
    if (v.isGenericDict()) {
        require(m.output_index == 0, "forward returned a dict, not a tuple or list: choose its value with --output-key, not "
                                     "--output-index " + std::to_string(m.output_index));
        auto dict = v.toGenericDict();
        std::string keys;
        for (const auto &kv : dict) {
            if (kv.key().isString() && kv.key().toStringRef() == m.output_key) {
                if (!kv.value().isTensor())
                    throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "forward's result['" + m.output_key + "'] is a " +
                                                                  kv.value().tagKind() + ", not a Tensor");
                return kv.value().toTensor();
            }
            keys += (keys.empty() ? "" : ", ") + (kv.key().isString() ? kv.key().toStringRef() : kv.key().tagKind());
        }
        throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "forward returned a dict without key '" + m.output_key +
                                                      "' (keys: " + keys + "); choose one with --output-key");
    }
    throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "model forward must return a Tensor, a tuple/list or a dict, got " + v.tagKind());
}

at::Tensor forward_logits(projntk_model &m, const Inputs &x) {
    std::vector<c10::IValue> args(x.begin(), x.end());
    c10::IValue v;
    try {
        v = m.module.forward(args);
    } catch (const Error &) {
        throw;
    } catch (const c10::Error &e) {
        throw Error(PROJNTK_ERR_TORCH, "forward of " + m.arch + " failed on inputs (" + describe_inputs(x) +
                                           "): " + e.what_without_backtrace());
    } catch (const std::exception &e) {
        throw Error(PROJNTK_ERR_TORCH, "forward of " + m.arch + " failed on inputs (" + describe_inputs(x) + "): " + e.what());
    }
    at::Tensor out = pick_logits(m, v);
    const int64_t B = batch_size(x);
    if (out.dim() != 2 || out.size(0) != B)
        throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "model forward must return [B, C] logits; for B=" + std::to_string(B) +
                                                      " it returned shape " + shape_string(out.sizes().data(), out.dim()));
    if (m.classes < 0) m.classes = out.size(1);
    return out;
}

int64_t model_classes(projntk_model &m, const Inputs &x) {
    if (m.classes < 0) {
        torch::NoGradGuard no_grad;
        forward_logits(m, narrow_rows(x, 0, 1));
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

// A model that calls an op this libtorch does not have (saved by a newer PyTorch) names the op and the way out;
// anything else is reported as an unloadable file, with libtorch's reason.
Error load_error(const char *path, const std::string &reason) {
    const std::string marker = "Unknown builtin op: ";
    const size_t at = reason.find(marker);
    if (at != std::string::npos) {
        const size_t start = at + marker.size();
        size_t end = start;
        while (end < reason.size() && (std::isalnum(static_cast<unsigned char>(reason[end])) || reason[end] == ':' ||
                                       reason[end] == '_' || reason[end] == '.'))
            ++end;
        while (end > start && reason[end - 1] == '.') --end;
        const std::string op = reason.substr(start, end - start);
        return Error(PROJNTK_ERR_UNSUPPORTED,
                     std::string("'") + path + "' needs the op " + op + ", which this libtorch (" + TORCH_VERSION +
                         ") lacks: the model was saved by a newer PyTorch; build projntk against that PyTorch "
                         "(LIBTORCH_USE_PYTORCH=1 make build) or export the model without " + op);
    }
    std::string first_line = reason.substr(0, reason.find('\n'));
    return Error(PROJNTK_ERR_TORCH, std::string("'") + path + "' is not a loadable TorchScript file: " + first_line);
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
        register_compat_ops();
        try {
            m->module = torch::jit::load(path, torch::kCPU);
        } catch (const c10::Error &e) {
            throw load_error(path, e.what_without_backtrace());
        } catch (const std::exception &e) {
            throw load_error(path, e.what());
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
    if (projntk::freeing_is_moot()) return PROJNTK_OK;
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

extern "C" int projntk_model_set_output(projntk_model *model, int64_t index, const char *key) {
    return torch_guarded("projntk_model_set_output", [&] {
        projntk_model &m = checked(model);
        require(index >= 0, "output index must be >= 0, got " + std::to_string(index));
        require(key == nullptr || key[0] != '\0', "output key is empty");
        m.output_index = index;
        m.output_key = key ? key : "logits";
        m.output_chosen = index > 0 || key != nullptr;
        m.classes = -1;  // another output may have another width
        if (m.module.hasattr("projntk_classes") && index == 0 && !key) m.classes = m.module.attr("projntk_classes").toInt();
    });
}

extern "C" int projntk_model_input_count(projntk_model *model, int32_t *out_min, int32_t *out_max) {
    return torch_guarded("projntk_model_input_count", [&] {
        auto [min, max] = forward_arity(checked(model));
        if (out_min) *out_min = min;
        if (out_max) *out_max = max;
    });
}

extern "C" int projntk_model_forward_inputs(projntk_model *model, const projntk_tensor *inputs, int32_t n_inputs,
                                            float *out_logits, int64_t cap, int64_t *out_classes) {
    return torch_guarded("projntk_model_forward", [&] {
        projntk_model &m = checked(model);
        require(out_logits != nullptr, "out_logits is null");
        Inputs x = input_tensors(m, inputs, n_inputs);
        torch::NoGradGuard no_grad;
        at::Tensor out = forward_logits(m, x).to(torch::kCPU, torch::kFloat32).contiguous();
        require(cap >= out.numel(), "out_logits capacity " + std::to_string(cap) + " < B*C = " + std::to_string(out.numel()));
        std::memcpy(out_logits, out.data_ptr<float>(), sizeof(float) * out.numel());
        if (out_classes) *out_classes = out.size(1);
    });
}

extern "C" int projntk_model_forward(projntk_model *model, const float *x, const int64_t *x_shape, int32_t x_ndim,
                                     float *out_logits, int64_t cap, int64_t *out_classes) {
    projntk_tensor in = float_input(x, x_shape, x_ndim);
    return projntk_model_forward_inputs(model, &in, 1, out_logits, cap, out_classes);
}
