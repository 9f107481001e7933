// AVX-512 kernels of thin_gemm.hpp, chosen at run time when the CPU has AVX-512F. A row of q <= 16 columns fits one
// register, so every element of the tall operand costs one FMA instead of the AVX2 kernels' two. Each output element
// goes through the same chain of FMAs as in the AVX2 kernels (k ascending for A·B, rows ascending for Aᵀ·B), so the two
// give identical bits.
// Headers come before the target pragma so no inline library code is compiled for AVX-512.
#include <immintrin.h>

#include <cstring>

#include "thin_gemm.hpp"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,prefer-vector-width=512")

namespace projntk {
namespace thin {

namespace {

// On the Zen 5 dev machine (20,000 x 2048 operands, q = 1..16), 8 and 12 rows streamed A fastest; 4 or 16 rows for
// A·B and 4, 16 or 24 for Aᵀ·B were slower.
constexpr int kNnRows = 8;   // rows of A·B sharing each load of b
constexpr int kTnRows = 12;  // rows of Aᵀ·B sharing each load and store of the accumulators

inline __mmask16 lanes(int64_t q) { return (__mmask16)((1u << q) - 1u); }

// out (q lanes) = beta·out + acc
inline void store_row(float *out, __m512 acc, __mmask16 m, float beta) {
    if (beta != 0.0f) acc = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m, out), acc);
    _mm512_mask_storeu_ps(out, m, acc);
}

}  // namespace

void nn_rows_avx512(int64_t r0, int64_t r1, int64_t d, int64_t q, const float *a, int64_t lda, const float *b_padded,
                    float beta, float *c, int64_t ldc) {
    const __mmask16 m = lanes(q);
    int64_t i = r0;
    for (; i + kNnRows <= r1; i += kNnRows) {
        const float *ai = a + i * lda;
        // 1-4% faster than fetching each row 512 bytes ahead into L1
        const float *next = i + 2 * kNnRows <= r1 ? ai + kNnRows * lda : nullptr;
        __m512 acc[kNnRows];
        for (int r = 0; r < kNnRows; ++r) acc[r] = _mm512_setzero_ps();
        for (int64_t k = 0; k < d; ++k) {
            prefetch_next_rows(next, kNnRows, lda, k);
            const __m512 bk = _mm512_loadu_ps(b_padded + k * 16);
            for (int r = 0; r < kNnRows; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(ai[r * lda + k]), bk, acc[r]);
        }
        for (int r = 0; r < kNnRows; ++r) store_row(c + (i + r) * ldc, acc[r], m, beta);
    }
    for (; i < r1; ++i) {
        const float *ai = a + i * lda;
        __m512 acc = _mm512_setzero_ps();
        for (int64_t k = 0; k < d; ++k) acc = _mm512_fmadd_ps(_mm512_set1_ps(ai[k]), _mm512_loadu_ps(b_padded + k * 16), acc);
        store_row(c + i * ldc, acc, m, beta);
    }
}

void tn_columns_avx512(int64_t k0, int64_t k1, int64_t rows, int64_t q, const float *a, int64_t lda, const float *b,
                       int64_t ldb, float *acc, float beta, float *c, int64_t ldc) {
    const __mmask16 m = lanes(q);
    const int64_t width = k1 - k0;
    std::memset(acc, 0, sizeof(float) * 16 * width);
    int64_t i = 0;
    for (; i + kTnRows <= rows; i += kTnRows) {
        __m512 g[kTnRows];
        for (int r = 0; r < kTnRows; ++r) g[r] = _mm512_maskz_loadu_ps(m, b + (i + r) * ldb);
        const float *ai = a + i * lda + k0;
        const float *next = i + 2 * kTnRows <= rows ? ai + kTnRows * lda : nullptr;
        int64_t k = 0;
        // two columns at a time: two independent FMA chains in flight instead of one
        for (; k + 2 <= width; k += 2) {
            prefetch_next_rows(next, kTnRows, lda, k);
            __m512 s0 = _mm512_loadu_ps(acc + k * 16), s1 = _mm512_loadu_ps(acc + k * 16 + 16);
            for (int r = 0; r < kTnRows; ++r) {
                s0 = _mm512_fmadd_ps(_mm512_set1_ps(ai[r * lda + k]), g[r], s0);
                s1 = _mm512_fmadd_ps(_mm512_set1_ps(ai[r * lda + k + 1]), g[r], s1);
            }
            _mm512_storeu_ps(acc + k * 16, s0);
            _mm512_storeu_ps(acc + k * 16 + 16, s1);
        }
        for (; k < width; ++k) {
            __m512 s = _mm512_loadu_ps(acc + k * 16);
            for (int r = 0; r < kTnRows; ++r) s = _mm512_fmadd_ps(_mm512_set1_ps(ai[r * lda + k]), g[r], s);
            _mm512_storeu_ps(acc + k * 16, s);
        }
    }
    for (; i < rows; ++i) {
        const __m512 gi = _mm512_maskz_loadu_ps(m, b + i * ldb);
        const float *ai = a + i * lda + k0;
        for (int64_t k = 0; k < width; ++k) {
            _mm512_storeu_ps(acc + k * 16, _mm512_fmadd_ps(_mm512_set1_ps(ai[k]), gi, _mm512_loadu_ps(acc + k * 16)));
        }
    }
    for (int64_t k = 0; k < width; ++k) store_row(c + (k0 + k) * ldc, _mm512_loadu_ps(acc + k * 16), m, beta);
}

}  // namespace thin
}  // namespace projntk

#pragma GCC pop_options
