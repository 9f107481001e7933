// Standalone tests of projntk_thin_gemm (native/kernel): the AVX2 and portable kernels against float64 sums, results
// independent of the thread count, and refused arguments. Exit status 0 means every check passed.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "../kernel/thin_gemm.hpp"
#include "check.hpp"
#define CHECK PROJNTK_CHECK
#include "projector.hpp"
#include "projntk.h"

// The AVX2 kernels use aligned loads of the padded b and of the scratch: 64-byte aligned storage for both.
template <class T>
struct Aligned64 {
    using value_type = T;
    Aligned64() = default;
    template <class U>
    Aligned64(const Aligned64<U> &) {}
    T *allocate(size_t n) { return static_cast<T *>(::operator new(n * sizeof(T), std::align_val_t(64))); }
    void deallocate(T *p, size_t) { ::operator delete(p, std::align_val_t(64)); }
    bool operator==(const Aligned64 &) const { return true; }
    bool operator!=(const Aligned64 &) const { return false; }
};
using AlignedVector = std::vector<float, Aligned64<float>>;

struct Case {
    int64_t rows, d, q, lda, ldb, ldc;
};

static std::vector<float> random_floats(std::mt19937 &g, size_t n) {
    std::normal_distribution<float> dist;
    std::vector<float> v(n);
    for (auto &x : v) x = dist(g);
    return v;
}

// c (out_rows x q, ldc) against beta·c0 + op(a)·b in float64, relative to the row's magnitude
static void check_against_fp64(const char *what, int trans, const Case &s, const std::vector<float> &a,
                               const std::vector<float> &b, const std::vector<float> &c0, float beta,
                               const std::vector<float> &c) {
    const int64_t out_rows = trans ? s.d : s.rows, inner = trans ? s.rows : s.d;
    double worst = 0;
    for (int64_t i = 0; i < out_rows; ++i) {
        for (int64_t j = 0; j < s.q; ++j) {
            double sum = beta * (double)c0[i * s.ldc + j], mag = std::fabs(sum);
            for (int64_t k = 0; k < inner; ++k) {
                double x = trans ? a[k * s.lda + i] : a[i * s.lda + k];
                double y = trans ? b[k * s.ldb + j] : b[k * s.ldb + j];
                sum += x * y;
                mag += std::fabs(x * y);
            }
            worst = std::fmax(worst, std::fabs(sum - c[i * s.ldc + j]) / (mag + 1e-30));
        }
        for (int64_t j = s.q; j < s.ldc; ++j) {  // padding columns of c are never written
            CHECK(c[i * s.ldc + j] == c0[i * s.ldc + j], "%s: column %lld beyond q was written", what, (long long)j);
        }
    }
    CHECK(worst < 1e-5, "%s trans=%d rows=%lld d=%lld q=%lld beta=%g: relative error %g", what, trans, (long long)s.rows,
          (long long)s.d, (long long)s.q, beta, worst);
}

static int g_simd_pairs = 0;

int main() {
    std::mt19937 g(7);
    // row counts around the kernels' row groups (4, 8, 12) and the 64-row split, q from 1 to 16
    const Case cases[] = {{1, 1, 1, 1, 1, 1},       {7, 13, 5, 13, 5, 5},         {67, 40, 8, 41, 9, 8},
                          {130, 33, 9, 35, 9, 12},   {300, 100, 10, 100, 10, 10}, {257, 64, 16, 70, 16, 16},
                          {12, 1030, 3, 1030, 3, 3}, {25, 17, 12, 20, 13, 12},    {8, 2048, 16, 2048, 16, 16}};
    for (const Case &s : cases) {
        for (int trans = 0; trans <= 1; ++trans) {
            const int64_t out_rows = trans ? s.d : s.rows;
            auto a = random_floats(g, (size_t)(s.rows * s.lda));
            auto b = random_floats(g, (size_t)((trans ? s.rows : s.d) * s.ldb));
            auto c0 = random_floats(g, (size_t)(out_rows * s.ldc));
            for (float beta : {0.0f, 1.0f}) {
                std::vector<float> c = c0;
                int rc = projntk_thin_gemm(trans, s.rows, s.d, s.q, a.data(), s.lda, b.data(), s.ldb, beta, c.data(), s.ldc);
                CHECK(rc == PROJNTK_OK, "status %d", rc);
                check_against_fp64(projntk::jl::cpu_simd(), trans, s, a, b, c0, beta, c);

                // the portable kernel on its own, over the whole range
                std::vector<float> p = c0;
                AlignedVector padded((size_t)(s.d * 16), 0.0f);
                for (int64_t k = 0; k < s.d; ++k) std::memcpy(&padded[k * 16], &b[k * s.ldb], sizeof(float) * s.q);
                AlignedVector acc((size_t)(16 * s.d));
                if (trans) {
                    projntk::thin::tn_columns_portable(0, s.d, s.rows, s.q, a.data(), s.lda, b.data(), s.ldb, acc.data(), beta,
                                                       p.data(), s.ldc);
                } else {
                    projntk::thin::nn_rows_portable(0, s.rows, s.d, s.q, a.data(), s.lda, padded.data(), beta, p.data(), s.ldc);
                }
                check_against_fp64("portable", trans, s, a, b, c0, beta, p);

                // AVX-512 and AVX2 run the same chain of FMAs for every output element: the same bits
                if (std::strcmp(projntk::jl::cpu_simd(), "avx512") == 0) {
                    std::vector<float> v2 = c0, v512 = c0;
                    if (trans) {
                        projntk::thin::tn_columns_avx2(0, s.d, s.rows, s.q, a.data(), s.lda, b.data(), s.ldb, acc.data(), beta,
                                                       v2.data(), s.ldc);
                        projntk::thin::tn_columns_avx512(0, s.d, s.rows, s.q, a.data(), s.lda, b.data(), s.ldb, acc.data(),
                                                         beta, v512.data(), s.ldc);
                    } else {
                        projntk::thin::nn_rows_avx2(0, s.rows, s.d, s.q, a.data(), s.lda, padded.data(), beta, v2.data(), s.ldc);
                        projntk::thin::nn_rows_avx512(0, s.rows, s.d, s.q, a.data(), s.lda, padded.data(), beta, v512.data(),
                                                      s.ldc);
                    }
                    check_against_fp64("avx512", trans, s, a, b, c0, beta, v512);
                    CHECK(std::memcmp(v2.data(), v512.data(), sizeof(float) * v2.size()) == 0,
                          "trans=%d rows=%lld d=%lld q=%lld: AVX-512 and AVX2 bits differ", trans, (long long)s.rows,
                          (long long)s.d, (long long)s.q);
                    ++g_simd_pairs;
                }

                // the same bits with one thread as with four
                std::vector<float> one = c0, four = c0;
                omp_set_num_threads(1);
                projntk_thin_gemm(trans, s.rows, s.d, s.q, a.data(), s.lda, b.data(), s.ldb, beta, one.data(), s.ldc);
                omp_set_num_threads(4);
                projntk_thin_gemm(trans, s.rows, s.d, s.q, a.data(), s.lda, b.data(), s.ldb, beta, four.data(), s.ldc);
                omp_set_num_threads(2);
                CHECK(std::memcmp(one.data(), four.data(), sizeof(float) * one.size()) == 0,
                      "trans=%d rows=%lld: results differ between 1 and 4 threads", trans, (long long)s.rows);
            }
        }
    }
    float x[4] = {0}, y[4] = {0}, z[4] = {0};
    CHECK(projntk_thin_gemm(0, 1, 1, 17, x, 1, y, 17, 0, z, 17) == PROJNTK_ERR_INVALID_ARGUMENT, "q = 17 accepted");
    CHECK(projntk_thin_gemm(2, 1, 1, 1, x, 1, y, 1, 0, z, 1) == PROJNTK_ERR_INVALID_ARGUMENT, "trans_a = 2 accepted");
    CHECK(projntk_thin_gemm(0, 2, 3, 1, x, 2, y, 1, 0, z, 1) == PROJNTK_ERR_INVALID_ARGUMENT, "lda < d accepted");
    CHECK(projntk_thin_gemm(0, 1, 1, 1, nullptr, 1, y, 1, 0, z, 1) == PROJNTK_ERR_INVALID_ARGUMENT, "NULL a accepted");
    std::printf("test_thin: %d checks, %d failures (simd: %s, %d AVX-512/AVX2 comparisons)\n", g_checks, g_failures,
                projntk::jl::cpu_simd(), g_simd_pairs);
    return g_failures == 0 ? 0 : 1;
}
