// Standalone tests of the libtorch half of projntk.h (models, per-example gradients, training, fused projection).
// Exit status 0 means every check passed. `test_torch --bench [threads]` prints the timings quoted in docs/gradients.md,
// `test_torch --bench-classes [rounds]` those of the per-class path in docs/performance.md.
//
// References are independent of the library: a per-example loop written here over torch::jit::load of the saved
// model (float32), central finite differences on a float64 copy, and the public SHA-256 test vectors.
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "projntk.h"
#include "../torch/torch_internal.hpp"
#include "check.hpp"
#include "torch_models.hpp"

namespace projntk {
std::string compat_ops_registered();
std::string sha256_hex(const std::vector<std::pair<const void *, size_t>> &chunks);
}

#define EXPECT PROJNTK_CHECK

// A failing call must return `status` and leave a message containing `needle`.
#define CHECK_FAILS(call, status, needle)                                                                       \
    do {                                                                                                        \
        int rc_ = (call);                                                                                       \
        std::string msg_ = last_error();                                                                        \
        EXPECT(rc_ == (status), "%s returned %d, expected %d (%s)", #call, rc_, (int)(status), msg_.c_str());   \
        EXPECT(msg_.find(needle) != std::string::npos, "message of %s lacks '%s': %s", #call, needle, msg_.c_str()); \
    } while (0)

static double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

static std::string tmp_path(const std::string &name) {
    return "/tmp/projntk_test_torch_" + std::to_string(getpid()) + "_" + name;
}

struct Model {
    projntk_model *m = nullptr;
    Model() = default;
    Model(const char *name, int64_t seed = 1) {
        if (projntk_model_builtin(name, seed, PROJNTK_DEVICE_CPU, &m) != PROJNTK_OK)
            std::printf("builtin %s failed: %s\n", name, last_error().c_str());
    }
    ~Model() { projntk_model_free(m); }
    Model(const Model &) = delete;
    Model &operator=(const Model &) = delete;
    int64_t P() {
        int64_t t = 0, n = 0;
        projntk_model_param_count(m, &t, &n);
        return n;
    }
};

// Collects streamed gradients into a dense [n_out, B, P] array and checks the block bookkeeping.
struct Collector {
    int64_t n_out, B, P;
    std::vector<float> g;
    std::vector<int> seen;  // how often each (output,row,param) was delivered
    int64_t max_rows = 0;
    Collector(int64_t n_out_, int64_t B_, int64_t P_) : n_out(n_out_), B(B_), P(P_), g(n_out_ * B_ * P_), seen(g.size()) {}
    static int32_t consume(void *ctx, int64_t output, int64_t row, int64_t rows, int64_t poff, int64_t cols,
                           const float *block) {
        auto &c = *static_cast<Collector *>(ctx);
        if (output < 0 || output >= c.n_out || row < 0 || row + rows > c.B || poff < 0 || poff + cols > c.P) return 7;
        c.max_rows = std::max(c.max_rows, rows);
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < cols; ++j) {
                size_t at = (output * c.B + row + r) * c.P + poff + j;
                c.g[at] = block[r * cols + j];
                c.seen[at]++;
            }
        return 0;
    }
    bool complete() const {
        for (int s : seen)
            if (s != 1) return false;
        return true;
    }
};

static int64_t n_outputs(int output, int64_t C) { return output == PROJNTK_OUTPUT_PER_CLASS ? C : 1; }

static int run_grads(Model &m, const std::vector<float> &x, const std::vector<int64_t> &shape,
                     const std::vector<int64_t> &labels, int output, int strategy, int64_t budget, Collector &col,
                     int32_t *used) {
    return projntk_grads(m.m, x.data(), shape.data(), (int32_t)shape.size(), labels.empty() ? nullptr : labels.data(),
                         output, strategy, budget, 1, Collector::consume, &col, used);
}

// max |a-b| / max(|b|, floor) over the whole array.
static double rel_diff(const std::vector<float> &a, const std::vector<float> &b) {
    double num = 0, den = 1e-12;
    for (size_t i = 0; i < a.size(); ++i) {
        num = std::max(num, (double)std::fabs(a[i] - b[i]));
        den = std::max(den, (double)std::fabs(b[i]));
    }
    return num / den;
}

// ---------------------------------------------------------------- reference per-example loop (torch C++ API)

static at::Tensor output_scalar(const at::Tensor &logits_row, int output, int64_t c, int64_t label) {
    const int64_t C = logits_row.size(0);
    switch (output) {
        case PROJNTK_OUTPUT_PNTK: return logits_row.sum();
        case PROJNTK_OUTPUT_PNTK_SCALED: return logits_row.sum() / std::sqrt((double)C);
        case PROJNTK_OUTPUT_PER_CLASS: return logits_row[c];
        default: {
            // log(p_y / (1 - p_y)) computed directly from softmax probabilities (a different formula on purpose).
            at::Tensor p = torch::softmax(logits_row, 0);
            return torch::log(p[label]) - torch::log1p(-p[label]);
        }
    }
}

// Gradients [n_out, B, P] by a plain per-example loop over a TorchScript file, in the given dtype.
static std::vector<double> reference_grads(const std::string &pt, const std::vector<float> &x,
                                           const std::vector<int64_t> &shape, const std::vector<int64_t> &labels,
                                           int output, const std::vector<int64_t> &param_index, torch::Dtype dtype) {
    torch::jit::Module mod = torch::jit::load(pt);
    mod.eval();
    mod.to(dtype);
    std::vector<at::Tensor> params;
    for (const auto &p : mod.named_parameters(true)) params.push_back(p.value);
    std::vector<at::Tensor> sel;
    for (auto i : param_index) sel.push_back(params[i].requires_grad_(true));
    at::Tensor xt = torch::from_blob(const_cast<float *>(x.data()), shape, torch::kFloat32).to(dtype);
    const int64_t B = shape[0];
    at::Tensor probe = mod.forward({xt.narrow(0, 0, 1)}).toTensor();
    const int64_t C = probe.size(1), n_out = n_outputs(output, C);
    int64_t P = 0;
    for (auto &t : sel) P += t.numel();
    std::vector<double> out(n_out * B * P);
    for (int64_t i = 0; i < B; ++i) {
        at::Tensor row = mod.forward({xt.narrow(0, i, 1)}).toTensor()[0];
        for (int64_t c = 0; c < n_out; ++c) {
            at::Tensor f = output_scalar(row, output, c, labels.empty() ? 0 : labels[i]);
            auto gs = torch::autograd::grad({f}, sel, {}, /*retain_graph=*/true, false, /*allow_unused=*/true);
            int64_t off = 0;
            for (size_t k = 0; k < gs.size(); ++k) {
                at::Tensor g = gs[k].defined() ? gs[k].to(torch::kDouble).reshape(-1).contiguous()
                                               : torch::zeros({sel[k].numel()}, torch::kDouble);
                std::memcpy(&out[(c * B + i) * P + off], g.data_ptr<double>(), sizeof(double) * g.numel());
                off += g.numel();
            }
        }
    }
    return out;
}

// Central finite differences in float64 of the output function, for every coordinate of every parameter.
static std::vector<double> finite_difference_grads(const std::string &pt, const std::vector<float> &x,
                                                   const std::vector<int64_t> &shape,
                                                   const std::vector<int64_t> &labels, int output, int64_t C) {
    torch::NoGradGuard no_grad;
    torch::jit::Module mod = torch::jit::load(pt);
    mod.eval();
    mod.to(torch::kDouble);
    std::vector<at::Tensor> params;
    for (const auto &p : mod.named_parameters(true)) params.push_back(p.value);
    at::Tensor xt = torch::from_blob(const_cast<float *>(x.data()), shape, torch::kFloat32).to(torch::kDouble);
    const int64_t B = shape[0], n_out = n_outputs(output, C);
    int64_t P = 0;
    for (auto &t : params) P += t.numel();
    auto values = [&](int64_t i) {  // all n_out scalars for example i
        at::Tensor row = mod.forward({xt.narrow(0, i, 1)}).toTensor()[0];
        std::vector<double> v;
        for (int64_t c = 0; c < n_out; ++c)
            v.push_back(output_scalar(row, output, c, labels.empty() ? 0 : labels[i]).item<double>());
        return v;
    };
    const double eps = 1e-6;
    std::vector<double> out(n_out * B * P);
    int64_t off = 0;
    for (auto &p : params) {
        at::Tensor flat = p.view({-1});
        for (int64_t j = 0; j < flat.numel(); ++j) {
            double orig = flat[j].item<double>();
            for (int64_t i = 0; i < B; ++i) {
                flat[j] = orig + eps;
                auto up = values(i);
                flat[j] = orig - eps;
                auto down = values(i);
                flat[j] = orig;
                for (int64_t c = 0; c < n_out; ++c) out[(c * B + i) * P + off + j] = (up[c] - down[c]) / (2 * eps);
            }
        }
        off += flat.numel();
    }
    return out;
}

static double rel_diff_d(const std::vector<float> &a, const std::vector<double> &b) {
    double num = 0, den = 1e-12;
    for (size_t i = 0; i < a.size(); ++i) {
        num = std::max(num, std::fabs(a[i] - b[i]));
        den = std::max(den, std::fabs(b[i]));
    }
    return num / den;
}

// ------------------------------------------------------------------------------------------------ tests

// aten::scaled_dot_product_attention, whoever provides it (libtorch 2.x itself, or projntk's registration on 1.13),
// against a naive fp64 loop with PyTorch's conventions: bool masks keep True, float masks add, is_causal keeps j <= i,
// scale defaults to 1/sqrt(E), fully masked rows give zeros, enable_gqa repeats K/V heads.
static void test_attention_op() {
    const std::string registered = projntk::compat_ops_registered();
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 5
    EXPECT(registered.empty(), "libtorch %s has the op, yet projntk registered '%s'", TORCH_VERSION, registered.c_str());
#endif
    auto op = c10::Dispatcher::singleton()
                  .findSchemaOrThrow("aten::scaled_dot_product_attention", "")
                  .typed<at::Tensor(const at::Tensor &, const at::Tensor &, const at::Tensor &,
                                    const c10::optional<at::Tensor> &, double, bool, c10::optional<double>, bool)>();
    torch::manual_seed(3);
    const int64_t B = 2, H = 4, L = 3, S = 6, E = 5, D = 7;
    auto naive = [&](const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, const at::Tensor &mask, bool causal,
                     double scale, int64_t kv_heads) {
        at::Tensor qd = q.to(at::kDouble), kd = k.to(at::kDouble), vd = v.to(at::kDouble);
        auto qa = qd.accessor<double, 4>();
        auto ka = kd.accessor<double, 4>();
        auto va = vd.accessor<double, 4>();
        at::Tensor out = at::zeros({B, H, L, D}, at::kDouble);
        auto oa = out.accessor<double, 4>();
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t i = 0; i < L; ++i) {
                    const int64_t hk = h / (H / kv_heads);
                    std::vector<double> sc(S);
                    double top = -INFINITY;
                    for (int64_t j = 0; j < S; ++j) {
                        double dot = 0;
                        for (int64_t e = 0; e < E; ++e) dot += qa[b][h][i][e] * ka[b][hk][j][e];
                        sc[j] = dot * scale;
                        if (causal && j > i) sc[j] = -INFINITY;
                        if (mask.defined()) {
                            at::Tensor mb = mask.expand({B, H, L, S});
                            if (mask.scalar_type() == at::kBool) {
                                if (!mb[b][h][i][j].item<bool>()) sc[j] = -INFINITY;
                            } else {
                                sc[j] += mb[b][h][i][j].item<double>();
                            }
                        }
                        top = std::max(top, sc[j]);
                    }
                    if (top == -INFINITY) continue;
                    double z = 0;
                    for (int64_t j = 0; j < S; ++j) z += std::exp(sc[j] - top);
                    for (int64_t d = 0; d < D; ++d) {
                        double acc = 0;
                        for (int64_t j = 0; j < S; ++j) acc += std::exp(sc[j] - top) / z * va[b][hk][j][d];
                        oa[b][h][i][d] = acc;
                    }
                }
        return out;
    };
    auto close = [](const at::Tensor &got, const at::Tensor &want, const char *what) {
        double err = (got.to(at::kDouble) - want).abs().max().item<double>();
        EXPECT(!std::isnan(err) && err < 1e-5, "%s: max |error| %g", what, err);
    };
    at::Tensor q = torch::randn({B, H, L, E}), k = torch::randn({B, H, S, E}), v = torch::randn({B, H, S, D});
    const double dflt = 1.0 / std::sqrt(static_cast<double>(E));
    close(op.call(q, k, v, c10::nullopt, 0.0, false, c10::nullopt, false), naive(q, k, v, {}, false, dflt, H), "plain");
    at::Tensor keep = torch::rand({B, 1, L, S}) > 0.4;
    keep.index_put_({0, 0, 1}, false);  // one row masked everywhere
    close(op.call(q, k, v, keep, 0.0, false, c10::nullopt, false), naive(q, k, v, keep, false, dflt, H), "bool mask");
    at::Tensor bias = torch::randn({L, S});
    close(op.call(q, k, v, bias, 0.0, false, 0.3, false), naive(q, k, v, bias, false, 0.3, H), "float mask, scale");
    close(op.call(q, k, v, c10::nullopt, 0.0, true, c10::nullopt, false), naive(q, k, v, {}, true, dflt, H), "causal");
    at::Tensor k2 = torch::randn({B, 2, S, E}), v2 = torch::randn({B, 2, S, D});
    close(op.call(q, k2, v2, keep, 0.0, false, c10::nullopt, true), naive(q, k2, v2, keep, false, dflt, 2), "gqa");
}

static void test_runtime() {
    char buf[512];
    CHECK_OK(projntk_version(buf, sizeof buf));
    EXPECT(std::string(buf) == "0.1.0", "version %s", buf);
    CHECK_FAILS(projntk_version(buf, 3), PROJNTK_ERR_INVALID_ARGUMENT, "too small");
    CHECK_OK(projntk_runtime_info(buf, sizeof buf));
    std::string info = buf;
    EXPECT(info.front() == '{' && info.back() == '}' && info.find(std::string("\"libtorch\":\"") + TORCH_VERSION + "\"") != std::string::npos &&
              info.find("\"threads\":") != std::string::npos && info.find("\"simd\":") != std::string::npos,
          "runtime info %s", buf);
    int32_t cuda = -1;
    CHECK_OK(projntk_cuda_available(&cuda));
    EXPECT(cuda == 0 || cuda == 1, "cuda %d", cuda);
    CHECK_FAILS(projntk_set_num_threads(0), PROJNTK_ERR_INVALID_ARGUMENT, "threads");
    CHECK_FAILS(projntk_cuda_available(nullptr), PROJNTK_ERR_INVALID_ARGUMENT, "null");
}

static void test_sha256() {
    // FIPS 180-2 test vectors.
    EXPECT(projntk::sha256_hex({{"abc", 3}}) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc");
    EXPECT(projntk::sha256_hex({}) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty");
    std::string m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    EXPECT(projntk::sha256_hex({{m.data(), 20}, {m.data() + 20, m.size() - 20}}) ==
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
          "two-block message split in chunks");
    std::string a(1000000, 'a');
    EXPECT(projntk::sha256_hex({{a.data(), a.size()}}) ==
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
          "million a");
}

static void test_models() {
    struct Expect { const char *name; int64_t P; int64_t tensors; };
    // P of cnn-fmnist and resnet18-cifar as specified; the small ones by hand from their layer shapes.
    for (Expect e : {Expect{"tiny-mlp", 4 * 5 + 5 + 5 * 3 + 3, 4}, Expect{"tiny-cnn", 2 * 9 + 2 + 18 * 3 + 3, 4},
                     Expect{"mlp", 784 * 256 + 256 + 256 * 10 + 10, 4}, Expect{"linear-fmnist", 784 * 10 + 10, 2},
                     Expect{"cnn-fmnist", 20490, 6},
                     Expect{"cnn-cifar", 896 + 18496 + 73856 + 262272 + 1290, 10},
                     Expect{"resnet18-cifar", 11173962, 62}}) {
        Model m(e.name, 3);
        int64_t t = 0, n = 0;
        CHECK_OK(projntk_model_param_count(m.m, &t, &n));
        EXPECT(n == e.P && t == e.tensors, "%s: P=%lld tensors=%lld", e.name, (long long)n, (long long)t);
    }
    Model r("resnet18-cifar", 3);
    std::vector<std::string> names;
    char name[256];
    int64_t numel;
    int64_t t = 0;
    projntk_model_param_count(r.m, &t, nullptr);
    for (int64_t i = 0; i < t; ++i) {
        CHECK_OK(projntk_model_param_info(r.m, i, name, sizeof name, &numel));
        names.push_back(name);
    }
    EXPECT(names.front() == "conv1.weight" && names[1] == "bn1.weight" && names.back() == "linear.bias", "%s", names[1].c_str());
    EXPECT(std::find(names.begin(), names.end(), "layer1.0.conv1.weight") != names.end(), "layer1.0.conv1.weight");
    EXPECT(std::find(names.begin(), names.end(), "layer2.0.shortcut.0.weight") != names.end(), "shortcut conv");
    EXPECT(std::find(names.begin(), names.end(), "layer2.0.shortcut.1.bias") != names.end(), "shortcut bn");
    EXPECT(std::find(names.begin(), names.end(), "bn1.running_mean") == names.end(), "buffers are not parameters");
    CHECK_FAILS(projntk_model_param_info(r.m, t, name, sizeof name, &numel), PROJNTK_ERR_INVALID_ARGUMENT, "out of range");

    // Seeds: same seed, same weights; another seed, other weights.
    Model a("cnn-fmnist", 5), b("cnn-fmnist", 5), c("cnn-fmnist", 6);
    char ha[65], hb[65], hc[65];
    CHECK_OK(projntk_model_checksum(a.m, ha, sizeof ha));
    CHECK_OK(projntk_model_checksum(b.m, hb, sizeof hb));
    CHECK_OK(projntk_model_checksum(c.m, hc, sizeof hc));
    EXPECT(std::string(ha) == hb && std::string(ha) != hc && std::strlen(ha) == 64, "%s %s %s", ha, hb, hc);
    // PyTorch's default init bound for fc: 1/sqrt(1568).
    std::vector<float> p(a.P());
    CHECK_OK(projntk_model_get_params(a.m, p.data(), (int64_t)p.size()));
    float fc_max = 0;
    for (int64_t i = 160 + 4640; i < 160 + 4640 + 15680; ++i) fc_max = std::max(fc_max, std::fabs(p[i]));
    EXPECT(fc_max <= 1 / std::sqrt(1568.f) && fc_max > 0.9f / std::sqrt(1568.f), "fc init bound %g", fc_max);

    // set_params round trip and checksum change.
    std::vector<float> q(p);
    q[0] += 1;
    CHECK_OK(projntk_model_set_params(a.m, q.data(), (int64_t)q.size()));
    CHECK_OK(projntk_model_checksum(a.m, ha, sizeof ha));
    EXPECT(std::string(ha) != hb, "checksum did not change");
    CHECK_FAILS(projntk_model_set_params(a.m, q.data(), 5), PROJNTK_ERR_INVALID_ARGUMENT, "count");

    // Save, reload: same outputs, same checksum, same input validation.
    std::string path = tmp_path("cnn.pt");
    CHECK_OK(projntk_model_save(b.m, path.c_str()));
    projntk_model *l = nullptr;
    CHECK_OK(projntk_model_load(path.c_str(), PROJNTK_DEVICE_CPU, &l));
    char hl[65];
    CHECK_OK(projntk_model_checksum(l, hl, sizeof hl));
    EXPECT(std::string(hl) == hb, "reloaded checksum %s vs %s", hl, hb);
    std::vector<int64_t> shape{3, 1, 28, 28};
    auto x = random_input(shape, 11);
    std::vector<float> o1(30), o2(30);
    int64_t C1 = 0, C2 = 0;
    CHECK_OK(projntk_model_forward(b.m, x.data(), shape.data(), 4, o1.data(), 30, &C1));
    CHECK_OK(projntk_model_forward(l, x.data(), shape.data(), 4, o2.data(), 30, &C2));
    EXPECT(C1 == 10 && C2 == 10 && o1 == o2, "forward after reload differs");
    std::vector<int64_t> bad{3, 1, 28, 27};
    CHECK_FAILS(projntk_model_forward(l, x.data(), bad.data(), 4, o2.data(), 30, &C2), PROJNTK_ERR_INVALID_ARGUMENT,
                "expects [3, 1, 28, 28]");
    CHECK_FAILS(projntk_model_forward(l, x.data(), shape.data(), 4, o2.data(), 29, &C2), PROJNTK_ERR_INVALID_ARGUMENT,
                "capacity");
    projntk_model_free(l);
    std::remove(path.c_str());

    // ResNet-18 save/reload keeps BatchNorm buffers and outputs.
    std::string rpath = tmp_path("resnet.pt");
    CHECK_OK(projntk_model_save(r.m, rpath.c_str()));
    CHECK_OK(projntk_model_load(rpath.c_str(), PROJNTK_DEVICE_CPU, &l));
    std::vector<int64_t> rs{2, 3, 32, 32};
    auto rx = random_input(rs, 12);
    std::vector<float> r1(20), r2(20);
    CHECK_OK(projntk_model_forward(r.m, rx.data(), rs.data(), 4, r1.data(), 20, &C1));
    CHECK_OK(projntk_model_forward(l, rx.data(), rs.data(), 4, r2.data(), 20, &C2));
    EXPECT(r1 == r2, "resnet forward after reload differs");
    char h1[65], h2[65];
    projntk_model_checksum(r.m, h1, sizeof h1);
    projntk_model_checksum(l, h2, sizeof h2);
    EXPECT(std::string(h1) == h2, "resnet checksum after reload");
    projntk_model_free(l);
    std::remove(rpath.c_str());
}

static void test_bad_inputs() {
    projntk_model *l = nullptr;
    CHECK_FAILS(projntk_model_builtin("resnet50", 1, PROJNTK_DEVICE_CPU, &l), PROJNTK_ERR_INVALID_ARGUMENT, "resnet50");
    CHECK_FAILS(projntk_model_builtin(nullptr, 1, PROJNTK_DEVICE_CPU, &l), PROJNTK_ERR_INVALID_ARGUMENT, "null");
    int32_t cuda = 0;
    projntk_cuda_available(&cuda);
    if (!cuda) {
        CHECK_FAILS(projntk_model_builtin("mlp", 1, PROJNTK_DEVICE_CUDA, &l), PROJNTK_ERR_UNSUPPORTED, "CUDA");
        CHECK_FAILS(projntk_model_builtin("mlp", 1, PROJNTK_DEVICE_CUDA | (3 << PROJNTK_DEVICE_ORDINAL_SHIFT), &l),
                    PROJNTK_ERR_UNSUPPORTED, "cuda:3");
    } else {
        CHECK_FAILS(projntk_model_builtin("mlp", 1, PROJNTK_DEVICE_CUDA | (4096 << PROJNTK_DEVICE_ORDINAL_SHIFT), &l),
                    PROJNTK_ERR_INVALID_ARGUMENT, "cuda:4096");
    }
    CHECK_FAILS(projntk_model_builtin("mlp", 1, PROJNTK_DEVICE_CPU | (1 << PROJNTK_DEVICE_ORDINAL_SHIFT), &l),
                PROJNTK_ERR_INVALID_ARGUMENT, "ordinal 1");
    CHECK_FAILS(projntk_model_builtin("mlp", 1, 7, &l), PROJNTK_ERR_INVALID_ARGUMENT, "unknown device");
    CHECK_FAILS(projntk_model_load("/nonexistent/dir/model.pt", PROJNTK_DEVICE_CPU, &l), PROJNTK_ERR_IO,
                "/nonexistent/dir/model.pt");
    std::string garbage = tmp_path("garbage.pt");
    {
        std::ofstream f(garbage, std::ios::binary);
        for (int i = 0; i < 1000; ++i) f.put(static_cast<char>((i * 7919) & 0xff));
    }
    CHECK_FAILS(projntk_model_load(garbage.c_str(), PROJNTK_DEVICE_CPU, &l), PROJNTK_ERR_TORCH, "TorchScript");
    EXPECT(l == nullptr, "no model on failure");
    std::remove(garbage.c_str());

    Model m("tiny-cnn");
    std::vector<int64_t> shape{2, 1, 6, 6};
    auto x = random_input(shape, 3);
    Collector col(1, 2, m.P());
    std::vector<int64_t> wrong{2, 1, 6, 5};
    CHECK_FAILS(run_grads(m, x, wrong, {}, PROJNTK_OUTPUT_PNTK, 0, 0, col, nullptr), PROJNTK_ERR_INVALID_ARGUMENT,
                "expects [2, 1, 6, 6]");
    std::vector<int64_t> flat{2, 36};
    CHECK_FAILS(run_grads(m, x, flat, {}, PROJNTK_OUTPUT_PNTK, 0, 0, col, nullptr), PROJNTK_ERR_INVALID_ARGUMENT,
                "[2, 36]");
    auto nan = x;
    nan[40] = std::nanf("");
    CHECK_FAILS(run_grads(m, nan, shape, {}, PROJNTK_OUTPUT_PNTK, 0, 0, col, nullptr), PROJNTK_ERR_NONFINITE,
                "example 1");
    auto inf = x;
    inf[3] = INFINITY;
    std::vector<float> logits(6);
    CHECK_FAILS(projntk_model_forward(m.m, inf.data(), shape.data(), 4, logits.data(), 6, nullptr),
                PROJNTK_ERR_NONFINITE, "NaN or Inf");
    CHECK_FAILS(run_grads(m, x, shape, {0, 3}, PROJNTK_OUTPUT_MARGIN, 0, 0, col, nullptr),
                PROJNTK_ERR_INVALID_ARGUMENT, "label 3 of example 1 is out of range [0, 3)");
    CHECK_FAILS(run_grads(m, x, shape, {}, PROJNTK_OUTPUT_MARGIN, 0, 0, col, nullptr), PROJNTK_ERR_INVALID_ARGUMENT,
                "labels");
    CHECK_FAILS(run_grads(m, x, shape, {}, 9, 0, 0, col, nullptr), PROJNTK_ERR_INVALID_ARGUMENT, "unknown output");
    CHECK_FAILS(run_grads(m, x, shape, {}, 0, 5, 0, col, nullptr), PROJNTK_ERR_INVALID_ARGUMENT, "strategy");
    CHECK_FAILS(projntk_grads(m.m, x.data(), shape.data(), 4, nullptr, 0, 0, 0, 1, nullptr, nullptr, nullptr),
                PROJNTK_ERR_INVALID_ARGUMENT, "consumer");
    CHECK_FAILS(projntk_grads(nullptr, x.data(), shape.data(), 4, nullptr, 0, 0, 0, 1, Collector::consume, &col, nullptr),
                PROJNTK_ERR_INVALID_ARGUMENT, "model is null");
    CHECK_FAILS(projntk_grads(m.m, nullptr, shape.data(), 4, nullptr, 0, 0, 0, 1, Collector::consume, &col, nullptr),
                PROJNTK_ERR_INVALID_ARGUMENT, "x is null");
    auto refuse = [](void *, int64_t, int64_t, int64_t, int64_t, int64_t, const float *) -> int32_t { return 42; };
    CHECK_FAILS(projntk_grads(m.m, x.data(), shape.data(), 4, nullptr, 0, 1, 0, 1, refuse, nullptr, nullptr),
                PROJNTK_ERR_CALLBACK, "consumer returned 42");
    CHECK_FAILS(projntk_model_select_params(m.m, "conv1.,nope."), PROJNTK_ERR_INVALID_ARGUMENT, "'nope.'");

    // Non-finite gradients: a huge weight makes tanh' underflow nowhere, but an Inf weight makes NaN gradients.
    std::vector<float> p(m.P());
    projntk_model_get_params(m.m, p.data(), (int64_t)p.size());
    p.back() = INFINITY;  // fc.bias
    projntk_model_set_params(m.m, p.data(), (int64_t)p.size());
    CHECK_FAILS(run_grads(m, x, shape, {0, 1}, PROJNTK_OUTPUT_MARGIN, 2, 0, col, nullptr), PROJNTK_ERR_NONFINITE,
                "parameter");
    // The module is still usable after failures (parameters restored, no functorch layer left behind).
    p.back() = 0;
    projntk_model_set_params(m.m, p.data(), (int64_t)p.size());
    Collector ok(1, 2, m.P());
    CHECK_OK(run_grads(m, x, shape, {}, PROJNTK_OUTPUT_PNTK, 1, 0, ok, nullptr));
    EXPECT(ok.complete(), "complete after failures");
}

// functional == iterative == reference loop, for every output kind; sub-batching does not change results.
static void test_grads_agree(const char *arch, const std::vector<int64_t> &shape) {
    Model m(arch, 7);
    std::string pt = tmp_path(std::string(arch) + ".pt");
    CHECK_OK(projntk_model_save(m.m, pt.c_str()));
    const int64_t B = shape[0], P = m.P(), C = 3 + (std::string(arch) == "cnn-fmnist" ? 7 : 0);
    auto x = random_input(shape, 21);
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < B; ++i) labels.push_back((i * 5 + 1) % C);
    std::vector<int64_t> all;
    int64_t tensors = 0;
    projntk_model_param_count(m.m, &tensors, nullptr);
    for (int64_t i = 0; i < tensors; ++i) all.push_back(i);
    for (int output = 0; output <= 3; ++output) {
        const int64_t n_out = n_outputs(output, C);
        Collector f(n_out, B, P), it(n_out, B, P), small(n_out, B, P);
        int32_t used_f = -1, used_i = -1, used_a = -1;
        CHECK_OK(run_grads(m, x, shape, labels, output, PROJNTK_GRAD_FUNCTIONAL, 0, f, &used_f));
        CHECK_OK(run_grads(m, x, shape, labels, output, PROJNTK_GRAD_ITERATIVE, 0, it, &used_i));
        // A budget of ~2 rows: several sub-batches, through AUTO.
        CHECK_OK(run_grads(m, x, shape, labels, output, PROJNTK_GRAD_AUTO, 2 * P * 4 * n_out + 1, small, &used_a));
        EXPECT(used_f == PROJNTK_GRAD_FUNCTIONAL && used_i == PROJNTK_GRAD_ITERATIVE && used_a == PROJNTK_GRAD_FUNCTIONAL,
              "strategies %d %d %d", used_f, used_i, used_a);
        EXPECT(f.complete() && it.complete() && small.complete(), "%s output %d: incomplete delivery", arch, output);
        EXPECT(small.max_rows == 2, "%s: sub-batch rows %lld", arch, (long long)small.max_rows);
        auto ref = reference_grads(pt, x, shape, labels, output, all, torch::kFloat32);
        double d_fi = rel_diff(f.g, it.g), d_fr = rel_diff_d(f.g, ref), d_ir = rel_diff_d(it.g, ref),
               d_fs = rel_diff(small.g, f.g);
        EXPECT(d_fi < 1e-5 && d_fr < 1e-5 && d_ir < 1e-5 && d_fs < 1e-5,
              "%s output %d: functional/iterative %.2e functional/reference %.2e iterative/reference %.2e "
              "sub-batched %.2e",
              arch, output, d_fi, d_fr, d_ir, d_fs);
        if (output == PROJNTK_OUTPUT_PER_CLASS) {
            // Rows of the per-class gradients sum to the pNTK gradient.
            Collector pntk(1, B, P);
            CHECK_OK(run_grads(m, x, shape, labels, PROJNTK_OUTPUT_PNTK, PROJNTK_GRAD_FUNCTIONAL, 0, pntk, nullptr));
            std::vector<float> sum(B * P, 0.f);
            for (int64_t c = 0; c < C; ++c)
                for (int64_t j = 0; j < B * P; ++j) sum[j] += f.g[c * B * P + j];
            EXPECT(rel_diff(sum, pntk.g) < 1e-5, "%s: per-class sum vs pNTK %.2e", arch, rel_diff(sum, pntk.g));
        }
    }
    std::remove(pt.c_str());
}

// Gradients against central finite differences of a float64 copy.
static void test_finite_differences(const char *arch, const std::vector<int64_t> &shape) {
    Model m(arch, 9);
    std::string pt = tmp_path(std::string(arch) + "_fd.pt");
    CHECK_OK(projntk_model_save(m.m, pt.c_str()));
    const int64_t B = shape[0], P = m.P(), C = 3;
    auto x = random_input(shape, 31);
    std::vector<int64_t> labels{2, 0, 1};
    for (int output = 0; output <= 3; ++output) {
        for (int strategy : {PROJNTK_GRAD_FUNCTIONAL, PROJNTK_GRAD_ITERATIVE}) {
            Collector g(n_outputs(output, C), B, P);
            CHECK_OK(run_grads(m, x, shape, labels, output, strategy, 0, g, nullptr));
            auto fd = finite_difference_grads(pt, x, shape, labels, output, C);
            double d = rel_diff_d(g.g, fd);
            EXPECT(d < 1e-4, "%s output %d strategy %d vs finite differences: %.2e", arch, output, strategy, d);
        }
    }
    std::remove(pt.c_str());
}

static void test_param_subsets() {
    Model m("cnn-fmnist", 4);
    std::vector<int64_t> shape{4, 1, 28, 28};
    auto x = random_input(shape, 41);
    const int64_t P = m.P();
    Collector full(1, 4, P);
    CHECK_OK(run_grads(m, x, shape, {}, PROJNTK_OUTPUT_PNTK, 1, 0, full, nullptr));
    // conv2.weight [4608 after conv1's 160] and fc.bias [last 10]
    CHECK_OK(projntk_model_select_params(m.m, "conv2.weight, fc.bias"));
    int64_t t = 0, n = 0;
    projntk_model_param_count(m.m, &t, &n);
    EXPECT(t == 2 && n == 4608 + 10, "subset count %lld %lld", (long long)t, (long long)n);
    char name[64];
    int64_t numel = 0;
    CHECK_OK(projntk_model_param_info(m.m, 1, name, sizeof name, &numel));
    EXPECT(std::string(name) == "fc.bias" && numel == 10, "%s %lld", name, (long long)numel);
    std::vector<float> params(n);
    CHECK_OK(projntk_model_get_params(m.m, params.data(), n));
    for (int strategy : {1, 2}) {
        Collector sub(1, 4, n);
        CHECK_OK(run_grads(m, x, shape, {}, PROJNTK_OUTPUT_PNTK, strategy, 0, sub, nullptr));
        std::vector<float> expect;
        for (int64_t i = 0; i < 4; ++i) {
            expect.insert(expect.end(), full.g.begin() + i * P + 160, full.g.begin() + i * P + 160 + 4608);
            expect.insert(expect.end(), full.g.begin() + i * P + P - 10, full.g.begin() + i * P + P);
        }
        EXPECT(rel_diff(sub.g, expect) < 1e-5, "subset grads strategy %d: %.2e", strategy, rel_diff(sub.g, expect));
    }
    CHECK_OK(projntk_model_select_params(m.m, "fc."));
    projntk_model_param_count(m.m, &t, &n);
    EXPECT(t == 2 && n == 15690, "prefix fc. %lld", (long long)n);
    CHECK_OK(projntk_model_select_params(m.m, nullptr));
    projntk_model_param_count(m.m, &t, &n);
    EXPECT(t == 6 && n == P, "select all");
}

// A model whose forward has data-dependent control flow: vmap cannot run it, AUTO must fall back.
static void test_auto_fallback() {
    std::string pt = tmp_path("dyn.pt");
    save_dynamic_control_flow_model(pt);
    projntk_model *m = nullptr;
    CHECK_OK(projntk_model_load(pt.c_str(), PROJNTK_DEVICE_CPU, &m));
    std::vector<int64_t> shape{3, 4};
    auto x = random_input(shape, 51);
    Collector a(1, 3, 12), f(1, 3, 12);
    int32_t used = -1;
    CHECK_OK(projntk_grads(m, x.data(), shape.data(), 2, nullptr, 0, PROJNTK_GRAD_AUTO, 0, 1, Collector::consume, &a, &used));
    EXPECT(used == PROJNTK_GRAD_ITERATIVE, "AUTO used %d", used);
    // d(sum_c w_c . x)/dW[c, j] = x[j] for every c.
    double err = 0;
    for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 12; ++j) err = std::max(err, (double)std::fabs(a.g[i * 12 + j] - x[i * 4 + j % 4]));
    EXPECT(err < 1e-6, "fallback gradients err %.2e", err);
    CHECK_FAILS(projntk_grads(m, x.data(), shape.data(), 2, nullptr, 0, PROJNTK_GRAD_FUNCTIONAL, 0, 1,
                              Collector::consume, &f, nullptr),
                PROJNTK_ERR_TORCH, "projntk_grads");
    // Still fine after the failed functional attempt.
    CHECK_OK(projntk_grads(m, x.data(), shape.data(), 2, nullptr, 0, PROJNTK_GRAD_ITERATIVE, 0, 1, Collector::consume, &a, &used));
    projntk_model_free(m);
    std::remove(pt.c_str());
}

// ------------------------------------------------------------- several inputs (token ids + mask), tuple/dict outputs

// A text classifier with two inputs, written here in TorchScript: attention-weighted pooling of token embeddings
// (padded positions get a -1e9 score, so softmax gives them weight 0), then tanh and a linear head. `result` is the
// return expression: a Tensor, a tuple or a dict holding the logits.
static std::string save_text_module(const std::string &name, const std::string &result, uint64_t seed) {
    torch::manual_seed(seed);
    torch::jit::Module mod("__torch__.Text" + name);
    mod.register_attribute("training", c10::BoolType::get(), false);
    mod.register_parameter("emb", torch::randn({11, 6}) * 0.5, false);
    mod.register_parameter("score", torch::randn({6}), false);
    mod.register_parameter("w1", torch::randn({5, 6}) * 0.4, false);
    mod.register_parameter("b1", torch::randn({5}) * 0.1, false);
    mod.register_parameter("w2", torch::randn({3, 5}) * 0.4, false);
    mod.register_parameter("b2", torch::randn({3}) * 0.1, false);
    mod.define(
        "def forward(self, ids, mask):\n"
        "    e = torch.embedding(self.emb, ids)\n"
        "    s = torch.matmul(e, self.score) + (mask.to(e.dtype) - 1.0) * 1.0e9\n"
        "    a = torch.softmax(s, 1)\n"
        "    pooled = torch.sum(e * a.unsqueeze(2), 1)\n"
        "    h = torch.tanh(torch.linear(pooled, self.w1, self.b1))\n"
        "    logits = torch.linear(h, self.w2, self.b2)\n"
        "    return " + result + "\n");
    std::string pt = tmp_path("text_" + name + ".pt");
    mod.save(pt);
    return pt;
}

struct TextBatch {
    int64_t B, T;
    std::vector<int64_t> ids, mask, shape;
    std::vector<projntk_tensor> inputs() const {
        return {projntk_tensor{ids.data(), shape.data(), 2, PROJNTK_DTYPE_INT64},
                projntk_tensor{mask.data(), shape.data(), 2, PROJNTK_DTYPE_INT64}};
    }
};

// B examples of random lengths 1..T, padded with id 0 and mask 0.
static TextBatch text_batch(int64_t B, int64_t T, uint64_t seed) {
    std::mt19937_64 rng(seed);
    TextBatch b{B, T, std::vector<int64_t>(B * T, 0), std::vector<int64_t>(B * T, 0), {B, T}};
    for (int64_t i = 0; i < B; ++i) {
        int64_t len = 1 + (int64_t)(rng() % T);
        for (int64_t t = 0; t < len; ++t) {
            b.ids[i * T + t] = 1 + (int64_t)(rng() % 10);
            b.mask[i * T + t] = 1;
        }
    }
    return b;
}

static at::Tensor logits_of(const c10::IValue &v) {
    if (v.isTensor()) return v.toTensor();
    if (v.isTuple()) return v.toTupleRef().elements()[0].toTensor();
    return v.toGenericDict().at("logits").toTensor();
}

// [n_out, B, P] by a per-example loop: each example on its own, unpadded (its true length only), through
// torch::jit::load and autograd in float64.
static std::vector<double> text_reference(const std::string &pt, const TextBatch &b, int output) {
    torch::jit::Module mod = torch::jit::load(pt);
    mod.eval();
    mod.to(torch::kDouble);
    std::vector<at::Tensor> params;
    for (const auto &p : mod.named_parameters(true)) params.push_back(p.value.requires_grad_(true));
    int64_t P = 0;
    for (auto &t : params) P += t.numel();
    const int64_t C = 3, n_out = n_outputs(output, C);
    std::vector<double> out(n_out * b.B * P);
    for (int64_t i = 0; i < b.B; ++i) {
        int64_t len = 0;
        while (len < b.T && b.mask[i * b.T + len]) ++len;
        at::Tensor ids = torch::from_blob(const_cast<int64_t *>(&b.ids[i * b.T]), {1, len}, torch::kLong).clone();
        at::Tensor mask = torch::ones({1, len}, torch::kLong);
        at::Tensor row = logits_of(mod.forward({ids, mask}))[0];
        for (int64_t c = 0; c < n_out; ++c) {
            auto gs = torch::autograd::grad({output_scalar(row, output, c, 0)}, params, {}, true, false, true);
            int64_t off = 0;
            for (size_t k = 0; k < gs.size(); ++k) {
                at::Tensor g = gs[k].defined() ? gs[k].reshape(-1).contiguous() : torch::zeros({params[k].numel()}, torch::kDouble);
                std::memcpy(&out[(c * b.B + i) * P + off], g.data_ptr<double>(), sizeof(double) * g.numel());
                off += g.numel();
            }
        }
    }
    return out;
}

static void test_multi_input() {
    const std::vector<std::pair<std::string, std::string>> kinds = {
        {"tensor", "logits"}, {"tuple", "(logits, h)"}, {"dict", "{\"hidden\": h, \"logits\": logits}"}};
    TextBatch b = text_batch(5, 7, 71);
    auto inputs = b.inputs();
    for (const auto &[name, result] : kinds) {
        std::string pt = save_text_module(name, result, 7);
        projntk_model *m = nullptr;
        CHECK_OK(projntk_model_load(pt.c_str(), PROJNTK_DEVICE_CPU, &m));
        int32_t lo = -1, hi = -1;
        CHECK_OK(projntk_model_input_count(m, &lo, &hi));
        EXPECT(lo == 2 && hi == 2, "input count %d..%d", lo, hi);
        int64_t n = 0, P = 0;
        projntk_model_param_count(m, &n, &P);
        std::vector<float> logits(5 * 3);
        int64_t C = 0;
        CHECK_OK(projntk_model_forward_inputs(m, inputs.data(), 2, logits.data(), (int64_t)logits.size(), &C));
        EXPECT(C == 3, "%s: C = %lld", name.c_str(), (long long)C);
        for (int output : {PROJNTK_OUTPUT_PNTK, PROJNTK_OUTPUT_PER_CLASS}) {
            auto ref = text_reference(pt, b, output);
            for (int strategy : {PROJNTK_GRAD_FUNCTIONAL, PROJNTK_GRAD_ITERATIVE}) {
                Collector col(n_outputs(output, C), b.B, P);
                int32_t used = -1;
                CHECK_OK(projntk_grads_inputs(m, inputs.data(), 2, nullptr, output, strategy, 0, 1, Collector::consume,
                                              &col, &used));
                EXPECT(used == strategy, "%s used %d", name.c_str(), used);
                EXPECT(col.complete(), "%s: every block once", name.c_str());
                double err = rel_diff_d(col.g, ref);
                EXPECT(err < 1e-5, "%s output %d strategy %d: rel err %.2e vs per-example loop", name.c_str(), output,
                       strategy, err);
            }
        }
        projntk_model_free(m);
        std::remove(pt.c_str());
    }
}

// Padding an example with masked positions (and junk ids there) changes none of its gradients.
static void test_padding_invariance() {
    std::string pt = save_text_module("pad", "logits", 9);
    projntk_model *m = nullptr;
    CHECK_OK(projntk_model_load(pt.c_str(), PROJNTK_DEVICE_CPU, &m));
    int64_t n = 0, P = 0;
    projntk_model_param_count(m, &n, &P);
    TextBatch b = text_batch(4, 5, 33);
    TextBatch padded{4, 9, std::vector<int64_t>(4 * 9), std::vector<int64_t>(4 * 9, 0), {4, 9}};
    for (int64_t i = 0; i < 4; ++i)
        for (int64_t t = 0; t < 9; ++t) {
            padded.ids[i * 9 + t] = t < 5 && b.mask[i * 5 + t] ? b.ids[i * 5 + t] : 1 + (i + t) % 10;
            padded.mask[i * 9 + t] = t < 5 ? b.mask[i * 5 + t] : 0;
        }
    for (int strategy : {PROJNTK_GRAD_FUNCTIONAL, PROJNTK_GRAD_ITERATIVE}) {
        Collector short_(3, 4, P), long_(3, 4, P);
        auto a = b.inputs(), c = padded.inputs();
        CHECK_OK(projntk_grads_inputs(m, a.data(), 2, nullptr, PROJNTK_OUTPUT_PER_CLASS, strategy, 0, 1,
                                      Collector::consume, &short_, nullptr));
        CHECK_OK(projntk_grads_inputs(m, c.data(), 2, nullptr, PROJNTK_OUTPUT_PER_CLASS, strategy, 0, 1,
                                      Collector::consume, &long_, nullptr));
        double err = rel_diff(long_.g, short_.g);
        EXPECT(err < 1e-6, "strategy %d: padding changed gradients by %.2e", strategy, err);
    }
    projntk_model_free(m);
    std::remove(pt.c_str());
}

static void test_text_transformer() {
    projntk_model *m = nullptr;
    CHECK_OK(projntk_model_builtin("text-transformer:vocab=50,classes=3,length=12", 3, PROJNTK_DEVICE_CPU, &m));
    int64_t n = 0, P = 0;
    projntk_model_param_count(m, &n, &P);
    Model big("text-transformer");
    EXPECT(big.P() > 1000000 && big.P() < 5000000, "default text-transformer P = %lld", (long long)big.P());
    TextBatch b = text_batch(3, 8, 5);
    TextBatch padded{3, 12, std::vector<int64_t>(36, 7), std::vector<int64_t>(36, 0), {3, 12}};
    for (int64_t i = 0; i < 3; ++i)
        for (int64_t t = 0; t < 8; ++t) {
            padded.ids[i * 12 + t] = b.ids[i * 8 + t];
            padded.mask[i * 12 + t] = b.mask[i * 8 + t];
        }
    auto a = b.inputs(), c = padded.inputs();
    Collector f(1, 3, P), it(1, 3, P), pf(1, 3, P);
    int32_t used = -1;
    CHECK_OK(projntk_grads_inputs(m, a.data(), 2, nullptr, PROJNTK_OUTPUT_PNTK, PROJNTK_GRAD_AUTO, 0, 1,
                                  Collector::consume, &f, &used));
    std::printf("    text-transformer P=%lld (default %lld), AUTO ran %s\n", (long long)P, (long long)big.P(),
                used == PROJNTK_GRAD_FUNCTIONAL ? "functional" : "iterative");
    CHECK_OK(projntk_grads_inputs(m, a.data(), 2, nullptr, PROJNTK_OUTPUT_PNTK, PROJNTK_GRAD_ITERATIVE, 0, 1,
                                  Collector::consume, &it, nullptr));
    CHECK_OK(projntk_grads_inputs(m, c.data(), 2, nullptr, PROJNTK_OUTPUT_PNTK, PROJNTK_GRAD_AUTO, 0, 1,
                                  Collector::consume, &pf, nullptr));
    EXPECT(rel_diff(f.g, it.g) < 1e-5, "text-transformer auto vs iterative %.2e", rel_diff(f.g, it.g));
    EXPECT(rel_diff(pf.g, it.g) < 1e-5, "text-transformer padding changed gradients by %.2e", rel_diff(pf.g, it.g));
    // It trains: the loss on a fixed batch falls.
    projntk_trainer *tr = nullptr;
    CHECK_OK(projntk_trainer_new(m, PROJNTK_OPT_ADAM, 1e-3, 0, 0, &tr));
    std::vector<int64_t> y{0, 1, 2};
    double first = 0, loss = 0;
    for (int s = 0; s < 30; ++s) {
        CHECK_OK(projntk_trainer_step_inputs(tr, a.data(), 2, y.data(), &loss, nullptr));
        if (s == 0) first = loss;
    }
    EXPECT(loss < 0.5 * first, "text-transformer loss %.3f -> %.3f", first, loss);
    projntk_trainer_free(tr);
    projntk_model_free(m);
}

static void test_multi_input_errors() {
    std::string pt = save_text_module("err", "(logits, h)", 3);
    projntk_model *m = nullptr;
    CHECK_OK(projntk_model_load(pt.c_str(), PROJNTK_DEVICE_CPU, &m));
    TextBatch b = text_batch(3, 4, 1);
    auto in = b.inputs();
    Collector col(1, 3, 200);
    std::vector<float> logits(9);
    CHECK_FAILS(projntk_grads_inputs(m, in.data(), 1, nullptr, 0, 0, 0, 1, Collector::consume, &col, nullptr),
                PROJNTK_ERR_INVALID_ARGUMENT, "takes 2 input(s) in forward, got 1");
    CHECK_FAILS(projntk_model_forward_inputs(m, in.data(), 1, logits.data(), 9, nullptr), PROJNTK_ERR_INVALID_ARGUMENT,
                "takes 2 input(s)");
    std::vector<int64_t> short_shape{2, 4};
    auto rows = in;
    rows[1].shape = short_shape.data();
    CHECK_FAILS(projntk_model_forward_inputs(m, rows.data(), 2, logits.data(), 9, nullptr), PROJNTK_ERR_INVALID_ARGUMENT,
                "input 1 has 2 rows but input 0 has 3");
    auto bad_type = in;
    bad_type[0].dtype = 17;
    CHECK_FAILS(projntk_model_forward_inputs(m, bad_type.data(), 2, logits.data(), 9, nullptr),
                PROJNTK_ERR_INVALID_ARGUMENT, "unknown dtype code 17");
    // Float ids: the embedding refuses them, and the message names the inputs' dtypes.
    std::vector<float> fids(b.ids.begin(), b.ids.end());
    auto floats = in;
    floats[0] = projntk_tensor{fids.data(), b.shape.data(), 2, PROJNTK_DTYPE_FLOAT32};
    CHECK_FAILS(projntk_model_forward_inputs(m, floats.data(), 2, logits.data(), 9, nullptr), PROJNTK_ERR_TORCH,
                "float32[3, 4], int64[3, 4]");
    // Output choice: element 1 of the tuple is h [B, 5]; element 2 does not exist; a dict key that is missing.
    int64_t C = 0;
    CHECK_OK(projntk_model_set_output(m, 1, nullptr));
    std::vector<float> hidden(15);
    CHECK_OK(projntk_model_forward_inputs(m, in.data(), 2, hidden.data(), 15, &C));
    EXPECT(C == 5, "output 1 has width %lld", (long long)C);
    CHECK_OK(projntk_model_set_output(m, 2, nullptr));
    CHECK_FAILS(projntk_model_forward_inputs(m, in.data(), 2, hidden.data(), 15, &C), PROJNTK_ERR_INVALID_ARGUMENT,
                "tuple of 2");
    CHECK_FAILS(projntk_model_set_output(m, -1, nullptr), PROJNTK_ERR_INVALID_ARGUMENT, "index");
    CHECK_OK(projntk_model_set_output(m, 0, "scores"));
    CHECK_FAILS(projntk_model_forward_inputs(m, in.data(), 2, hidden.data(), 15, &C), PROJNTK_ERR_INVALID_ARGUMENT,
                "forward returned a tuple, not a dict: choose its element with --output-index, not --output-key scores");
    projntk_model_free(m);
    std::string dict = save_text_module("errdict", "{\"hidden\": h, \"scores\": logits}", 3);
    CHECK_OK(projntk_model_load(dict.c_str(), PROJNTK_DEVICE_CPU, &m));
    CHECK_FAILS(projntk_model_forward_inputs(m, in.data(), 2, logits.data(), 9, &C), PROJNTK_ERR_INVALID_ARGUMENT,
                "without key 'logits' (keys: hidden, scores)");
    CHECK_OK(projntk_model_set_output(m, 0, "scores"));
    CHECK_OK(projntk_model_forward_inputs(m, in.data(), 2, logits.data(), 9, &C));
    EXPECT(C == 3, "scores width %lld", (long long)C);
    CHECK_OK(projntk_model_set_output(m, 1, "scores"));
    CHECK_FAILS(projntk_model_forward_inputs(m, in.data(), 2, logits.data(), 9, &C), PROJNTK_ERR_INVALID_ARGUMENT,
                "forward returned a dict, not a tuple or list: choose its value with --output-key, not --output-index 1");
    projntk_model_free(m);
    // An int array where a float one is needed (a builtin knows its input dtypes).
    Model mlp("tiny-mlp");
    std::vector<int64_t> ints(8, 1), shape{2, 4};
    projntk_tensor t{ints.data(), shape.data(), 2, PROJNTK_DTYPE_INT64};
    CHECK_FAILS(projntk_model_forward_inputs(mlp.m, &t, 1, logits.data(), 9, nullptr), PROJNTK_ERR_INVALID_ARGUMENT,
                "x is int64 but model tiny-mlp expects float32");
    // A single-Tensor result: an index or key the user chose cannot apply, and is not ignored.
    std::vector<float> xs(8, 0.5f);
    projntk_tensor xf{xs.data(), shape.data(), 2, PROJNTK_DTYPE_FLOAT32};
    CHECK_OK(projntk_model_set_output(mlp.m, 3, nullptr));
    CHECK_FAILS(projntk_model_forward_inputs(mlp.m, &xf, 1, logits.data(), 9, nullptr), PROJNTK_ERR_INVALID_ARGUMENT,
                "forward returned a single Tensor, so there is no output to choose: drop --output-index 3");
    CHECK_OK(projntk_model_set_output(mlp.m, 0, "scores"));
    CHECK_FAILS(projntk_model_forward_inputs(mlp.m, &xf, 1, logits.data(), 9, nullptr), PROJNTK_ERR_INVALID_ARGUMENT,
                "drop --output-key scores");
    CHECK_OK(projntk_model_set_output(mlp.m, 0, nullptr));
    CHECK_OK(projntk_model_forward_inputs(mlp.m, &xf, 1, logits.data(), 9, nullptr));
    std::remove(pt.c_str());
    std::remove(dict.c_str());
}

static void test_project_grads() {
    Model m("tiny-mlp", 13);
    std::vector<int64_t> shape{5, 4};
    auto x = random_input(shape, 61);
    const int64_t B = 5, P = m.P(), K = 8, C = 3;
    std::vector<int64_t> labels{0, 1, 2, 0, 1};
    projntk_projector *pr = nullptr;
    if (projntk_projector_new(PROJNTK_PROJ_GAUSSIAN, P, K, 17, 1, 0, 0, PROJNTK_DEVICE_CPU, &pr) != PROJNTK_OK) {
        std::printf("SKIP project_grads: projector_new failed: %s\n", last_error().c_str());
        return;
    }
    for (int output : {PROJNTK_OUTPUT_PNTK, PROJNTK_OUTPUT_PER_CLASS, PROJNTK_OUTPUT_MARGIN}) {
        const int64_t n_out = n_outputs(output, C);
        Collector g(n_out, B, P);
        CHECK_OK(run_grads(m, x, shape, labels, output, 1, 0, g, nullptr));
        std::vector<float> out(n_out * B * K, 123.f);
        int64_t outs = 0;
        int32_t used = -1;
        int64_t h0 = -1, d0 = -1, h1 = -1, d1 = -1;
        CHECK_OK(projntk_copy_counts(&h0, &d0));
        CHECK_OK(projntk_project_grads(m.m, pr, x.data(), shape.data(), 2, labels.data(), output, 0, 2 * P * 4 * n_out,
                                       out.data(), (int64_t)out.size(), &outs, &used));
        CHECK_OK(projntk_copy_counts(&h1, &d1));
        EXPECT(h1 == h0 && d1 == d0, "the CPU path copied %lld h2d and %lld d2h bytes", (long long)(h1 - h0),
               (long long)(d1 - d0));
        EXPECT(outs == n_out && used == PROJNTK_GRAD_FUNCTIONAL, "outs %lld used %d", (long long)outs, used);
        std::vector<double> expect(n_out * B * K, 0.0);
        for (int64_t k = 0; k < K; ++k)
            for (int64_t p = 0; p < P; ++p) {
                float r = 0;
                projntk_projector_entry(pr, p, k, &r);
                for (int64_t row = 0; row < n_out * B; ++row) expect[row * K + k] += (double)g.g[row * P + p] * r;
            }
        EXPECT(rel_diff_d(out, expect) < 1e-5, "project_grads output %d: %.2e", output, rel_diff_d(out, expect));
        CHECK_FAILS(projntk_project_grads(m.m, pr, x.data(), shape.data(), 2, labels.data(), output, 0, 0, out.data(),
                                          n_out * B * K - 1, &outs, &used),
                    PROJNTK_ERR_INVALID_ARGUMENT, "capacity");
    }
    projntk_projector *wrong = nullptr;
    projntk_projector_new(PROJNTK_PROJ_GAUSSIAN, P + 1, K, 17, 1, 0, 0, PROJNTK_DEVICE_CPU, &wrong);
    std::vector<float> out(B * K);
    CHECK_FAILS(projntk_project_grads(m.m, wrong, x.data(), shape.data(), 2, nullptr, 0, 0, 0, out.data(), B * K,
                                      nullptr, nullptr),
                PROJNTK_ERR_INVALID_ARGUMENT, "selected parameters");
    projntk_projector_free(wrong);
    projntk_projector_free(pr);
}

// PER_CLASS gradients from one backward pass vmapped over the C one-hot cotangents, against one backward pass per
// class (the form kept for models whose backward lacks a batching rule).
static void test_class_vmap(const char *arch, const std::vector<int64_t> &shape) {
    Model m(arch, 5);
    const int64_t B = shape[0], P = m.P();
    auto x = random_input(shape, 71);
    int64_t C = 0;
    {
        std::vector<float> logits(B * 64);
        CHECK_OK(projntk_model_forward(m.m, x.data(), shape.data(), (int32_t)shape.size(), logits.data(),
                                       (int64_t)logits.size(), &C));
    }
    Collector batched(C, B, P), sequential(C, B, P);
    int32_t used = -1;
    CHECK_OK(run_grads(m, x, shape, {}, PROJNTK_OUTPUT_PER_CLASS, PROJNTK_GRAD_AUTO, 0, batched, &used));
    EXPECT(used == PROJNTK_GRAD_FUNCTIONAL && !m.m->class_vmap_unsupported,
           "%s: the batched class backward did not run (used %d)", arch, used);
    m.m->class_vmap_unsupported = true;
    CHECK_OK(run_grads(m, x, shape, {}, PROJNTK_OUTPUT_PER_CLASS, PROJNTK_GRAD_AUTO, 0, sequential, &used));
    EXPECT(batched.complete() && sequential.complete(), "%s: incomplete delivery", arch);
    const double d = rel_diff(batched.g, sequential.g);
    EXPECT(d < 1e-6, "%s: batched vs sequential class gradients %.2e", arch, d);
}

// The same on a two-input transformer (embedding, attention, layer norm): batched, one class at a time, iterative.
static void test_class_vmap_text() {
    projntk_model *m = nullptr;
    CHECK_OK(projntk_model_builtin("text-transformer:vocab=50,classes=3,length=12", 3, PROJNTK_DEVICE_CPU, &m));
    if (!m) return;
    int64_t n = 0, P = 0;
    projntk_model_param_count(m, &n, &P);
    TextBatch b = text_batch(3, 8, 5);
    auto a = b.inputs();
    Collector batched(3, 3, P), sequential(3, 3, P), iterative(3, 3, P);
    int32_t used = -1;
    CHECK_OK(projntk_grads_inputs(m, a.data(), 2, nullptr, PROJNTK_OUTPUT_PER_CLASS, PROJNTK_GRAD_FUNCTIONAL, 0, 1,
                                  Collector::consume, &batched, &used));
    EXPECT(!m->class_vmap_unsupported, "text-transformer: the batched class backward fell back");
    m->class_vmap_unsupported = true;
    CHECK_OK(projntk_grads_inputs(m, a.data(), 2, nullptr, PROJNTK_OUTPUT_PER_CLASS, PROJNTK_GRAD_FUNCTIONAL, 0, 1,
                                  Collector::consume, &sequential, &used));
    CHECK_OK(projntk_grads_inputs(m, a.data(), 2, nullptr, PROJNTK_OUTPUT_PER_CLASS, PROJNTK_GRAD_ITERATIVE, 0, 1,
                                  Collector::consume, &iterative, &used));
    const double d = rel_diff(batched.g, sequential.g), di = rel_diff(batched.g, iterative.g);
    EXPECT(d < 1e-6 && di < 1e-5, "text-transformer class gradients: batched vs sequential %.2e, vs iterative %.2e", d,
           di);
    projntk_model_free(m);
}

// The fused per-class projection hands the projector one [C·rows x cols] block per parameter tensor. Its bits must be
// those of one projector call per (class, parameter tensor) in parameter order, the way features were projected
// before, so stores written then stay valid: compared bit for bit, whole batch and sub-batched.
static void test_project_grads_class_block() {
    Model m("cnn-fmnist", 3);
    std::vector<int64_t> shape{6, 1, 28, 28};
    const int64_t B = 6, P = m.P(), C = 10;
    auto x = random_input(shape, 81);
    int64_t tensors = 0;
    projntk_model_param_count(m.m, &tensors, nullptr);
    std::vector<int64_t> numel(tensors);
    for (int64_t i = 0; i < tensors; ++i) {
        char name[128];
        CHECK_OK(projntk_model_param_info(m.m, i, name, sizeof name, &numel[i]));
    }
    for (int kind : {PROJNTK_PROJ_GAUSSIAN, PROJNTK_PROJ_RADEMACHER, PROJNTK_PROJ_SJLT}) {
        const int64_t K = 200;  // not a multiple of any panel width
        projntk_projector *pr = nullptr;
        CHECK_OK(projntk_projector_new(kind, P, K, 23, 4, 4, 0, PROJNTK_DEVICE_CPU, &pr));
        if (!pr) return;
        for (int64_t budget : {int64_t(0), 4 * P * 4 * C + 1}) {  // whole batch; sub-batches of 4 and 2 rows
            // The same sub-batches on both sides: a sub-batch's gradients may round differently from the whole batch's.
            Collector g(C, B, P);
            CHECK_OK(run_grads(m, x, shape, {}, PROJNTK_OUTPUT_PER_CLASS, PROJNTK_GRAD_AUTO, budget, g, nullptr));
            const int64_t sub = budget == 0 ? B : 4;
            std::vector<float> old(C * B * K, 0.f);
            std::vector<float> rows(B * P);
            for (int64_t r0 = 0; r0 < B; r0 += sub) {
                const int64_t n = std::min(sub, B - r0);
                for (int64_t c = 0; c < C; ++c) {
                    int64_t off = 0;
                    for (int64_t k = 0; k < tensors; ++k) {
                        for (int64_t r = 0; r < n; ++r)
                            std::memcpy(&rows[r * numel[k]], &g.g[(c * B + r0 + r) * P + off], sizeof(float) * numel[k]);
                        CHECK_OK(projntk_projector_accumulate(pr, rows.data(), n, numel[k], off, &old[(c * B + r0) * K]));
                        off += numel[k];
                    }
                }
            }
            std::vector<float> fused(C * B * K, -1.f);
            int64_t outs = 0;
            CHECK_OK(projntk_project_grads(m.m, pr, x.data(), shape.data(), 4, nullptr, PROJNTK_OUTPUT_PER_CLASS,
                                           PROJNTK_GRAD_AUTO, budget, fused.data(), (int64_t)fused.size(), &outs,
                                           nullptr));
            size_t differ = 0;
            for (size_t i = 0; i < old.size(); ++i) differ += std::memcmp(&old[i], &fused[i], 4) != 0;
            EXPECT(outs == C && differ == 0, "kind %d budget %lld: %zu of %zu projected values differ in their bits",
                   kind, (long long)budget, differ, old.size());
        }
        projntk_projector_free(pr);
    }
}

// The fused path on a GPU: the gradients stay on the device, so only the inputs, the labels and the result (plus
// the NaN/Inf check's flags) cross. Prints a "transfer:" line per model for scripts/device-check.sh; the goal is at most
// 1% of B·P·4 bytes per batch, met for ResNet-18 (large P).
static void test_project_grads_on_gpu() {
    int32_t cuda = 0;
    projntk_cuda_available(&cuda);
    if (!cuda) {
        std::printf("  skip: no CUDA device\n");
        return;
    }
    struct Case {
        const char *arch;
        std::vector<int64_t> shape;
        int64_t K;
        bool compare_cpu, goal;
    } cases[] = {{"cnn-fmnist", {16, 1, 28, 28}, 512, true, false}, {"resnet18-cifar", {32, 3, 32, 32}, 2048, false, true}};
    for (const Case &c : cases) {
        projntk_model *gm = nullptr, *cm = nullptr;
        CHECK_OK(projntk_model_builtin(c.arch, 3, PROJNTK_DEVICE_CUDA, &gm));
        CHECK_OK(projntk_model_builtin(c.arch, 3, PROJNTK_DEVICE_CPU, &cm));
        int64_t tensors = 0, P = 0;
        projntk_model_param_count(gm, &tensors, &P);
        const int64_t B = c.shape[0], K = c.K;
        auto x = random_input(c.shape, 77);
        std::vector<int64_t> labels(B);
        for (int64_t i = 0; i < B; ++i) labels[i] = i % 10;
        projntk_projector *gp = nullptr, *cp = nullptr;
        CHECK_OK(projntk_projector_new(PROJNTK_PROJ_RADEMACHER, P, K, 5, 1, 0, PROJNTK_PROJ_FP32_STRICT,
                                       PROJNTK_DEVICE_CUDA, &gp));
        CHECK_OK(projntk_projector_new(PROJNTK_PROJ_RADEMACHER, P, K, 5, 1, 0, 0, PROJNTK_DEVICE_CPU, &cp));
        int64_t C = 0;
        std::vector<float> logits(B * 1000);
        CHECK_OK(projntk_model_forward(cm, x.data(), c.shape.data(), (int32_t)c.shape.size(), logits.data(),
                                       (int64_t)logits.size(), &C));
        std::vector<float> gpu_out(C * B * K), cpu_out(C * B * K);
        int64_t h0, d0, h1, d1, outs = 0;
        CHECK_OK(projntk_copy_counts(&h0, &d0));
        auto t = std::chrono::steady_clock::now();
        CHECK_OK(projntk_project_grads(gm, gp, x.data(), c.shape.data(), (int32_t)c.shape.size(), labels.data(),
                                       PROJNTK_OUTPUT_PER_CLASS, PROJNTK_GRAD_AUTO, 0, gpu_out.data(),
                                       (int64_t)gpu_out.size(), &outs, nullptr));
        const double seconds = seconds_since(t);
        CHECK_OK(projntk_copy_counts(&h1, &d1));
        const int64_t h2d = h1 - h0, d2h = d1 - d0;
        const double ratio = double(h2d + d2h) / (double(B) * double(P) * 4.0);
        std::printf("transfer: model=%s B=%lld P=%lld K=%lld outputs=%lld h2d=%lld d2h=%lld ratio=%.6f seconds=%.3f\n",
                    c.arch, (long long)B, (long long)P, (long long)K, (long long)outs, (long long)h2d, (long long)d2h,
                    ratio, seconds);
        EXPECT(d2h >= outs * B * K * 4, "%s: the result alone is %lld bytes, counted %lld", c.arch,
               (long long)(outs * B * K * 4), (long long)d2h);
        EXPECT(h2d >= (int64_t)x.size() * 4, "%s: the input alone is %lld bytes, counted %lld", c.arch,
               (long long)(x.size() * 4), (long long)h2d);
        if (c.goal) EXPECT(ratio <= 0.01, "%s: %.4f%% of B·P·4 copied per batch (goal 1%%)", c.arch, 100 * ratio);
        if (c.compare_cpu) {
            CHECK_OK(projntk_project_grads(cm, cp, x.data(), c.shape.data(), (int32_t)c.shape.size(), labels.data(),
                                           PROJNTK_OUTPUT_PER_CLASS, PROJNTK_GRAD_AUTO, 0, cpu_out.data(),
                                           (int64_t)cpu_out.size(), &outs, nullptr));
            EXPECT(rel_diff(gpu_out, cpu_out) < 1e-4, "%s: GPU vs CPU projected gradients %.2e", c.arch,
                   rel_diff(gpu_out, cpu_out));
            // Sub-batches of 4 rows: each class's rows are gathered and put back on the device around the one
            // projector call per parameter tensor.
            std::vector<float> sub_out(C * B * K, -1.f);
            const int64_t budget = 4 * P * 4 * C + 1;
            CHECK_OK(projntk_project_grads(gm, gp, x.data(), c.shape.data(), (int32_t)c.shape.size(), labels.data(),
                                           PROJNTK_OUTPUT_PER_CLASS, PROJNTK_GRAD_AUTO, budget, sub_out.data(),
                                           (int64_t)sub_out.size(), &outs, nullptr));
            EXPECT(rel_diff(sub_out, gpu_out) < 1e-5, "%s: GPU sub-batched vs whole-batch projected gradients %.2e",
                   c.arch, rel_diff(sub_out, gpu_out));
        }
        projntk_projector_free(gp);
        projntk_projector_free(cp);
        projntk_model_free(gm);
        projntk_model_free(cm);
    }
}

static void test_training() {
    for (int opt : {PROJNTK_OPT_SGD, PROJNTK_OPT_ADAM}) {
        Model m("tiny-mlp", 21);
        std::vector<int64_t> shape{16, 4};
        auto x = random_input(shape, 71);
        std::vector<int64_t> y;
        for (int i = 0; i < 16; ++i) y.push_back(x[i * 4] > 0 ? 1 : (x[i * 4 + 1] > 0 ? 2 : 0));
        projntk_trainer *t = nullptr;
        CHECK_OK(projntk_trainer_new(m.m, opt, opt == PROJNTK_OPT_SGD ? 0.2 : 0.05, 0.9, 1e-4, &t));
        double first = 0, loss = 0;
        int64_t correct = -1;
        for (int step = 0; step < 60; ++step) {
            CHECK_OK(projntk_trainer_step(t, x.data(), shape.data(), 2, y.data(), &loss, &correct));
            if (step == 0) first = loss;
        }
        EXPECT(loss < 0.5 * first && correct >= 12, "optimizer %d: loss %.3f -> %.3f, correct %lld", opt, first, loss,
              (long long)correct);
        std::vector<int64_t> bad(y);
        bad[3] = 5;
        CHECK_FAILS(projntk_trainer_step(t, x.data(), shape.data(), 2, bad.data(), &loss, &correct),
                    PROJNTK_ERR_INVALID_ARGUMENT, "label 5");
        projntk_trainer_free(t);
    }
    projntk_trainer *t = nullptr;
    Model m("tiny-mlp");
    CHECK_FAILS(projntk_trainer_new(m.m, 7, 0.1, 0, 0, &t), PROJNTK_ERR_INVALID_ARGUMENT, "optimizer");
    CHECK_FAILS(projntk_trainer_new(m.m, 0, -1, 0, 0, &t), PROJNTK_ERR_INVALID_ARGUMENT, "learning_rate");

    // BatchNorm: a step updates the running statistics (train mode), and afterwards the model is in eval mode
    // (two forwards agree and do not move the statistics).
    Model r("resnet18-cifar", 2);
    std::vector<int64_t> shape{4, 3, 32, 32};
    auto x = random_input(shape, 81);
    std::vector<int64_t> y{1, 2, 3, 4};
    char h0[65], h1[65], h2[65];
    projntk_model_checksum(r.m, h0, sizeof h0);
    CHECK_OK(projntk_trainer_new(r.m, PROJNTK_OPT_SGD, 0.01, 0.9, 5e-4, &t));
    double loss = 0;
    CHECK_OK(projntk_trainer_step(t, x.data(), shape.data(), 4, y.data(), &loss, nullptr));
    EXPECT(std::isfinite(loss) && loss > 0, "resnet loss %f", loss);
    projntk_model_checksum(r.m, h1, sizeof h1);
    std::vector<float> o1(40), o2(40);
    CHECK_OK(projntk_model_forward(r.m, x.data(), shape.data(), 4, o1.data(), 40, nullptr));
    CHECK_OK(projntk_model_forward(r.m, x.data(), shape.data(), 4, o2.data(), 40, nullptr));
    projntk_model_checksum(r.m, h2, sizeof h2);
    EXPECT(std::string(h0) != h1 && std::string(h1) == h2 && o1 == o2, "resnet train/eval modes");
    projntk_trainer_free(t);
}

static int64_t status_kb(const char *key) {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(key, 0) == 0) return std::stoll(line.substr(std::strlen(key) + 1));
    return -1;
}

// Peak memory of one sub-batched ResNet-18 call stays far below B*P*4 bytes.
static void test_resnet_memory() {
    Model m("resnet18-cifar", 1);
    const int64_t B = 64, P = m.P();
    std::vector<int64_t> shape{B, 3, 32, 32};
    auto x = random_input(shape, 91);
    struct Sum { double total = 0; int64_t rows = 0; } sum;
    auto consume = [](void *ctx, int64_t, int64_t, int64_t rows, int64_t poff, int64_t cols, const float *b) -> int32_t {
        auto &s = *static_cast<Sum *>(ctx);
        for (int64_t i = 0; i < rows * cols; ++i) s.total += b[i];
        if (poff == 0) s.rows += rows;
        return 0;
    };
    const int64_t budget = 128ll << 20;
    {  // warm up allocator and kernels on 2 examples
        std::vector<int64_t> s2{2, 3, 32, 32};
        CHECK_OK(projntk_grads(m.m, x.data(), s2.data(), 4, nullptr, 0, 1, budget, 1, consume, &sum, nullptr));
    }
    sum = Sum{};
    std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current RSS
    const int64_t rss0 = status_kb("VmRSS:");
    auto t0 = std::chrono::steady_clock::now();
    int32_t used = -1;
    CHECK_OK(projntk_grads(m.m, x.data(), shape.data(), 4, nullptr, 0, 0, budget, 1, consume, &sum, &used));
    const double secs = seconds_since(t0);
    const int64_t hwm = status_kb("VmHWM:");
    const double growth_mb = (hwm - rss0) / 1024.0, bp_mb = B * P * 4 / 1048576.0;
    std::printf("resnet18-cifar B=64 budget=128 MiB (%s): peak RSS growth %.0f MiB vs B*P*4 = %.0f MiB, %.1f s\n",
                used == 1 ? "functional" : "iterative", growth_mb, bp_mb, secs);
    EXPECT(sum.rows == B && std::isfinite(sum.total), "rows %lld", (long long)sum.rows);
    EXPECT(growth_mb < bp_mb / 4, "peak RSS growth %.0f MiB not far below %.0f MiB", growth_mb, bp_mb);
}

// ------------------------------------------------------------------------------------------ benchmark

static double time_grads(Model &m, const std::vector<float> &x, const std::vector<int64_t> &shape, int strategy, int reps) {
    auto noop = [](void *, int64_t, int64_t, int64_t, int64_t, int64_t, const float *) -> int32_t { return 0; };
    projntk_grads(m.m, x.data(), shape.data(), (int32_t)shape.size(), nullptr, 0, strategy, 0, 1, noop, nullptr, nullptr);
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        int rc = projntk_grads(m.m, x.data(), shape.data(), (int32_t)shape.size(), nullptr, 0, strategy, 0, 1, noop,
                               nullptr, nullptr);
        if (rc != PROJNTK_OK) std::printf("bench failed: %s\n", last_error().c_str());
        best = std::min(best, seconds_since(t0));
    }
    return shape[0] / best;
}

static void bench(int threads) {
    if (threads > 0) projntk_set_num_threads(threads);
    char info[256];
    projntk_runtime_info(info, sizeof info);
    std::printf("%s\n", info);
    struct Case { const char *arch; std::vector<int64_t> shape; int reps; };
    for (Case c : {Case{"cnn-fmnist", {64, 1, 28, 28}, 5}, Case{"resnet18-cifar", {8, 3, 32, 32}, 3}}) {
        Model m(c.arch, 1);
        auto x = random_input(c.shape, 5);
        for (bool optimize : {false, true}) {
            torch::jit::setGraphExecutorOptimize(optimize);  // the library turns it off when it creates a model
            double f = time_grads(m, x, c.shape, PROJNTK_GRAD_FUNCTIONAL, c.reps);
            double i = time_grads(m, x, c.shape, PROJNTK_GRAD_ITERATIVE, c.reps);
            std::printf("%-15s B=%-3lld graph optimize %-3s  functional %8.1f ex/s  iterative %8.1f ex/s  (x%.2f)\n",
                        c.arch, (long long)c.shape[0], optimize ? "on" : "off", f, i, f / i);
        }
        torch::jit::setGraphExecutorOptimize(false);
    }
}

// `test_torch --bench-classes [rounds]`: cnn-fmnist PER_CLASS at B = 64, variants interleaved round by round
// (medians): class gradients from one vmapped backward against one backward per class, and the fused projection
// (one [C·B x cols] block per parameter tensor) against one projector call per (class, parameter tensor).
static void bench_classes(int rounds) {
    Model m("cnn-fmnist", 1);
    std::vector<int64_t> shape{64, 1, 28, 28};
    const int64_t B = 64, C = 10, P = m.P(), K = 2048;
    auto x = random_input(shape, 5);
    struct PerClass {
        projntk_projector *pr;
        float *out;
        int64_t B, K;
        static int32_t consume(void *ctx, int64_t c, int64_t row, int64_t rows, int64_t off, int64_t cols,
                               const float *block) {
            auto *s = static_cast<PerClass *>(ctx);
            return projntk_projector_accumulate(s->pr, block, rows, cols, off, s->out + (c * s->B + row) * s->K);
        }
    };
    for (int kind : {PROJNTK_PROJ_GAUSSIAN, PROJNTK_PROJ_RADEMACHER}) {
        projntk_projector *pr = nullptr;
        CHECK_OK(projntk_projector_new(kind, P, K, 1, 0, 0, 0, PROJNTK_DEVICE_CPU, &pr));
        std::vector<float> out(C * B * K);
        const char *names[4] = {"grads, classes vmapped", "grads, one backward per class", "fused, one block per tensor",
                                "grads + one projector call per class"};
        std::vector<std::vector<double>> t(4);
        for (int r = 0; r < rounds; ++r)
            for (int j = 0; j < 4; ++j) {
                const int v = r % 2 == 0 ? j : 3 - j;
                m.m->class_vmap_unsupported = v == 1;
                auto t0 = std::chrono::steady_clock::now();
                if (v < 2) {
                    Collector col(C, B, P);
                    CHECK_OK(run_grads(m, x, shape, {}, PROJNTK_OUTPUT_PER_CLASS, PROJNTK_GRAD_FUNCTIONAL, 0, col, nullptr));
                } else if (v == 2) {
                    CHECK_OK(projntk_project_grads(m.m, pr, x.data(), shape.data(), 4, nullptr, PROJNTK_OUTPUT_PER_CLASS,
                                                   PROJNTK_GRAD_FUNCTIONAL, 0, out.data(), (int64_t)out.size(), nullptr,
                                                   nullptr));
                } else {
                    std::fill(out.begin(), out.end(), 0.f);
                    PerClass s{pr, out.data(), B, K};
                    CHECK_OK(projntk_grads(m.m, x.data(), shape.data(), 4, nullptr, PROJNTK_OUTPUT_PER_CLASS,
                                           PROJNTK_GRAD_FUNCTIONAL, 0, 0, PerClass::consume, &s, nullptr));
                }
                t[v].push_back(seconds_since(t0));
            }
        m.m->class_vmap_unsupported = false;
        for (int v = 0; v < 4; ++v) {
            std::sort(t[v].begin(), t[v].end());
            std::printf("%-10s K=%lld %-38s %8.1f rows/s (median of %d)\n",
                        kind == PROJNTK_PROJ_GAUSSIAN ? "gaussian" : "rademacher", (long long)K, names[v],
                        B / t[v][t[v].size() / 2], rounds);
        }
        projntk_projector_free(pr);
    }
}

// The graph executor's optimisation is off while projntk runs libtorch, on the calling thread only, and the caller's
// setting is restored afterwards (libtorch keeps it per thread).
static void test_executor_setting_is_scoped() {
    projntk_model *m = nullptr;
    CHECK_OK(projntk_model_builtin("tiny-mlp", 3, PROJNTK_DEVICE_CPU, &m));
    std::vector<int64_t> shape{2, 4};
    auto x = random_input(shape, 7);
    struct Probe {
        int calls = 0;
        bool optimised_inside = true;
        static int32_t consume(void *ctx, int64_t, int64_t, int64_t, int64_t, int64_t, const float *) {
            auto *p = static_cast<Probe *>(ctx);
            p->calls++;
            p->optimised_inside = p->optimised_inside && torch::jit::getGraphExecutorOptimize();
            return 0;
        }
    } probe;
    torch::jit::setGraphExecutorOptimize(true);
    CHECK_OK(projntk_grads(m, x.data(), shape.data(), 2, nullptr, PROJNTK_OUTPUT_PNTK, PROJNTK_GRAD_FUNCTIONAL, 0, 1,
                           Probe::consume, &probe, nullptr));
    EXPECT(probe.calls > 0 && !probe.optimised_inside, "optimisation off during the call (%d blocks)", probe.calls);
    EXPECT(torch::jit::getGraphExecutorOptimize(), "the caller's setting is restored after the call");
    projntk_model_free(m);
}

int main(int argc, char **argv) {
    if (argc > 1 && std::string(argv[1]) == "--bench-classes") {
        bench_classes(argc > 2 ? std::atoi(argv[2]) : 5);
        return 0;
    }
    if (argc > 1 && std::string(argv[1]) == "--bench") {
        bench(argc > 2 ? std::atoi(argv[2]) : 0);
        return 0;
    }
    auto t0 = std::chrono::steady_clock::now();
    // `test_torch --only WORD` runs the steps whose name contains WORD.
    const char *only = argc > 2 && std::string(argv[1]) == "--only" ? argv[2] : nullptr;
    auto step = [&](const char *name, const std::function<void()> &f) {
        if (only && std::string(name).find(only) == std::string::npos) return;
        auto t = std::chrono::steady_clock::now();
        f();
        std::printf("  %-28s %6.1f s\n", name, seconds_since(t));
        std::fflush(stdout);
    };
    step("runtime", test_runtime);
    step("sha256", test_sha256);
    step("attention op", test_attention_op);
    step("models", test_models);
    step("bad inputs", test_bad_inputs);
    step("agree tiny-mlp", [] { test_grads_agree("tiny-mlp", {5, 4}); });
    step("agree tiny-cnn", [] { test_grads_agree("tiny-cnn", {5, 1, 6, 6}); });
    step("agree cnn-fmnist", [] { test_grads_agree("cnn-fmnist", {6, 1, 28, 28}); });
    step("finite diff tiny-mlp", [] { test_finite_differences("tiny-mlp", {3, 4}); });
    step("finite diff tiny-cnn", [] { test_finite_differences("tiny-cnn", {3, 1, 6, 6}); });
    step("param subsets", test_param_subsets);
    step("auto fallback", test_auto_fallback);
    step("executor setting scoped", test_executor_setting_is_scoped);
    step("multi-input grads", test_multi_input);
    step("multi-input padding", test_padding_invariance);
    step("multi-input errors", test_multi_input_errors);
    step("multi-input text-transformer", test_text_transformer);
    step("project_grads", test_project_grads);
    step("project_grads class block bits", test_project_grads_class_block);
    step("class vmap tiny-cnn", [] { test_class_vmap("tiny-cnn", {5, 1, 6, 6}); });
    step("class vmap cnn-fmnist", [] { test_class_vmap("cnn-fmnist", {4, 1, 28, 28}); });
    step("class vmap text-transformer", test_class_vmap_text);
    step("project_grads on the GPU", test_project_grads_on_gpu);
    step("training", test_training);
    step("resnet memory", test_resnet_memory);
    std::printf("%d checks, %d failures, %.1f s\n", g_checks, g_failures, seconds_since(t0));
    return g_failures == 0 ? 0 : 1;
}
