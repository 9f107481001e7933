// Training: one optimiser step on cross-entropy (train mode during the step, eval mode after).
#include <memory>

#include "torch_internal.hpp"

struct projntk_trainer {
    projntk_model *model;
    std::unique_ptr<torch::optim::Optimizer> optimizer;
};

using namespace projntk;

namespace {
// Puts the module back in eval mode however the step ends.
struct EvalOnExit {
    torch::jit::Module &module;
    ~EvalOnExit() {
        try {
            module.eval();
        } catch (...) {
        }
    }
};
}  // namespace

extern "C" int projntk_trainer_new(projntk_model *model, int32_t optimizer, double learning_rate, double momentum,
                                   double weight_decay, projntk_trainer **out_trainer) {
    return torch_guarded("projntk_trainer_new", [&] {
        require(model != nullptr, "model is null");
        require(out_trainer != nullptr, "out_trainer is null");
        *out_trainer = nullptr;
        require(std::isfinite(learning_rate) && learning_rate > 0, "learning_rate must be > 0");
        require(std::isfinite(momentum) && momentum >= 0 && momentum < 1, "momentum must be in [0, 1)");
        require(std::isfinite(weight_decay) && weight_decay >= 0, "weight_decay must be >= 0");
        std::vector<at::Tensor> params = all_parameters(*model);
        for (auto &p : params) p.requires_grad_(true);
        auto t = std::make_unique<projntk_trainer>();
        t->model = model;
        if (optimizer == PROJNTK_OPT_SGD) {
            t->optimizer = std::make_unique<torch::optim::SGD>(
                params, torch::optim::SGDOptions(learning_rate).momentum(momentum).weight_decay(weight_decay));
        } else if (optimizer == PROJNTK_OPT_ADAM) {
            t->optimizer = std::make_unique<torch::optim::Adam>(
                params, torch::optim::AdamOptions(learning_rate).weight_decay(weight_decay));
        } else {
            throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "unknown optimizer " + std::to_string(optimizer));
        }
        *out_trainer = t.release();
    });
}

extern "C" int projntk_trainer_step_inputs(projntk_trainer *trainer, const projntk_tensor *inputs, int32_t n_inputs,
                                           const int64_t *labels, double *out_loss, int64_t *out_correct) {
    return torch_guarded("projntk_trainer_step", [&] {
        require(trainer != nullptr, "trainer is null");
        projntk_model &m = *trainer->model;
        Inputs xt = input_tensors(m, inputs, n_inputs);
        const int64_t B = batch_size(xt);
        at::Tensor y = labels_tensor(labels, B, model_classes(m, xt)).to(m.device);
        torch::AutoGradMode grad_on(true);
        EvalOnExit eval_after{m.module};
        m.module.train();
        trainer->optimizer->zero_grad();
        at::Tensor logits = forward_logits(m, xt);
        at::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
        if (!std::isfinite(loss.item<double>())) throw Error(PROJNTK_ERR_NONFINITE, "training loss is NaN or Inf");
        loss.backward();
        trainer->optimizer->step();
        if (out_loss) *out_loss = loss.item<double>();
        if (out_correct) *out_correct = logits.argmax(1).eq(y).sum().item<int64_t>();
    });
}

extern "C" int projntk_trainer_step(projntk_trainer *trainer, const float *x, const int64_t *x_shape, int32_t x_ndim,
                                    const int64_t *labels, double *out_loss, int64_t *out_correct) {
    projntk_tensor in = float_input(x, x_shape, x_ndim);
    return projntk_trainer_step_inputs(trainer, &in, 1, labels, out_loss, out_correct);
}

extern "C" int projntk_trainer_free(projntk_trainer *trainer) {
    if (projntk::freeing_is_moot()) return PROJNTK_OK;
    return torch_guarded("projntk_trainer_free", [&] { delete trainer; });
}
