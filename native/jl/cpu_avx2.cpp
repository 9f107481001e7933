// AVX2/FMA build of the CPU kernels (compiled with -mavx2 -mfma; the rest of the library targets x86-64-v2).
#include <immintrin.h>
#include <omp.h>
#include <stdlib.h>

#include "projector.hpp"

namespace projntk {
namespace jl {
namespace avx2 {

typedef __m256 vf;
static constexpr int VLEN = 8;
static constexpr int MR = 6;   // 6 rows x 2 vectors = 12 accumulators of the 16 ymm registers
static constexpr int NRV = 2;
static inline vf vload(const float *p) { return _mm256_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf vbcast(const float *p) { return _mm256_broadcast_ss(p); }
static inline vf vsqrt(vf a) { return _mm256_sqrt_ps(a); }
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
typedef __m256i vint;
static inline vint vmul_epu32(vint a, vint b) { return _mm256_mul_epu32(a, b); }  // low 32 bits of each 64-bit lane

#include "cpu_kernel.inc"

}  // namespace avx2
}  // namespace jl
}  // namespace projntk
