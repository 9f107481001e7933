// Per-example gradients from several threads at once. libtorch 1.13's functorch layer keeps process-wide state, so
// the library serialises its vmap(grad) path (native/torch/functorch_lock.hpp); these checks fail without that lock.
// References: the same calls made one after another on one thread, compared bit for bit.
#include <torch/script.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"
#include "torch_models.hpp"
#include "projntk.h"

#define EXPECT PROJNTK_CHECK

static int32_t collect(void *ctx, int64_t output, int64_t row, int64_t rows, int64_t poff, int64_t cols,
                       const float *block) {
    auto &g = *static_cast<std::vector<float> *>(ctx);
    (void)output;
    (void)row;
    (void)poff;
    g.insert(g.end(), block, block + rows * cols);
    return 0;
}

struct Run {
    std::vector<float> grads;
    int status = PROJNTK_OK;
    int32_t used = -1;
    std::string error;
};

static Run grads_of(projntk_model *m, const std::vector<float> &x, const std::vector<int64_t> &shape, int32_t strategy) {
    Run r;
    r.status = projntk_grads(m, x.data(), shape.data(), (int32_t)shape.size(), nullptr, PROJNTK_OUTPUT_PER_CLASS,
                             strategy, 0, 1, collect, &r.grads, &r.used);
    if (r.status != PROJNTK_OK) r.error = last_error();  // the message is per thread: read it on the failing one
    return r;
}

// Four threads, each with its own model, run the functional path (and AUTO) at once, many times; every result must
// equal the single-threaded one bit for bit, and AUTO must keep the functional path.
static void test_concurrent_functional() {
    const int threads = 4, reps = 6;
    const std::vector<int64_t> shape{8, 1, 6, 6};
    std::vector<projntk_model *> models(threads);
    std::vector<std::vector<float>> inputs(threads);
    std::vector<std::vector<float>> expected(threads);
    for (int t = 0; t < threads; ++t) {
        if (projntk_model_builtin("tiny-cnn", 10 + t, PROJNTK_DEVICE_CPU, &models[t]) != PROJNTK_OK)
            std::printf("builtin failed: %s\n", last_error().c_str());
        inputs[t] = random_input(shape, 100 + t);
        Run r = grads_of(models[t], inputs[t], shape, PROJNTK_GRAD_FUNCTIONAL);
        EXPECT(r.status == PROJNTK_OK, "single-threaded run %d: %s", t, r.error.c_str());
        expected[t] = r.grads;
    }
    for (int32_t strategy : {PROJNTK_GRAD_FUNCTIONAL, PROJNTK_GRAD_AUTO}) {
        std::vector<std::vector<Run>> runs(threads, std::vector<Run>(reps));
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&, t] {
                for (int i = 0; i < reps; ++i) runs[t][i] = grads_of(models[t], inputs[t], shape, strategy);
            });
        for (auto &th : pool) th.join();
        int failed = 0, fell_back = 0, differ = 0;
        std::string first_error;
        for (int t = 0; t < threads; ++t)
            for (const Run &r : runs[t]) {
                if (r.status != PROJNTK_OK) {
                    if (failed++ == 0) first_error = r.error;
                    continue;
                }
                if (r.used != PROJNTK_GRAD_FUNCTIONAL) ++fell_back;
                if (r.grads.size() != expected[t].size() ||
                    std::memcmp(r.grads.data(), expected[t].data(), r.grads.size() * sizeof(float)) != 0)
                    ++differ;
            }
        EXPECT(failed == 0, "strategy %d: %d of %d concurrent calls failed, first: %s", strategy, failed,
               threads * reps, first_error.c_str());
        EXPECT(fell_back == 0, "strategy %d: %d calls left the functional path", strategy, fell_back);
        EXPECT(differ == 0, "strategy %d: %d results differ from the single-threaded ones", strategy, differ);
    }
    // AUTO stayed on the functional path afterwards (no model was switched to the loop for good).
    for (int t = 0; t < threads; ++t) {
        Run r = grads_of(models[t], inputs[t], shape, PROJNTK_GRAD_AUTO);
        EXPECT(r.status == PROJNTK_OK && r.used == PROJNTK_GRAD_FUNCTIONAL, "model %d after the threads: used %d (%s)",
               t, r.used, r.error.c_str());
        projntk_model_free(models[t]);
    }
}

// vmap's own refusal (data-dependent control flow) is still told apart: AUTO falls back to the per-example loop, while
// FUNCTIONAL reports libtorch's message.
static void test_auto_falls_back_on_vmap_refusal() {
    std::string pt = "/tmp/projntk_test_threads_" + std::to_string(getpid()) + "_dyn.pt";
    save_dynamic_control_flow_model(pt);
    projntk_model *m = nullptr;
    if (projntk_model_load(pt.c_str(), PROJNTK_DEVICE_CPU, &m) != PROJNTK_OK) {
        EXPECT(false, "load: %s", last_error().c_str());
        return;
    }
    const std::vector<int64_t> shape{3, 4};
    auto x = random_input(shape, 7);
    Run functional = grads_of(m, x, shape, PROJNTK_GRAD_FUNCTIONAL);
    EXPECT(functional.status == PROJNTK_ERR_TORCH && functional.error.find("vmap") != std::string::npos,
           "FUNCTIONAL: %d (%s)", functional.status, functional.error.c_str());
    Run fallback = grads_of(m, x, shape, PROJNTK_GRAD_AUTO);
    EXPECT(fallback.status == PROJNTK_OK && fallback.used == PROJNTK_GRAD_ITERATIVE, "AUTO: %d used %d (%s)",
           fallback.status, fallback.used, fallback.error.c_str());
    projntk_model_free(m);
    std::remove(pt.c_str());
}

// The JVM's shutdown hook: projntk_quiesce refuses new calls and waits for the running ones (a call whose consumer
// sleeps), and reports the ones still running when its wait times out. Irreversible, so this runs last.
struct SlowConsumer {
    std::atomic<bool> inside{false}, done{false};
    static int32_t consume(void *ctx, int64_t, int64_t, int64_t, int64_t, int64_t, const float *) {
        auto &c = *static_cast<SlowConsumer *>(ctx);
        if (!c.inside.exchange(true)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(400));
            c.done = true;
        }
        return 0;
    }
};

static void test_quiesce_waits_for_running_calls() {
    projntk_model *m = nullptr;
    EXPECT(projntk_model_builtin("tiny-cnn", 3, PROJNTK_DEVICE_CPU, &m) == PROJNTK_OK, "builtin: %s", last_error().c_str());
    const std::vector<int64_t> shape{4, 1, 6, 6};
    auto x = random_input(shape, 5);
    SlowConsumer slow;
    int status = -1;
    std::thread running([&] {
        status = projntk_grads(m, x.data(), shape.data(), (int32_t)shape.size(), nullptr, PROJNTK_OUTPUT_PNTK,
                               PROJNTK_GRAD_FUNCTIONAL, 0, 1, SlowConsumer::consume, &slow, nullptr);
    });
    while (!slow.inside) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    int64_t left = -1;
    EXPECT(projntk_quiesce(50, &left) == PROJNTK_OK && left == 1, "a 50 ms wait leaves the call running: %lld",
           (long long)left);
    EXPECT(projntk_quiesce(10000, &left) == PROJNTK_OK && left == 0, "the wait ends with the call: %lld", (long long)left);
    EXPECT(slow.done, "quiesce returned before the running call's consumer finished");
    running.join();
    EXPECT(status == PROJNTK_OK, "the call that was running completes normally: %d", status);
    int64_t tensors = 0, numel = 0;
    int refused = projntk_model_param_count(m, &tensors, &numel);
    std::string message = last_error();
    EXPECT(refused == PROJNTK_ERR_EXITING && message.find("the process is exiting") != std::string::npos,
           "a call after quiesce: %d (%s)", refused, message.c_str());
    EXPECT(projntk_model_free(m) == PROJNTK_OK, "free after quiesce succeeds (and frees nothing)");
}

int main() {
    test_concurrent_functional();
    test_auto_falls_back_on_vmap_refusal();
    test_quiesce_waits_for_running_calls();
    std::printf("%d checks, %d failures\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}
