// AVX-512 build of the CPU kernels, chosen at run time (projector.cpp) when the CPU has AVX-512F.
// Headers come before the target pragma so no inline library code is compiled for AVX-512.
#include <immintrin.h>
#include <omp.h>
#include <stdlib.h>

#include "projector.hpp"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,prefer-vector-width=512")

namespace projntk {
namespace jl {
namespace avx512 {

typedef __m512 vf;
static constexpr int VLEN = 16;
static constexpr int MR = 8;  // 8 rows x 2 vectors = 16 accumulators of the 32 zmm registers
static constexpr int NRV = 2;
static inline vf vload(const float *p) { return _mm512_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm512_storeu_ps(p, v); }
static inline vf vbcast(const float *p) { return _mm512_set1_ps(*p); }
static inline vf vsqrt(vf a) { return _mm512_maskz_sqrt_ps((__mmask16)0xFFFF, a); }
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
typedef __m512i vint;
static inline vint vmul_epu32(vint a, vint b) { return _mm512_maskz_mul_epu32((__mmask8)0xFF, a, b); }  // low 32 bits of each 64-bit lane

#include "cpu_kernel.inc"

}  // namespace avx512
}  // namespace jl
}  // namespace projntk

#pragma GCC pop_options
