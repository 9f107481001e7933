// The projector handle and the kernel entry points shared by projector.cpp, the CPU kernels and CUDA.
#pragma once

#include <stdint.h>

#include <mutex>

#include "philox.h"
#include "projntk.h"

namespace projntk {
namespace jl {

// Everything a kernel needs to regenerate R (plain data, also copied to CUDA kernels by value).
struct Spec {
    int32_t kind;
    uint64_t P, K;
    Key key;
    float scale;  // multiplies every dense entry; for SJLT the value of a nonzero
    uint32_t s;   // SJLT nonzeros per coordinate (already clamped to K)
};

// The scaled R[p,k] exactly as the kernels use it.
float entry_value(const Spec &spec, uint64_t p, uint64_t k);

// CPU kernels, one set per instruction set (cpu_avx2.cpp, cpu_avx512.cpp).
// out[rows x K] += block[rows x cols] . R[offset .. offset+cols, :]; return false when out of memory.
namespace avx2 {
bool dense_accumulate(const Spec &spec, const float *block, int64_t rows, int64_t cols, uint64_t offset, float *out);
bool sjlt_accumulate(const Spec &spec, const float *block, int64_t rows, int64_t cols, uint64_t offset, float *out);
double fma_rate(long iters);  // FLOP/s of `iters` rounds of independent FMA chains on every OpenMP thread
}  // namespace avx2
namespace avx512 {
bool dense_accumulate(const Spec &spec, const float *block, int64_t rows, int64_t cols, uint64_t offset, float *out);
bool sjlt_accumulate(const Spec &spec, const float *block, int64_t rows, int64_t cols, uint64_t offset, float *out);
double fma_rate(long iters);
}  // namespace avx512

// Which CPU path is used: "avx512", "avx2", or "none" (no AVX2/FMA: CPU projectors are refused). PROJNTK_SIMD=avx2 in the environment forces AVX2.
const char *cpu_simd();

// CUDA kernels (projector_cuda.cu; linked only when the library is built with PROJNTK_WITH_CUDA).
struct CudaState;
CudaState *cuda_state_new(int device_index);
void cuda_state_free(CudaState *state);
// Same contract as the CPU kernels, host pointers in and out; throws projntk::Error (PROJNTK_ERR_CUDA).
void cuda_accumulate(CudaState *state, const Spec &spec, bool fp32_strict, const float *block, int64_t rows,
                     int64_t cols, uint64_t offset, float *out);
// The same with block and out in device memory, queued on `stream` (a cudaStream_t; NULL: the legacy default stream).
void cuda_accumulate_device(CudaState *state, const Spec &spec, bool fp32_strict, const float *block, int64_t rows,
                            int64_t cols, uint64_t offset, float *out, void *stream);
// Throws PROJNTK_ERR_NONFINITE naming the first NaN or Inf of a device block, as the CPU check does; waits for it.
void cuda_check_finite(CudaState *state, const float *block, int64_t rows, int64_t cols, int64_t offset, void *stream);

}  // namespace jl
}  // namespace projntk

struct projntk_projector {
    projntk::jl::Spec spec;
    int64_t seed = 0, model_id = 0;
    int32_t requested_s = 0;
    int32_t flags = 0;
    int32_t device = PROJNTK_DEVICE_CPU;
    int32_t ordinal = 0;  // the CUDA device
#ifdef PROJNTK_WITH_CUDA
    projntk::jl::CudaState *cuda = nullptr;
    std::mutex cuda_mutex;  // the cached device buffers serve one call at a time
#endif
};
