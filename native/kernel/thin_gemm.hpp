// Products of a tall float32 matrix with a thin one (q <= 16 columns): the kernel GLM's K·W and Fᵀ·G. OpenBLAS packs
// the tall operand for these shapes and streams it at a fraction of memory bandwidth; these kernels read it once.
#pragma once

#include <xmmintrin.h>

#include <cstdint>

namespace projntk {
namespace thin {

constexpr int64_t kMaxColumns = 16;

// Column k (once per 16 columns, one cache line) of `rows` rows from `next` (row stride lda) into L2: the kernels stream
// a group of rows at a time, and each row of the next group is a fresh stream that the hardware prefetcher would
// otherwise have to pick up again. next == nullptr: the current group is the last.
inline void prefetch_next_rows(const float *next, int rows, int64_t lda, int64_t k) {
    if (next == nullptr || (k & 15) != 0) return;
    for (int r = 0; r < rows; ++r) _mm_prefetch((const char *)(next + r * lda + k), _MM_HINT_T1);
}

// c[i, 0:q] (+)= Σ_k a[i, k] · b[k, 0:q] for rows [r0, r1); b_padded is d x 16 (zero beyond q).
void nn_rows_avx2(int64_t r0, int64_t r1, int64_t d, int64_t q, const float *a, int64_t lda, const float *b_padded,
                  float beta, float *c, int64_t ldc);
// c[k, 0:q] (+)= Σ_i a[i, k] · b[i, 0:q] for columns [k0, k1), summed over i in order; acc: 32-byte aligned scratch
// of 16 x (k1 - k0) floats.
void tn_columns_avx2(int64_t k0, int64_t k1, int64_t rows, int64_t q, const float *a, int64_t lda, const float *b,
                     int64_t ldb, float *acc, float beta, float *c, int64_t ldc);

// The same with AVX-512F, bit-identical to the AVX2 kernels.
void nn_rows_avx512(int64_t r0, int64_t r1, int64_t d, int64_t q, const float *a, int64_t lda, const float *b_padded,
                    float beta, float *c, int64_t ldc);
void tn_columns_avx512(int64_t k0, int64_t k1, int64_t rows, int64_t q, const float *a, int64_t lda, const float *b,
                       int64_t ldb, float *acc, float beta, float *c, int64_t ldc);

// The same for CPUs without AVX2 and FMA.
void nn_rows_portable(int64_t r0, int64_t r1, int64_t d, int64_t q, const float *a, int64_t lda, const float *b_padded,
                      float beta, float *c, int64_t ldc);
void tn_columns_portable(int64_t k0, int64_t k1, int64_t rows, int64_t q, const float *a, int64_t lda, const float *b,
                         int64_t ldb, float *acc, float beta, float *c, int64_t ldc);

}  // namespace thin
}  // namespace projntk
