// projntk_thin_gemm: argument checks, the AVX-512, AVX2 or portable kernel, and the split over OpenMP threads. Every
// output element is summed in the same order whatever the thread count (rows of A·B are independent; Aᵀ·B is split over
// its output rows, each summed over all of A's rows in order), so results do not depend on the number of threads.
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "projector.hpp"
#include "status.hpp"
#include "thin_gemm.hpp"

namespace {

using projntk::require;
namespace thin = projntk::thin;

struct AlignedFree {
    void operator()(float *p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float, AlignedFree>;

// zeroed: whether the caller needs zeros (padding that the kernels read) rather than scratch they overwrite first.
AlignedFloats aligned_floats(int64_t count, bool zeroed) {
    size_t bytes = ((size_t)count * sizeof(float) + 31) / 32 * 32;
    float *p = static_cast<float *>(std::aligned_alloc(32, bytes == 0 ? 32 : bytes));
    if (!p) throw std::bad_alloc();
    if (zeroed) std::memset(p, 0, bytes);
    return AlignedFloats(p);
}

enum class Simd { kNone, kAvx2, kAvx512 };

// The instruction set of the projector's kernels (PROJNTK_SIMD=avx2 forces AVX2 for both).
Simd simd() {
    const char *s = projntk::jl::cpu_simd();
    return std::strcmp(s, "avx512") == 0 ? Simd::kAvx512 : std::strcmp(s, "avx2") == 0 ? Simd::kAvx2 : Simd::kNone;
}

}  // namespace

namespace projntk {
namespace thin {

void nn_rows_portable(int64_t r0, int64_t r1, int64_t d, int64_t q, const float *a, int64_t lda, const float *b_padded,
                      float beta, float *c, int64_t ldc) {
    for (int64_t i = r0; i < r1; ++i) {
        float acc[kMaxColumns] = {0};
        for (int64_t k = 0; k < d; ++k) {
            const float x = a[i * lda + k];
            for (int64_t j = 0; j < q; ++j) acc[j] += x * b_padded[k * 16 + j];
        }
        for (int64_t j = 0; j < q; ++j) c[i * ldc + j] = (beta != 0.0f ? beta * c[i * ldc + j] : 0.0f) + acc[j];
    }
}

void tn_columns_portable(int64_t k0, int64_t k1, int64_t rows, int64_t q, const float *a, int64_t lda, const float *b,
                         int64_t ldb, float *acc, float beta, float *c, int64_t ldc) {
    std::memset(acc, 0, sizeof(float) * 16 * (k1 - k0));
    for (int64_t i = 0; i < rows; ++i) {
        for (int64_t k = k0; k < k1; ++k) {
            const float x = a[i * lda + k];
            for (int64_t j = 0; j < q; ++j) acc[(k - k0) * 16 + j] += x * b[i * ldb + j];
        }
    }
    for (int64_t k = k0; k < k1; ++k) {
        for (int64_t j = 0; j < q; ++j) c[k * ldc + j] = (beta != 0.0f ? beta * c[k * ldc + j] : 0.0f) + acc[(k - k0) * 16 + j];
    }
}

}  // namespace thin
}  // namespace projntk

extern "C" {

int projntk_thin_gemm(int32_t trans_a, int64_t rows, int64_t d, int64_t q, const float *a, int64_t lda, const float *b,
                      int64_t ldb, float beta, float *c, int64_t ldc) {
    return projntk::guarded("projntk_thin_gemm", [&] {
        require(trans_a == 0 || trans_a == 1, "trans_a must be 0 or 1, got " + std::to_string(trans_a));
        require(rows >= 0 && d >= 0, "negative shape " + std::to_string(rows) + " x " + std::to_string(d));
        require(q >= 1 && q <= thin::kMaxColumns, "q must be in [1, 16], got " + std::to_string(q));
        require(lda >= d && ldb >= q && ldc >= q, "a leading dimension is smaller than its row");
        const int64_t out_rows = trans_a ? d : rows;
        if (out_rows == 0) return;
        require(c != nullptr && (rows == 0 || d == 0 || (a != nullptr && b != nullptr)), "a, b and c must not be NULL");
        const Simd isa = simd();
        if (!trans_a) {
            AlignedFloats padded = aligned_floats(d * 16, true);  // lanes >= q are loaded too: zeros, never NaN
            for (int64_t k = 0; k < d; ++k) std::memcpy(padded.get() + k * 16, b + k * ldb, sizeof(float) * (size_t)q);
            const int64_t chunk = 64;
            const int64_t chunks = (rows + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
            for (int64_t t = 0; t < chunks; ++t) {
                const int64_t r0 = t * chunk, r1 = r0 + chunk < rows ? r0 + chunk : rows;
                if (isa == Simd::kAvx512) {
                    thin::nn_rows_avx512(r0, r1, d, q, a, lda, padded.get(), beta, c, ldc);
                } else if (isa == Simd::kAvx2) {
                    thin::nn_rows_avx2(r0, r1, d, q, a, lda, padded.get(), beta, c, ldc);
                } else {
                    thin::nn_rows_portable(r0, r1, d, q, a, lda, padded.get(), beta, c, ldc);
                }
            }
            return;
        }
        const int threads = omp_get_max_threads() < 1 ? 1 : omp_get_max_threads();
        AlignedFloats acc = aligned_floats(16 * d, false);  // each kernel clears its own columns
#pragma omp parallel num_threads(threads)
        {
            const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
            // column ranges in multiples of 8, so every thread's scratch starts 32-byte aligned
            const int64_t blocks = (d + 7) / 8;
            const int64_t k0 = std::min<int64_t>(d, blocks * t / n * 8), k1 = std::min<int64_t>(d, blocks * (t + 1) / n * 8);
            float *scratch = acc.get() + 16 * k0;
            if (k1 > k0) {
                if (isa == Simd::kAvx512) {
                    thin::tn_columns_avx512(k0, k1, rows, q, a, lda, b, ldb, scratch, beta, c, ldc);
                } else if (isa == Simd::kAvx2) {
                    thin::tn_columns_avx2(k0, k1, rows, q, a, lda, b, ldb, scratch, beta, c, ldc);
                } else {
                    thin::tn_columns_portable(k0, k1, rows, q, a, lda, b, ldb, scratch, beta, c, ldc);
                }
            }
        }
    });
}

}  // extern "C"
