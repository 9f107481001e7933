// Runtime queries: version, build/runtime info, threads, CUDA availability.
#include <torch/cuda.h>
#include <torch/version.h>

#include "torch_internal.hpp"

using namespace projntk;

namespace {
const char *simd_level() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "avx512";
    if (__builtin_cpu_supports("avx2")) return "avx2";
    return "default";
}

bool cuda_built() {
#ifdef PROJNTK_WITH_CUDA
    return true;
#else
    return false;
#endif
}
}  // namespace

extern "C" int projntk_abi_version(int32_t *out_version) {
    return torch_guarded("projntk_abi_version", [&] {
        require(out_version != nullptr, "out_version is null");
        *out_version = PROJNTK_ABI_VERSION;
    });
}

extern "C" int projntk_version(char *buf, int64_t cap) {
    return torch_guarded("projntk_version", [&] { copy_string("0.1.0", buf, cap, "version buffer"); });
}

extern "C" int projntk_runtime_info(char *buf, int64_t cap) {
    return torch_guarded("projntk_runtime_info", [&] {
        bool available = torch::cuda::is_available();
        std::string json = std::string("{\"libtorch\":\"") + TORCH_VERSION + "\",\"cuda_built\":" +
                           (cuda_built() ? "true" : "false") + ",\"cuda_available\":" + (available ? "true" : "false") +
                           ",\"cuda_devices\":" + std::to_string(available ? torch::cuda::device_count() : 0) +
                           ",\"threads\":" + std::to_string(at::get_num_threads()) + ",\"simd\":\"" + simd_level() +
                           "\",\"compat_ops\":\"" + compat_ops_registered() + "\"}";
        copy_string(json, buf, cap, "runtime info buffer");
    });
}

extern "C" int projntk_set_num_threads(int32_t threads) {
    return torch_guarded("projntk_set_num_threads", [&] {
        require(threads >= 1, "threads must be >= 1, got " + std::to_string(threads));
        at::set_num_threads(threads);
    });
}

extern "C" int projntk_cuda_available(int32_t *out_available) {
    return torch_guarded("projntk_cuda_available", [&] {
        require(out_available != nullptr, "out_available is null");
        *out_available = (cuda_built() && torch::cuda::is_available()) ? 1 : 0;
    });
}
