// Small TorchScript models and inputs shared by the native test programs that load models through projntk.h.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

// Standard normal values for an input of this shape, from a fixed seed.
static inline std::vector<float> random_input(const std::vector<int64_t> &shape, uint64_t seed) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> dist;
    std::vector<float> x(n);
    for (auto &v : x) v = dist(rng);
    return x;
}

// Saves to `path` a linear model y = x Wᵀ (W: [3 x 4], no bias) whose forward has data-dependent control flow (a branch
// on y's value), which vmap refuses: per-example gradients must take the iterative path.
static inline void save_dynamic_control_flow_model(const std::string &path) {
    torch::jit::Module mod("__torch__.Dyn");
    mod.register_attribute("training", c10::BoolType::get(), false);
    mod.register_parameter("weight", torch::randn({3, 4}), false);
    mod.define(
        "def forward(self, x):\n"
        "    y = torch.linear(x, self.weight)\n"
        "    if float(y.sum()) > 1.0e30:\n"
        "        y = y * 2.0\n"
        "    return y\n");
    mod.save(path);
}
