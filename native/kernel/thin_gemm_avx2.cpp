// AVX2 + FMA kernels of thin_gemm.hpp; compiled with -mavx2 -mfma and only called when the CPU has both.
#include <immintrin.h>

#include <cstring>

#include "thin_gemm.hpp"

namespace projntk {
namespace thin {

namespace {

inline __m256i lane_mask(int64_t lanes) {  // the first `lanes` of 8 lanes set (0 <= lanes <= 8)
    alignas(32) static const int32_t ramp[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(ramp + 8 - lanes));
}

inline int64_t clamp8(int64_t x) { return x < 0 ? 0 : (x > 8 ? 8 : x); }

// out (q lanes, two masked halves) = beta·out + acc
inline void store_row(float *out, __m256 lo, __m256 hi, __m256i m0, __m256i m1, float beta) {
    if (beta != 0.0f) {
        __m256 vb = _mm256_set1_ps(beta);
        lo = _mm256_fmadd_ps(vb, _mm256_maskload_ps(out, m0), lo);
        hi = _mm256_fmadd_ps(vb, _mm256_maskload_ps(out + 8, m1), hi);
    }
    _mm256_maskstore_ps(out, m0, lo);
    _mm256_maskstore_ps(out + 8, m1, hi);
}

}  // namespace

void nn_rows_avx2(int64_t r0, int64_t r1, int64_t d, int64_t q, const float *a, int64_t lda, const float *b_padded,
                  float beta, float *c, int64_t ldc) {
    const __m256i m0 = lane_mask(clamp8(q)), m1 = lane_mask(clamp8(q - 8));
    int64_t i = r0;
    for (; i + 4 <= r1; i += 4) {  // four rows share every load of b
        const float *a0 = a + i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        const float *next = i + 8 <= r1 ? a0 + 4 * lda : nullptr;
        __m256 l0 = _mm256_setzero_ps(), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0;
        for (int64_t k = 0; k < d; ++k) {
            prefetch_next_rows(next, 4, lda, k);
            const __m256 blo = _mm256_load_ps(b_padded + k * 16), bhi = _mm256_load_ps(b_padded + k * 16 + 8);
            __m256 x = _mm256_broadcast_ss(a0 + k);
            l0 = _mm256_fmadd_ps(x, blo, l0);
            h0 = _mm256_fmadd_ps(x, bhi, h0);
            x = _mm256_broadcast_ss(a1 + k);
            l1 = _mm256_fmadd_ps(x, blo, l1);
            h1 = _mm256_fmadd_ps(x, bhi, h1);
            x = _mm256_broadcast_ss(a2 + k);
            l2 = _mm256_fmadd_ps(x, blo, l2);
            h2 = _mm256_fmadd_ps(x, bhi, h2);
            x = _mm256_broadcast_ss(a3 + k);
            l3 = _mm256_fmadd_ps(x, blo, l3);
            h3 = _mm256_fmadd_ps(x, bhi, h3);
        }
        store_row(c + i * ldc, l0, h0, m0, m1, beta);
        store_row(c + (i + 1) * ldc, l1, h1, m0, m1, beta);
        store_row(c + (i + 2) * ldc, l2, h2, m0, m1, beta);
        store_row(c + (i + 3) * ldc, l3, h3, m0, m1, beta);
    }
    for (; i < r1; ++i) {
        const float *ai = a + i * lda;
        __m256 lo = _mm256_setzero_ps(), hi = lo;
        for (int64_t k = 0; k < d; ++k) {
            const __m256 x = _mm256_broadcast_ss(ai + k);
            lo = _mm256_fmadd_ps(x, _mm256_load_ps(b_padded + k * 16), lo);
            hi = _mm256_fmadd_ps(x, _mm256_load_ps(b_padded + k * 16 + 8), hi);
        }
        store_row(c + i * ldc, lo, hi, m0, m1, beta);
    }
}

void tn_columns_avx2(int64_t k0, int64_t k1, int64_t rows, int64_t q, const float *a, int64_t lda, const float *b,
                     int64_t ldb, float *acc, float beta, float *c, int64_t ldc) {
    const __m256i m0 = lane_mask(clamp8(q)), m1 = lane_mask(clamp8(q - 8));
    const int64_t width = k1 - k0;
    std::memset(acc, 0, sizeof(float) * 16 * width);
    int64_t i = 0;
    for (; i + 4 <= rows; i += 4) {
        const float *g0 = b + i * ldb;
        const __m256 g0l = _mm256_maskload_ps(g0, m0), g0h = _mm256_maskload_ps(g0 + 8, m1);
        const __m256 g1l = _mm256_maskload_ps(g0 + ldb, m0), g1h = _mm256_maskload_ps(g0 + ldb + 8, m1);
        const __m256 g2l = _mm256_maskload_ps(g0 + 2 * ldb, m0), g2h = _mm256_maskload_ps(g0 + 2 * ldb + 8, m1);
        const __m256 g3l = _mm256_maskload_ps(g0 + 3 * ldb, m0), g3h = _mm256_maskload_ps(g0 + 3 * ldb + 8, m1);
        const float *a0 = a + i * lda + k0, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        const float *next = i + 8 <= rows ? a0 + 4 * lda : nullptr;
        for (int64_t k = 0; k < width; ++k) {
            prefetch_next_rows(next, 4, lda, k);
            __m256 lo = _mm256_load_ps(acc + k * 16), hi = _mm256_load_ps(acc + k * 16 + 8);
            __m256 x = _mm256_broadcast_ss(a0 + k);
            lo = _mm256_fmadd_ps(x, g0l, lo);
            hi = _mm256_fmadd_ps(x, g0h, hi);
            x = _mm256_broadcast_ss(a1 + k);
            lo = _mm256_fmadd_ps(x, g1l, lo);
            hi = _mm256_fmadd_ps(x, g1h, hi);
            x = _mm256_broadcast_ss(a2 + k);
            lo = _mm256_fmadd_ps(x, g2l, lo);
            hi = _mm256_fmadd_ps(x, g2h, hi);
            x = _mm256_broadcast_ss(a3 + k);
            lo = _mm256_fmadd_ps(x, g3l, lo);
            hi = _mm256_fmadd_ps(x, g3h, hi);
            _mm256_store_ps(acc + k * 16, lo);
            _mm256_store_ps(acc + k * 16 + 8, hi);
        }
    }
    for (; i < rows; ++i) {
        const float *gi = b + i * ldb;
        const __m256 gl = _mm256_maskload_ps(gi, m0), gh = _mm256_maskload_ps(gi + 8, m1);
        const float *ai = a + i * lda + k0;
        for (int64_t k = 0; k < width; ++k) {
            const __m256 x = _mm256_broadcast_ss(ai + k);
            _mm256_store_ps(acc + k * 16, _mm256_fmadd_ps(x, gl, _mm256_load_ps(acc + k * 16)));
            _mm256_store_ps(acc + k * 16 + 8, _mm256_fmadd_ps(x, gh, _mm256_load_ps(acc + k * 16 + 8)));
        }
    }
    for (int64_t k = 0; k < width; ++k) {
        store_row(c + (k0 + k) * ldc, _mm256_load_ps(acc + k * 16), _mm256_load_ps(acc + k * 16 + 8), m0, m1, beta);
    }
}

}  // namespace thin
}  // namespace projntk
