// Built-in architectures, defined from TorchScript source so that they save and reload like any scripted model.
// TorchScript defined from C++ knows torch.* ops but not torch.nn.functional, so layers call torch.conv2d etc.
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <functional>
#include <map>
#include <sstream>

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

    Module layernorm(const std::string &path, int64_t d) {
        Module m = module(path);
        m.register_parameter("weight", torch::ones({d}), false);
        m.register_parameter("bias", torch::zeros({d}), false);
        m.define("def forward(self, x):\n    return torch.layer_norm(x, [" + std::to_string(d) +
                 "], self.weight, self.bias, 1e-05)\n");
        return m;
    }

    at::Tensor normal(at::IntArrayRef shape, double std) { return torch::empty(shape).normal_(0.0, std, gen); }

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
    out.input_dtypes = {at::kFloat};
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

// Options of builtin:text-transformer, given as text-transformer:vocab=V,classes=C,length=T.
struct TextOptions {
    int64_t vocab = 8192, classes = 2, length = 128;
};

// One post-LN encoder layer (BERT's order): self-attention with an additive padding bias, then a GELU feed-forward.
Module encoder_layer(Builder &b, const std::string &path, int64_t d, int64_t heads, int64_t ff) {
    Module m = b.module(path);
    for (const char *name : {"query", "key", "value", "out"}) m.register_module(name, b.linear(path + "." + name, d, d));
    m.register_module("norm1", b.layernorm(path + ".norm1", d));
    m.register_module("ff1", b.linear(path + ".ff1", d, ff));
    m.register_module("ff2", b.linear(path + ".ff2", ff, d));
    m.register_module("norm2", b.layernorm(path + ".norm2", d));
    const std::string H = std::to_string(heads), DH = std::to_string(d / heads), D = std::to_string(d);
    const std::string scale = std::to_string(1.0 / std::sqrt(static_cast<double>(d / heads)));
    m.define(
        "def forward(self, x, bias):\n"
        "    B = x.size(0)\n"
        "    T = x.size(1)\n"
        "    q = self.query.forward(x).reshape([B, T, " + H + ", " + DH + "]).transpose(1, 2)\n"
        "    k = self.key.forward(x).reshape([B, T, " + H + ", " + DH + "]).transpose(1, 2)\n"
        "    v = self.value.forward(x).reshape([B, T, " + H + ", " + DH + "]).transpose(1, 2)\n"
        "    a = torch.softmax(torch.matmul(q, k.transpose(2, 3)) * " + scale + " + bias, -1)\n"
        "    h = torch.matmul(a, v).transpose(1, 2).reshape([B, T, " + D + "])\n"
        "    x = self.norm1.forward(x + self.out.forward(h))\n"
        "    return self.norm2.forward(x + self.ff2.forward(torch.gelu(self.ff1.forward(x))))\n");
    return m;
}

// A small BERT-style classifier: forward(ids int64 [B,T], mask [B,T] with 1 = token, 0 = padding) -> [B, classes].
// Token + position embeddings, 2 encoder layers (d = 128, 4 heads, feed-forward 256), [CLS] (position 0) pooling,
// linear head. Padded positions get a -1e9 attention bias, so they change no output and no gradient.
void text_transformer(Builder &b, projntk_model &out, const TextOptions &o) {
    const int64_t d = 128, heads = 4, ff = 256, layers = 2;
    Module top = b.module("");
    Module tok = b.module("token");
    tok.register_parameter("weight", b.normal({o.vocab, d}, 0.02), false);
    top.register_module("token", tok);
    Module pos = b.module("position");
    pos.register_parameter("weight", b.normal({o.length, d}, 0.02), false);
    top.register_module("position", pos);
    top.register_module("norm", b.layernorm("norm", d));
    std::string body;
    for (int64_t i = 0; i < layers; ++i) {
        std::string name = "layer" + std::to_string(i);
        top.register_module(name, encoder_layer(b, name, d, heads, ff));
        body += "    x = self." + name + ".forward(x, bias)\n";
    }
    top.register_module("head", b.linear("head", d, o.classes));
    top.define(
        "def forward(self, ids, mask):\n"
        "    T = ids.size(1)\n"
        "    x = torch.embedding(self.token.weight, ids) + self.position.weight.narrow(0, 0, T)\n"
        "    x = self.norm.forward(x)\n"
        "    bias = ((mask.to(x.dtype) - 1.0) * 1e9).unsqueeze(1).unsqueeze(1)\n" +
        body +
        "    return self.head.forward(x.select(1, 0))\n");
    top.register_attribute("projntk_text_vocab", c10::IntType::get(), c10::IValue(o.vocab));
    top.register_attribute("projntk_text_length", c10::IntType::get(), c10::IValue(o.length));
    finish(out, top, {}, o.classes);
    out.input_dtypes = {at::kLong, at::kLong};
}

TextOptions parse_text_options(const std::string &spec) {
    TextOptions o;
    std::stringstream s(spec);
    std::string item;
    while (std::getline(s, item, ',')) {
        size_t eq = item.find('=');
        require(eq != std::string::npos, "text-transformer option '" + item + "' is not key=value");
        std::string key = item.substr(0, eq);
        int64_t value;
        try {
            value = std::stoll(item.substr(eq + 1));
        } catch (const std::exception &) {
            throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "text-transformer option " + key + " must be an integer, got '" +
                                                          item.substr(eq + 1) + "'");
        }
        require(value >= 1 && value <= (int64_t(1) << 24), "text-transformer option " + key + " out of range: " + item);
        if (key == "vocab") o.vocab = value;
        else if (key == "classes") o.classes = value;
        else if (key == "length") o.length = value;
        else throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "unknown text-transformer option '" + key + "' (vocab, classes, length)");
    }
    return o;
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
    const std::string text = "text-transformer";
    if (name.compare(0, text.size(), text) == 0 && (name.size() == text.size() || name[text.size()] == ':')) {
        TextOptions o = parse_text_options(name.size() > text.size() ? name.substr(text.size() + 1) : "");
        Builder b{"text_transformer", at::detail::createCPUGenerator(static_cast<uint64_t>(seed))};
        text_transformer(b, out, o);
        out.arch = name;
        return true;
    }
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
    return s + ", text-transformer[:vocab=V,classes=C,length=T]";
}

}  // namespace projntk
