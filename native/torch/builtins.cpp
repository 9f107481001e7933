// Built-in architectures, defined from TorchScript source so that they save and reload like any scripted model.
// TorchScript defined from C++ knows torch.* ops but not torch.nn.functional, so layers call torch.conv2d etc.
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <functional>
#include <map>

#include "torch_internal.hpp"

namespace projntk {
namespace {

using torch::jit::Module;

struct Builder {
    std::string arch;  // used in class names: __torch__.projntk.<arch>.<path>
    at::Generator gen;

    Module module(const std::string &path) {
        std::string cls = path.empty() ? "Model" : path;
        for (char &c : cls)
            if (c == '.') c = '_';
        Module m("__torch__.projntk." + arch + "." + cls);
        m.register_attribute("training", c10::BoolType::get(), false);
        return m;
    }

    // PyTorch's default init: kaiming_uniform(a=sqrt(5)) for weights, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    // and the same bound for biases.
    at::Tensor uniform(at::IntArrayRef shape, int64_t fan_in) {
        double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
        return torch::empty(shape).uniform_(-bound, bound, gen);
    }

    Module linear(const std::string &path, int64_t in, int64_t out) {
        Module m = module(path);
        m.register_parameter("weight", uniform({out, in}, in), false);
        m.register_parameter("bias", uniform({out}, in), false);
        m.define("def forward(self, x):\n    return torch.linear(x, self.weight, self.bias)\n");
        return m;
    }

    Module conv(const std::string &path, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, bool bias) {
        Module m = module(path);
        int64_t fan_in = in * k * k;
        m.register_parameter("weight", uniform({out, in, k, k}, fan_in), false);
        if (bias) m.register_parameter("bias", uniform({out}, fan_in), false);
        std::string s = std::to_string(stride), p = std::to_string(pad);
        m.define("def forward(self, x):\n    return torch.conv2d(x, self.weight, " + std::string(bias ? "self.bias" : "None") +
                 ", [" + s + ", " + s + "], [" + p + ", " + p + "])\n");
        return m;
    }

    Module batchnorm(const std::string &path, int64_t c) {
        Module m = module(path);
        m.register_parameter("weight", torch::ones({c}), false);
        m.register_parameter("bias", torch::zeros({c}), false);
        m.register_buffer("running_mean", torch::zeros({c}));
        m.register_buffer("running_var", torch::ones({c}));
        m.register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
        m.define(
            "def forward(self, x):\n"
            "    if self.training:\n"
            "        self.num_batches_tracked.add_(1)\n"
            "    return torch.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var,\n"
            "                            self.training, 0.1, 1e-05, False)\n");
        return m;
    }
};

void finish(projntk_model &out, Module top, std::vector<int64_t> input_shape, int64_t classes) {
    top.register_attribute("projntk_input_shape", c10::ListType::ofInts(), c10::IValue(input_shape));
    top.register_attribute("projntk_classes", c10::IntType::get(), c10::IValue(classes));
    out.module = std::move(top);
    out.input_shape = std::move(input_shape);
    out.classes = classes;
}

void tiny_mlp(Builder &b, projntk_model &out) {
    // tanh rather than ReLU keeps finite differences away from kinks.
    Module top = b.module("");
    top.register_module("fc1", b.linear("fc1", 4, 5));
    top.register_module("fc2", b.linear("fc2", 5, 3));
    top.define("def forward(self, x):\n    return self.fc2.forward(torch.tanh(self.fc1.forward(x)))\n");
    finish(out, top, {4}, 3);
}

void tiny_cnn(Builder &b, projntk_model &out) {
    Module top = b.module("");
    top.register_module("conv1", b.conv("conv1", 1, 2, 3, 1, 1, true));
    top.register_module("fc", b.linear("fc", 18, 3));
    top.define(
        "def forward(self, x):\n"
        "    x = torch.max_pool2d(torch.tanh(self.conv1.forward(x)), [2, 2])\n"
        "    return self.fc.forward(torch.flatten(x, 1))\n");
    finish(out, top, {1, 6, 6}, 3);
}

void mlp(Builder &b, projntk_model &out) {
    Module top = b.module("");
    top.register_module("fc1", b.linear("fc1", 784, 256));
    top.register_module("fc2", b.linear("fc2", 256, 10));
    top.define(
        "def forward(self, x):\n"
        "    return self.fc2.forward(torch.relu(self.fc1.forward(torch.flatten(x, 1))))\n");
    finish(out, top, {1, 28, 28}, 10);
}

// Multinomial logistic regression on flattened 28x28 images (the linear model of dattri's MNIST benchmark).
void linear_fmnist(Builder &b, projntk_model &out) {
    Module top = b.module("");
    top.register_module("fc", b.linear("fc", 784, 10));
    top.define("def forward(self, x):\n    return self.fc.forward(torch.flatten(x, 1))\n");
    finish(out, top, {1, 28, 28}, 10);
}

void cnn_fmnist(Builder &b, projntk_model &out) {
    Module top = b.module("");
    top.register_module("conv1", b.conv("conv1", 1, 16, 3, 1, 1, true));
    top.register_module("conv2", b.conv("conv2", 16, 32, 3, 1, 1, true));
    top.register_module("fc", b.linear("fc", 32 * 7 * 7, 10));
    top.define(
        "def forward(self, x):\n"
        "    x = torch.max_pool2d(torch.relu(self.conv1.forward(x)), [2, 2])\n"
        "    x = torch.max_pool2d(torch.relu(self.conv2.forward(x)), [2, 2])\n"
        "    return self.fc.forward(torch.flatten(x, 1))\n");
    finish(out, top, {1, 28, 28}, 10);
}

void cnn_cifar(Builder &b, projntk_model &out) {
    Module top = b.module("");
    top.register_module("conv1", b.conv("conv1", 3, 32, 3, 1, 1, true));
    top.register_module("conv2", b.conv("conv2", 32, 64, 3, 1, 1, true));
    top.register_module("conv3", b.conv("conv3", 64, 128, 3, 1, 1, true));
    top.register_module("fc1", b.linear("fc1", 128 * 4 * 4, 128));
    top.register_module("fc2", b.linear("fc2", 128, 10));
    top.define(
        "def forward(self, x):\n"
        "    x = torch.max_pool2d(torch.relu(self.conv1.forward(x)), [2, 2])\n"
        "    x = torch.max_pool2d(torch.relu(self.conv2.forward(x)), [2, 2])\n"
        "    x = torch.max_pool2d(torch.relu(self.conv3.forward(x)), [2, 2])\n"
        "    return self.fc2.forward(torch.relu(self.fc1.forward(torch.flatten(x, 1))))\n");
    finish(out, top, {3, 32, 32}, 10);
}

// The CIFAR ResNet-18 (3x3 stem, no max-pool), with the parameter names of the common PyTorch CIFAR
// implementation: conv1, bn1, layer{1..4}.{0,1}.{conv1,bn1,conv2,bn2,shortcut.0,shortcut.1}, linear.
Module basic_block(Builder &b, const std::string &path, int64_t in, int64_t out, int64_t stride) {
    Module m = b.module(path);
    m.register_module("conv1", b.conv(path + ".conv1", in, out, 3, stride, 1, false));
    m.register_module("bn1", b.batchnorm(path + ".bn1", out));
    m.register_module("conv2", b.conv(path + ".conv2", out, out, 3, 1, 1, false));
    m.register_module("bn2", b.batchnorm(path + ".bn2", out));
    std::string shortcut = "x";
    if (stride != 1 || in != out) {
        Module sc = b.module(path + ".shortcut");
        sc.register_module("0", b.conv(path + ".shortcut.0", in, out, 1, stride, 0, false));
        sc.register_module("1", b.batchnorm(path + ".shortcut.1", out));
        sc.define("def forward(self, x):\n    return getattr(self, \"1\").forward(getattr(self, \"0\").forward(x))\n");
        m.register_module("shortcut", sc);
        shortcut = "self.shortcut.forward(x)";
    }
    m.define(
        "def forward(self, x):\n"
        "    out = torch.relu(self.bn1.forward(self.conv1.forward(x)))\n"
        "    out = self.bn2.forward(self.conv2.forward(out))\n"
        "    return torch.relu(out + " + shortcut + ")\n");
    return m;
}

void resnet18_cifar(Builder &b, projntk_model &out) {
    Module top = b.module("");
    top.register_module("conv1", b.conv("conv1", 3, 64, 3, 1, 1, false));
    top.register_module("bn1", b.batchnorm("bn1", 64));
    int64_t in = 64;
    const int64_t widths[4] = {64, 128, 256, 512};
    for (int s = 0; s < 4; ++s) {
        std::string name = "layer" + std::to_string(s + 1);
        Module stage = b.module(name);
        stage.register_module("0", basic_block(b, name + ".0", in, widths[s], s == 0 ? 1 : 2));
        stage.register_module("1", basic_block(b, name + ".1", widths[s], widths[s], 1));
        stage.define("def forward(self, x):\n    return getattr(self, \"1\").forward(getattr(self, \"0\").forward(x))\n");
        top.register_module(name, stage);
        in = widths[s];
    }
    top.register_module("linear", b.linear("linear", 512, 10));
    top.define(
        "def forward(self, x):\n"
        "    x = torch.relu(self.bn1.forward(self.conv1.forward(x)))\n"
        "    x = self.layer4.forward(self.layer3.forward(self.layer2.forward(self.layer1.forward(x))))\n"
        "    return self.linear.forward(torch.mean(x, [2, 3]))\n");
    finish(out, top, {3, 32, 32}, 10);
}

const std::map<std::string, std::function<void(Builder &, projntk_model &)>> &table() {
    static const std::map<std::string, std::function<void(Builder &, projntk_model &)>> t = {
        {"tiny-mlp", tiny_mlp},     {"tiny-cnn", tiny_cnn},   {"mlp", mlp},   {"linear-fmnist", linear_fmnist},
        {"cnn-fmnist", cnn_fmnist}, {"cnn-cifar", cnn_cifar}, {"resnet18-cifar", resnet18_cifar},
    };
    return t;
}

}  // namespace

bool make_builtin(const std::string &name, int64_t seed, projntk_model &out) {
    auto it = table().find(name);
    if (it == table().end()) return false;
    std::string arch = name;
    for (char &c : arch)
        if (c == '-') c = '_';
    Builder b{arch, at::detail::createCPUGenerator(static_cast<uint64_t>(seed))};
    it->second(b, out);
    out.arch = name;
    return true;
}

std::string builtin_names() {
    std::string s;
    for (auto &kv : table()) s += (s.empty() ? "" : ", ") + kv.first;
    return s;
}

}  // namespace projntk
