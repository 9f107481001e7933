// Standalone tests of the projector C API (native/jl). Exit status 0 means every check passed.
// References are float64 sums over projntk_projector_entry, or independent statistics.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifdef PROJNTK_WITH_CUDA
#include <cuda_runtime.h>
#endif

#include "philox.h"
#include "projector.hpp"
#include "projntk.h"
#include "transfer.hpp"
#include "check.hpp"
#define CHECK PROJNTK_CHECK

static const char *kind_name(int kind) {
    static const char *names[] = {"rademacher", "gaussian", "sjlt", "none"};
    return names[kind];
}

struct Proj {
    projntk_projector *p = nullptr;
    Proj(int kind, int64_t P, int64_t K, int64_t seed = 7, int64_t model = 3, int s = 4, int flags = 0) {
        int rc = projntk_projector_new(kind, P, K, seed, model, s, flags, PROJNTK_DEVICE_CPU, &p);
        if (rc != PROJNTK_OK) std::printf("projector_new failed: %s\n", last_error().c_str());
    }
    ~Proj() { projntk_projector_free(p); }
};

static std::vector<float> random_matrix(int64_t n, uint64_t seed, float scale = 1.0f) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (auto &x : v) x = dist(rng);
    return v;
}

// out[B x K] in float64 from entry(); `offset` shifts the parameter index.
static std::vector<double> reference(projntk_projector *pr, const std::vector<float> &x, int64_t B, int64_t cols,
                                     int64_t K, int64_t offset = 0) {
    std::vector<double> R(cols * K);
    for (int64_t p = 0; p < cols; ++p)
        for (int64_t k = 0; k < K; ++k) {
            float v;
            projntk_projector_entry(pr, offset + p, k, &v);
            R[p * K + k] = v;
        }
    std::vector<double> out(B * K, 0.0);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t p = 0; p < cols; ++p)
            for (int64_t k = 0; k < K; ++k) out[b * K + k] += (double)x[b * cols + p] * R[p * K + k];
    return out;
}

static double rel_err(const std::vector<float> &a, const std::vector<double> &ref) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (a[i] - ref[i]) * (a[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

static double rel_err_f(const std::vector<float> &a, const std::vector<float> &b) {
    std::vector<double> d(b.begin(), b.end());
    return rel_err(a, d);
}

static void test_philox_known_answers() {
    using namespace projntk::jl;
    struct Kat {
        uint32_t c[4], k[2], r[4];
    } kats[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}, {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (auto &t : kats) {
        Philox4 r = philox4x32_10(t.c[0], t.c[1], t.c[2], t.c[3], t.k[0], t.k[1]);
        for (int i = 0; i < 4; ++i) CHECK(r.v[i] == t.r[i], "word %d: %08x != %08x", i, r.v[i], t.r[i]);
    }
}

// The libm-free Box-Muller pieces against libm in double.
static void test_gaussian_construction() {
    using namespace projntk::jl;
    std::mt19937 rng(1);
    double worst_r = 0, worst_cs = 0;
    for (int i = 0; i < 200000; ++i) {
        uint32_t w = rng();
        if (i < 256) w = (uint32_t)i << 24 | (i & 1 ? 0xFFFFFFu : 0);  // edges: u = 1, tiny u
        double u = ((w >> 8) + 1.0) / 16777216.0;
        double r = std::sqrt(-2 * std::log(u));
        float got = box_muller_radius(w);
        worst_r = std::fmax(worst_r, std::fabs(got - r) / std::fmax(r, 1e-3));
        float c, s;
        unit_circle(w, &c, &s);
        double a = 2 * M_PI * (w >> 8) / 16777216.0;
        worst_cs = std::fmax(worst_cs, std::fmax(std::fabs(c - std::cos(a)), std::fabs(s - std::sin(a))));
    }
    CHECK(worst_r < 2e-6, "radius rel err %g", worst_r);
    CHECK(worst_cs < 2e-7, "sin/cos abs err %g", worst_cs);
}

static void test_bad_arguments() {
    projntk_projector *p = nullptr;
    std::string saved;
    auto rc = [&](int kind, int64_t P, int64_t K, int s, int flags, int dev) {
        projntk_projector *q = nullptr;
        int r = projntk_projector_new(kind, P, K, 1, 1, s, flags, dev, &q);
        std::string message = last_error();
        projntk_projector_free(q);
        saved = message;
        return r;
    };
    CHECK(rc(9, 10, 5, 1, 0, 0) == PROJNTK_ERR_INVALID_ARGUMENT, "bad kind");
    CHECK(saved.find("kind") != std::string::npos, "message names the kind: %s", saved.c_str());
    CHECK(rc(0, 0, 5, 1, 0, 0) == PROJNTK_ERR_INVALID_ARGUMENT, "P=0");
    CHECK(rc(0, 10, 0, 1, 0, 0) == PROJNTK_ERR_INVALID_ARGUMENT, "K=0");
    CHECK(rc(0, 10, -3, 1, 0, 0) == PROJNTK_ERR_INVALID_ARGUMENT, "K<0");
    CHECK(rc(3, 10, 5, 1, 0, 0) == PROJNTK_ERR_INVALID_ARGUMENT, "NONE with K != P");
    CHECK(rc(2, 10, 5, 0, 0, 0) == PROJNTK_ERR_INVALID_ARGUMENT, "SJLT s=0");
    CHECK(rc(0, 10, 5, 0, 64, 0) == PROJNTK_ERR_INVALID_ARGUMENT, "unknown flag");
    CHECK(rc(0, 10, 5, 0, 0, 5) == PROJNTK_ERR_INVALID_ARGUMENT, "unknown device");
    CHECK(rc(0, 10, 5, 0, 0, -1) == PROJNTK_ERR_INVALID_ARGUMENT, "negative device");
    CHECK(rc(0, 10, 5, 0, 0, PROJNTK_DEVICE_CPU | (2 << PROJNTK_DEVICE_ORDINAL_SHIFT)) == PROJNTK_ERR_INVALID_ARGUMENT,
          "cpu with an ordinal");
    CHECK(saved.find("ordinal 2") != std::string::npos, "message names the ordinal: %s", saved.c_str());
#ifndef PROJNTK_WITH_CUDA
    CHECK(rc(0, 10, 5, 0, 0, PROJNTK_DEVICE_CUDA) == PROJNTK_ERR_UNSUPPORTED, "CUDA in a CPU build");
    CHECK(saved.find("CUDA") != std::string::npos, "message: %s", saved.c_str());
    CHECK(rc(0, 10, 5, 0, 0, PROJNTK_DEVICE_CUDA | (3 << PROJNTK_DEVICE_ORDINAL_SHIFT)) == PROJNTK_ERR_UNSUPPORTED,
          "CUDA device 3 in a CPU build");
    CHECK(saved.find("cuda:3") != std::string::npos, "message names the GPU: %s", saved.c_str());
#else
    {
        CHECK(rc(0, 10, 5, 0, 0, PROJNTK_DEVICE_CUDA | (4096 << PROJNTK_DEVICE_ORDINAL_SHIFT)) ==
                  PROJNTK_ERR_INVALID_ARGUMENT,
              "a GPU this machine lacks");
        CHECK(saved.find("cuda:4096") != std::string::npos, "message names the GPU: %s", saved.c_str());
    }
#endif
    CHECK(projntk_projector_new(0, 10, 5, 1, 1, 0, 0, 0, nullptr) == PROJNTK_ERR_INVALID_ARGUMENT, "null out");
    CHECK(projntk_projector_free(nullptr) == PROJNTK_OK, "free(NULL)");

    CHECK_OK(projntk_projector_new(0, 10, 5, 1, 1, 0, 0, 0, &p));
    float v, out[50] = {0}, x[50] = {0};
    int64_t P, K;
    CHECK_OK(projntk_projector_dims(p, &P, &K));
    CHECK(P == 10 && K == 5, "dims %lld %lld", (long long)P, (long long)K);
    int32_t dev = -1;
    CHECK_OK(projntk_projector_device(p, &dev));
    CHECK(dev == PROJNTK_DEVICE_CPU, "device %d", dev);
    CHECK(projntk_projector_device(p, nullptr) == PROJNTK_ERR_INVALID_ARGUMENT, "null out_device");
    CHECK(projntk_projector_entry(p, 10, 0, &v) == PROJNTK_ERR_INVALID_ARGUMENT, "p out of range");
    CHECK(projntk_projector_entry(p, 0, 5, &v) == PROJNTK_ERR_INVALID_ARGUMENT, "k out of range");
    CHECK(projntk_projector_entry(p, -1, 0, &v) == PROJNTK_ERR_INVALID_ARGUMENT, "p < 0");
    CHECK(projntk_projector_entry(nullptr, 0, 0, &v) == PROJNTK_ERR_INVALID_ARGUMENT, "null projector");
    CHECK(projntk_projector_accumulate(p, x, 1, 6, 5, out) == PROJNTK_ERR_INVALID_ARGUMENT, "offset+cols > P");
    CHECK(last_error().find("exceeds P") != std::string::npos, "message: %s", last_error().c_str());
    CHECK(projntk_projector_accumulate(p, x, -1, 2, 0, out) == PROJNTK_ERR_INVALID_ARGUMENT, "rows < 0");
    CHECK(projntk_projector_accumulate(p, x, 1, 2, -1, out) == PROJNTK_ERR_INVALID_ARGUMENT, "offset < 0");
    CHECK(projntk_projector_accumulate(p, nullptr, 1, 2, 0, out) == PROJNTK_ERR_INVALID_ARGUMENT, "null block");
    CHECK(projntk_project(p, x, 1, 9, out) == PROJNTK_ERR_INVALID_ARGUMENT, "P mismatch");
    CHECK(projntk_project(p, x, 0, 10, out) == PROJNTK_ERR_INVALID_ARGUMENT, "B=0");
    CHECK(projntk_project(p, x, 1, 10, nullptr) == PROJNTK_ERR_INVALID_ARGUMENT, "null out");
    CHECK_OK(projntk_projector_accumulate(p, x, 0, 0, 0, out));  // empty block: no-op
    projntk_projector_free(p);
}

static void test_against_reference() {
    struct Shape {
        int64_t B, P, K;
    } shapes[] = {{1, 1, 1}, {1, 37, 1}, {3, 37, 5}, {5, 300, 130}, {9, 1001, 513}, {17, 257, 1000}, {2, 5, 4100}};
    for (int kind = 0; kind < 4; ++kind)
        for (auto sh : shapes) {
            int64_t K = kind == PROJNTK_PROJ_NONE ? sh.P : sh.K;
            for (int flags : {0, (int)PROJNTK_PROJ_UNSCALED}) {
                Proj pr(kind, sh.P, K, 11, 5, 3, flags);
                auto x = random_matrix(sh.B * sh.P, 100 + sh.P);
                std::vector<float> out(sh.B * K, -1.0f);
                CHECK_OK(projntk_project(pr.p, x.data(), sh.B, sh.P, out.data()));
                auto ref = reference(pr.p, x, sh.B, sh.P, K);
                double e = rel_err(out, ref);
                CHECK(e < 2e-6 * std::sqrt((double)sh.P) + 1e-6, "%s B=%lld P=%lld K=%lld flags=%d rel err %g",
                      kind_name(kind), (long long)sh.B, (long long)sh.P, (long long)K, flags, e);
            }
        }
}

static void test_entries_and_scaling() {
    const int64_t P = 50, K = 300;
    for (int kind = 0; kind < 3; ++kind) {
        Proj s(kind, P, K, 1, 2, 5, 0), u(kind, P, K, 1, 2, 5, PROJNTK_PROJ_UNSCALED);
        double ratio = kind == PROJNTK_PROJ_SJLT ? std::sqrt(5.0) : std::sqrt((double)K);
        int nonzero_rows_ok = 0;
        for (int64_t p = 0; p < P; ++p) {
            int nnz = 0;
            for (int64_t k = 0; k < K; ++k) {
                float a, b;
                projntk_projector_entry(s.p, p, k, &a);
                projntk_projector_entry(u.p, p, k, &b);
                CHECK(std::fabs(a * ratio - b) <= 1e-5 * std::fabs(b) + 1e-6, "%s unscaled/scaled %g %g",
                      kind_name(kind), a, b);
                if (kind == PROJNTK_PROJ_RADEMACHER) CHECK(b == 1.0f || b == -1.0f, "rademacher entry %g", b);
                if (b != 0) ++nnz;
            }
            if (kind == PROJNTK_PROJ_SJLT) nonzero_rows_ok += nnz == 5;
        }
        if (kind == PROJNTK_PROJ_SJLT) CHECK(nonzero_rows_ok == P, "every SJLT row has s=5 nonzeros");
    }
    // SJLT clamps s to K, giving a signed permutation-like dense row when s == K.
    Proj c(PROJNTK_PROJ_SJLT, 4, 3, 1, 1, 10, PROJNTK_PROJ_UNSCALED);
    for (int64_t k = 0; k < 3; ++k) {
        float v;
        projntk_projector_entry(c.p, 2, k, &v);
        CHECK(std::fabs(v) == 1.0f, "clamped SJLT entry %g", v);
    }
    // Different seeds and model ids give different matrices; the same ones the same.
    float a, b, d;
    Proj r1(0, 10, 300, 1, 1), r2(0, 10, 300, 1, 2), r3(0, 10, 300, 1, 1);
    int diff = 0;
    for (int k = 0; k < 300; ++k) {
        projntk_projector_entry(r1.p, 3, k, &a);
        projntk_projector_entry(r2.p, 3, k, &b);
        projntk_projector_entry(r3.p, 3, k, &d);
        diff += a != b;
        CHECK(a == d, "same seed, same entry");
    }
    CHECK(diff > 100, "model id changes the matrix (%d of 300 differ)", diff);
    // Gaussian entries look like N(0,1).
    Proj g(PROJNTK_PROJ_GAUSSIAN, 1000, 200, 9, 9, 1, PROJNTK_PROJ_UNSCALED);
    double m1 = 0, m2 = 0, m4 = 0;
    int n = 0;
    for (int64_t p = 0; p < 1000; ++p)
        for (int64_t k = 0; k < 200; ++k) {
            projntk_projector_entry(g.p, p, k, &a);
            m1 += a, m2 += a * a, m4 += (double)a * a * a * a, ++n;
        }
    m1 /= n, m2 /= n, m4 /= n;
    CHECK(std::fabs(m1) < 0.01 && std::fabs(m2 - 1) < 0.015 && std::fabs(m4 - 3) < 0.1, "gaussian moments %g %g %g",
          m1, m2, m4);
}

static void test_determinism_threads_batches() {
    const int64_t B = 11, P = 3001, K = 777;
    auto x = random_matrix(B * P, 5);
    for (int kind = 0; kind < 3; ++kind) {
        Proj pr(kind, P, K, 3, 4, 7);
        std::vector<float> o1(B * K), o2(B * K), o3(B * K);
        int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        CHECK_OK(projntk_project(pr.p, x.data(), B, P, o1.data()));
        omp_set_num_threads(2);
        CHECK_OK(projntk_project(pr.p, x.data(), B, P, o2.data()));
        omp_set_num_threads(3);
        CHECK_OK(projntk_project(pr.p, x.data(), B, P, o3.data()));
        omp_set_num_threads(saved);
        CHECK(std::memcmp(o1.data(), o2.data(), o1.size() * 4) == 0, "%s: 1 vs 2 threads differ", kind_name(kind));
        CHECK(std::memcmp(o1.data(), o3.data(), o1.size() * 4) == 0, "%s: 1 vs 3 threads differ", kind_name(kind));
        // Each row alone, and rows in sub-batches, give bit-identical rows.
        for (int64_t b = 0; b < B; ++b) {
            std::vector<float> one(K);
            CHECK_OK(projntk_project(pr.p, x.data() + b * P, 1, P, one.data()));
            CHECK(std::memcmp(one.data(), o1.data() + b * K, K * 4) == 0, "%s: row %lld alone differs",
                  kind_name(kind), (long long)b);
        }
        std::vector<float> sub(3 * K);
        CHECK_OK(projntk_project(pr.p, x.data() + 4 * P, 3, P, sub.data()));
        CHECK(std::memcmp(sub.data(), o1.data() + 4 * K, 3 * K * 4) == 0, "%s: sub-batch differs", kind_name(kind));

        // Chunking: accumulate random column chunks at their global offsets, in shuffled order.
        std::mt19937 rng(kind);
        std::vector<int64_t> cuts = {0, P};
        for (int i = 0; i < 6; ++i) cuts.push_back(1 + rng() % (P - 1));
        std::sort(cuts.begin(), cuts.end());
        std::vector<std::pair<int64_t, int64_t>> chunks;
        for (size_t i = 0; i + 1 < cuts.size(); ++i)
            if (cuts[i + 1] > cuts[i]) chunks.push_back({cuts[i], cuts[i + 1]});
        std::shuffle(chunks.begin(), chunks.end(), rng);
        std::vector<float> acc(B * K, 0.0f);
        for (auto [c0, c1] : chunks) {
            std::vector<float> blk(B * (c1 - c0));
            for (int64_t b = 0; b < B; ++b)
                std::memcpy(&blk[b * (c1 - c0)], &x[b * P + c0], (c1 - c0) * 4);
            CHECK_OK(projntk_projector_accumulate(pr.p, blk.data(), B, c1 - c0, c0, acc.data()));
        }
        double e = rel_err_f(acc, o1);
        CHECK(e < 1e-5, "%s: chunked vs whole rel err %g", kind_name(kind), e);
    }
}

// AVX2 and AVX-512 paths run the same FMA chains, so they agree bit for bit.
static void test_isa_paths_agree() {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl")) {
        std::printf("skip: no AVX-512 on this CPU\n");
        return;
    }
    const int64_t B = 13, P = 700, K = 300;
    auto x = random_matrix(B * P, 9);
    for (int kind = 0; kind < 3; ++kind) {
        Proj pr(kind, P, K, 1, 1, 3);
        std::vector<float> a(B * K, 0.5f), b(B * K, 0.5f);
        bool ok1, ok2;
        if (kind == PROJNTK_PROJ_SJLT) {
            ok1 = projntk::jl::avx2::sjlt_accumulate(pr.p->spec, x.data(), B, P, 0, a.data());
            ok2 = projntk::jl::avx512::sjlt_accumulate(pr.p->spec, x.data(), B, P, 0, b.data());
        } else {
            ok1 = projntk::jl::avx2::dense_accumulate(pr.p->spec, x.data(), B, P, 0, a.data());
            ok2 = projntk::jl::avx512::dense_accumulate(pr.p->spec, x.data(), B, P, 0, b.data());
        }
        CHECK(ok1 && ok2, "kernels ran");
        CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0, "%s: avx2 vs avx512 differ", kind_name(kind));
    }
}

// The kernels' R is entry()'s R bit for bit: x = identity rows make out[b, :] = R[offset + b, :] exactly
// (fma(1, r, 0) = r and fma(0, r, acc) = acc). Both instruction sets, K tails of every width, p near 2^32 and 2^40.
static void test_kernel_entries_exact() {
    __builtin_cpu_init();
    const bool wide = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    const int64_t P = int64_t(1) << 41, B = 24;
    std::vector<float> eye(B * B, 0.0f);
    for (int64_t b = 0; b < B; ++b) eye[b * B + b] = 1.0f;
    for (int kind : {PROJNTK_PROJ_RADEMACHER, PROJNTK_PROJ_GAUSSIAN})
        for (int64_t K : {1, 5, 37, 64, 100, 130, 513, 1000, 2053})
            for (int64_t off : {int64_t(0), (int64_t(1) << 32) - 11, (int64_t(1) << 40) - 7}) {
                Proj pr(kind, P, K, 21, 8);
                for (int isa = 0; isa < (wide ? 2 : 1); ++isa) {
                    std::vector<float> out(B * K, 0.0f);
                    bool ok = isa ? projntk::jl::avx512::dense_accumulate(pr.p->spec, eye.data(), B, B, off, out.data())
                                  : projntk::jl::avx2::dense_accumulate(pr.p->spec, eye.data(), B, B, off, out.data());
                    CHECK(ok, "kernel ran");
                    int64_t bad = 0, first = -1;
                    for (int64_t b = 0; b < B; ++b)
                        for (int64_t k = 0; k < K; ++k) {
                            float v;
                            projntk_projector_entry(pr.p, off + b, k, &v);
                            if (out[b * K + k] != v && bad++ == 0) first = b * K + k;
                        }
                    CHECK(bad == 0, "%s %s K=%lld offset=%lld: %lld entries differ, first at row %lld col %lld",
                          kind_name(kind), isa ? "avx512" : "avx2", (long long)K, (long long)off, (long long)bad,
                          (long long)(first / K), (long long)(first % K));
                }
            }
}

static void test_huge_offsets() {
    const int64_t P = int64_t(1) << 40, K = 37, B = 3, cols = 300;
    for (int kind = 0; kind < 3; ++kind) {
        Proj pr(kind, P, K, 5, 6, 2);
        for (int64_t off : {P - cols, (int64_t(1) << 32) - 100}) {
            auto x = random_matrix(B * cols, off % 1000);
            std::vector<float> out(B * K, 0.0f);
            CHECK_OK(projntk_projector_accumulate(pr.p, x.data(), B, cols, off, out.data()));
            auto ref = reference(pr.p, x, B, cols, K, off);
            double e = rel_err(out, ref);
            CHECK(e < 1e-5, "%s offset %lld rel err %g", kind_name(kind), (long long)off, e);
        }
    }
}

static void test_nonfinite() {
    const int64_t B = 4, P = 20, K = 8;
    Proj pr(0, P, K);
    auto x = random_matrix(B * P, 1);
    std::vector<float> out(B * K, 2.0f);
    x[2 * P + 5] = NAN;
    CHECK(projntk_project(pr.p, x.data(), B, P, out.data()) == PROJNTK_ERR_NONFINITE, "NaN");
    CHECK(last_error().find("row 2, column 5") != std::string::npos, "message: %s", last_error().c_str());
    x[2 * P + 5] = 0;
    x[3 * P + 1] = -INFINITY;
    CHECK(projntk_projector_accumulate(pr.p, x.data() + 3 * P, 1, 10, 7, out.data()) == PROJNTK_ERR_NONFINITE, "Inf");
    CHECK(last_error().find("row 0, column 1 (parameter 8)") != std::string::npos, "message: %s",
          last_error().c_str());
    bool untouched = true;
    for (float v : out) untouched = untouched && v == 2.0f;
    CHECK(untouched, "out untouched on failure");
    Proj nc(0, P, K, 7, 3, 4, PROJNTK_PROJ_NO_CHECK);
    CHECK_OK(projntk_project(nc.p, x.data(), B, P, out.data()));
}

static void test_identity() {
    const int64_t B = 3, P = 41;
    Proj pr(PROJNTK_PROJ_NONE, P, P);
    auto x = random_matrix(B * P, 4);
    std::vector<float> out(B * P);
    CHECK_OK(projntk_project(pr.p, x.data(), B, P, out.data()));
    CHECK(out == x, "identity copies");
    std::vector<float> acc(B * P, 1.0f), blk(B * 5);
    for (int64_t b = 0; b < B; ++b)
        for (int c = 0; c < 5; ++c) blk[b * 5 + c] = x[b * P + 10 + c];
    CHECK_OK(projntk_projector_accumulate(pr.p, blk.data(), B, 5, 10, acc.data()));
    bool ok = true;
    for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < P; ++c)
            ok = ok && acc[b * P + c] == (c >= 10 && c < 15 ? 1.0f + x[b * P + c] : 1.0f);
    CHECK(ok, "identity accumulate adds the block columns at the offset");
}

// JL statistics over seeds. For a dense ±1 or N(0,1) matrix scaled by 1/sqrt(K):
//   E||Rx||^2 = ||x||^2, Var||Rx||^2 <= 2||x||^4/K (Gaussian: equality; Rademacher: 2(||x||^4-sum x^4)/K),
//   E<Rx,Ry> = <x,y>, Var <= (||x||^2||y||^2 + <x,y>^2)/K.
// The block SJLT has the same bound (s nonzeros, one per block of K/s columns). We check the sample
// mean within 4.5 standard errors, and the sample variance below 1.35x the bound (the sample variance
// of 400 draws has ~7% relative spread) and, for Gaussian, above 0.7x.
static void test_jl_statistics() {
    const int64_t P = 512, K = 64, seeds = 400;
    auto x = random_matrix(2 * P, 77);
    for (int64_t p = 0; p < P; ++p) x[P + p] = 0.6f * x[p] + 0.8f * x[P + p];  // correlated y
    double xx = 0, yy = 0, xy = 0;
    for (int64_t p = 0; p < P; ++p) xx += x[p] * x[p], yy += x[P + p] * x[P + p], xy += x[p] * x[P + p];
    for (int kind = 0; kind < 3; ++kind) {
        std::vector<double> nn, ip;
        for (int64_t seed = 0; seed < seeds; ++seed) {
            Proj pr(kind, P, K, seed, 42, 4);
            std::vector<float> out(2 * K);
            CHECK_OK(projntk_project(pr.p, x.data(), 2, P, out.data()));
            double a = 0, c = 0;
            for (int64_t k = 0; k < K; ++k) a += out[k] * out[k], c += out[k] * out[K + k];
            nn.push_back(a);
            ip.push_back(c);
        }
        auto stats = [](const std::vector<double> &v, double &mean, double &var) {
            mean = 0;
            for (double d : v) mean += d;
            mean /= v.size();
            var = 0;
            for (double d : v) var += (d - mean) * (d - mean);
            var /= v.size() - 1;
        };
        double mn, vn, mi, vi;
        stats(nn, mn, vn);
        stats(ip, mi, vi);
        double bn = 2 * xx * xx / K, bi = (xx * yy + xy * xy) / K;
        CHECK(std::fabs(mn - xx) < 4.5 * std::sqrt(bn / seeds), "%s: mean |Rx|^2 %g vs %g", kind_name(kind), mn, xx);
        CHECK(std::fabs(mi - xy) < 4.5 * std::sqrt(bi / seeds), "%s: mean <Rx,Ry> %g vs %g", kind_name(kind), mi, xy);
        CHECK(vn < 1.35 * bn, "%s: var |Rx|^2 %g, bound %g", kind_name(kind), vn, bn);
        CHECK(vi < 1.35 * bi, "%s: var <Rx,Ry> %g, bound %g", kind_name(kind), vi, bi);
        if (kind == PROJNTK_PROJ_GAUSSIAN) CHECK(vn > 0.7 * bn, "gaussian var %g vs %g", vn, bn);
        std::printf("  %-10s |Rx|^2 mean %.4g (true %.4g) var %.4g (bound %.4g); <Rx,Ry> mean %.4g (true %.4g) var %.4g "
                    "(bound %.4g)\n",
                    kind_name(kind), mn, xx, vn, bn, mi, xy, vi, bi);
    }
}

// The copy counter: what projntk_copy_counts reports is this thread's sum of transfer::count, and the CPU path
// copies nothing.
static void test_copy_counter() {
    using projntk::transfer::Direction;
    int64_t h0 = -1, d0 = -1, h1 = -1, d1 = -1;
    CHECK_OK(projntk_copy_counts(&h0, &d0));
    projntk::transfer::count(Direction::HostToDevice, 1000);
    projntk::transfer::count(Direction::DeviceToHost, 24);
    projntk::transfer::count(Direction::HostToDevice, 3);
    CHECK_OK(projntk_copy_counts(&h1, &d1));
    CHECK(h1 - h0 == 1003 && d1 - d0 == 24, "counted %lld h2d, %lld d2h", (long long)(h1 - h0), (long long)(d1 - d0));
    int64_t other_h = -1, other_d = -1;
    std::thread other([&] {
        projntk::transfer::count(Direction::DeviceToHost, 5);
        projntk_copy_counts(&other_h, &other_d);
    });
    other.join();
    CHECK(other_h == 0 && other_d == 5, "a new thread starts from zero: %lld, %lld", (long long)other_h,
          (long long)other_d);
    int64_t h2 = -1, d2 = -1;
    CHECK_OK(projntk_copy_counts(&h2, &d2));
    CHECK(h2 == h1 && d2 == d1, "another thread's copies are its own");
    {
        Proj pr(PROJNTK_PROJ_RADEMACHER, 500, 64);
        auto x = random_matrix(4 * 500, 11);
        std::vector<float> out(4 * 64);
        CHECK_OK(projntk_project(pr.p, x.data(), 4, 500, out.data()));
        CHECK_OK(projntk_projector_accumulate(pr.p, x.data(), 4, 500, 0, out.data()));
        CHECK(projntk_projector_accumulate_device(pr.p, x.data(), 4, 500, 0, out.data(), nullptr) ==
                  PROJNTK_ERR_UNSUPPORTED,
              "device memory to a CPU projector");
        CHECK(last_error().find("host memory") != std::string::npos, "message: %s", last_error().c_str());
    }
    CHECK_OK(projntk_copy_counts(&h2, &d2));
    CHECK(h2 == h1 && d2 == d1, "the CPU projector copied %lld + %lld bytes", (long long)(h2 - h1), (long long)(d2 - d1));
    CHECK(projntk_copy_counts(nullptr, &d2) == PROJNTK_ERR_INVALID_ARGUMENT, "null out");
}

#ifdef PROJNTK_WITH_CUDA
// Device memory in and out: the same kernels as the host-pointer path, so the same bits; the NaN/Inf check names the
// element as on the CPU; only the check's flag crosses to the host.
static void test_cuda_device_pointers() {
    const int64_t B = 6, P = 3000, K = 700;
    auto x = random_matrix(B * P, 21);
    for (int kind : {0, 1, 2, 3})
        for (int strict : {0, 1}) {
            const int64_t k = kind == PROJNTK_PROJ_NONE ? P : K;
            const int flags = strict ? PROJNTK_PROJ_FP32_STRICT : 0;
            projntk_projector *g = nullptr;
            CHECK_OK(projntk_projector_new(kind, P, k, 5, 6, 4, flags, PROJNTK_DEVICE_CUDA, &g));
            if (!g) continue;
            int32_t dev = -1;
            CHECK_OK(projntk_projector_device(g, &dev));
            CHECK(dev == PROJNTK_DEVICE_CUDA, "device %d", dev);
            // Host path: two column chunks accumulated into one output.
            std::vector<float> host(B * k, 0.0f), chunk(B * 1000);
            for (int64_t off : {int64_t(0), int64_t(1000), int64_t(2000)}) {
                for (int64_t b = 0; b < B; ++b)
                    std::memcpy(&chunk[b * 1000], &x[b * P + off], 1000 * sizeof(float));
                CHECK_OK(projntk_projector_accumulate(g, chunk.data(), B, 1000, off, host.data()));
            }
            // Device path: the same chunks, from device memory.
            float *dx = nullptr, *dout = nullptr;
            cudaMalloc(&dx, sizeof(float) * B * 1000);
            cudaMalloc(&dout, sizeof(float) * B * k);
            cudaMemset(dout, 0, sizeof(float) * B * k);
            int64_t h0, d0, h1, d1;
            CHECK_OK(projntk_copy_counts(&h0, &d0));
            for (int64_t off : {int64_t(0), int64_t(1000), int64_t(2000)}) {
                for (int64_t b = 0; b < B; ++b)
                    std::memcpy(&chunk[b * 1000], &x[b * P + off], 1000 * sizeof(float));
                cudaMemcpy(dx, chunk.data(), sizeof(float) * B * 1000, cudaMemcpyHostToDevice);
                CHECK_OK(projntk_projector_accumulate_device(g, dx, B, 1000, off, dout, nullptr));
            }
            CHECK_OK(projntk_copy_counts(&h1, &d1));
            CHECK(h1 == h0 && d1 - d0 == 3 * 8, "%s: the device path copied %lld h2d, %lld d2h bytes (the check's flag: 24)",
                  kind_name(kind), (long long)(h1 - h0), (long long)(d1 - d0));
            std::vector<float> dev_out(B * k);
            cudaMemcpy(dev_out.data(), dout, sizeof(float) * B * k, cudaMemcpyDeviceToHost);
            CHECK(std::memcmp(dev_out.data(), host.data(), sizeof(float) * B * k) == 0,
                  "%s strict=%d: device pointers give other bits than host pointers", kind_name(kind), strict);
            // A NaN at row 2, column 5 of a block is named like the CPU check names it.
            chunk[2 * 1000 + 5] = std::nanf("");
            cudaMemcpy(dx, chunk.data(), sizeof(float) * B * 1000, cudaMemcpyHostToDevice);
            CHECK(projntk_projector_accumulate_device(g, dx, B, 1000, 2000, dout, nullptr) == PROJNTK_ERR_NONFINITE,
                  "NaN in a device block");
            CHECK(last_error().find("NaN in input at row 2, column 5 (parameter 2005)") != std::string::npos,
                  "message: %s", last_error().c_str());
            cudaFree(dx);
            cudaFree(dout);
            projntk_projector_free(g);
        }
}

// GPU section: the CUDA kernels against the CPU kernels and a float64 reference.
static void test_cuda() {
    int32_t avail = 0;
    projntk_cuda_available(&avail);
    if (!avail) {
        std::printf("skip: CUDA built but no device\n");
        return;
    }
    struct Shape {
        int64_t B, P, K;
    } shapes[] = {{1, 1, 1}, {3, 1001, 37}, {32, 20000, 512}, {7, 5000, 2050}};
    for (int kind = 0; kind < 3; ++kind)
        for (auto sh : shapes)
            for (int strict : {0, 1}) {
                int flags = strict ? PROJNTK_PROJ_FP32_STRICT : 0;
                projntk_projector *g = nullptr, *c = nullptr;
                CHECK_OK(projntk_projector_new(kind, sh.P, sh.K, 5, 6, 4, flags, PROJNTK_DEVICE_CUDA, &g));
                CHECK_OK(projntk_projector_new(kind, sh.P, sh.K, 5, 6, 4, flags, PROJNTK_DEVICE_CPU, &c));
                if (!g || !c) continue;
                auto x = random_matrix(sh.B * sh.P, sh.P);
                std::vector<float> og(sh.B * sh.K), oc(sh.B * sh.K);
                CHECK_OK(projntk_project(g, x.data(), sh.B, sh.P, og.data()));
                CHECK_OK(projntk_project(c, x.data(), sh.B, sh.P, oc.data()));
                // float64 reference from CPU entries (checked against the CPU kernels above).
                std::vector<double> ref(sh.B * sh.K, 0.0);
                std::vector<float> row(sh.K);
                for (int64_t p = 0; p < sh.P; ++p) {
                    for (int64_t k = 0; k < sh.K; ++k) projntk_projector_entry(c, p, k, &row[k]);
                    for (int64_t b = 0; b < sh.B; ++b)
                        for (int64_t k = 0; k < sh.K; ++k) ref[b * sh.K + k] += (double)x[b * sh.P + p] * row[k];
                }
                double eg = rel_err(og, ref), ec = rel_err(oc, ref);
                bool sjlt = kind == PROJNTK_PROJ_SJLT;
                double tol = (strict || sjlt) ? 1e-5 : 1e-3;
                CHECK(eg < tol, "cuda %s strict=%d B=%lld P=%lld K=%lld: rel err %g (cpu %g)", kind_name(kind), strict,
                      (long long)sh.B, (long long)sh.P, (long long)sh.K, eg, ec);
                projntk_projector_free(g);
                projntk_projector_free(c);
            }
    // The GPU regenerates R itself. With x = identity rows the projection is R, exactly: in TF32 mode Rademacher
    // is staged as +-1 (exact in TF32) and scaled in fp32 afterwards, so even the scaled entries are exact
    // (a TF32-rounded 1/sqrt(K) would be off by up to 2^-11), and SJLT runs in fp32.
    for (int kind : {0, 2})
        for (int flags : {(int)PROJNTK_PROJ_UNSCALED, 0}) {
            const int64_t P = 300, K = 1000;
            projntk_projector *g = nullptr, *c = nullptr;
            CHECK_OK(projntk_projector_new(kind, P, K, 8, 9, 3, flags, PROJNTK_DEVICE_CUDA, &g));
            CHECK_OK(projntk_projector_new(kind, P, K, 8, 9, 3, flags, PROJNTK_DEVICE_CPU, &c));
            if (!g || !c) continue;
            std::vector<float> e(P * P, 0.0f), og(P * K), oc(P * K);
            for (int64_t p = 0; p < P; ++p) e[p * P + p] = 1.0f;
            CHECK_OK(projntk_project(g, e.data(), P, P, og.data()));
            CHECK_OK(projntk_project(c, e.data(), P, P, oc.data()));
            CHECK(std::memcmp(og.data(), oc.data(), og.size() * 4) == 0, "%s flags=%d: GPU R differs from CPU R",
                  kind_name(kind), flags);
            projntk_projector_free(g);
            projntk_projector_free(c);
        }
}
#endif

int main() {
    std::printf("projntk jl tests (cpu path: %s, %d threads)\n", projntk::jl::cpu_simd(), omp_get_max_threads());
    test_philox_known_answers();
    test_gaussian_construction();
    test_bad_arguments();
    test_against_reference();
    test_entries_and_scaling();
    test_determinism_threads_batches();
    test_isa_paths_agree();
    test_kernel_entries_exact();
    test_huge_offsets();
    test_nonfinite();
    test_identity();
    test_jl_statistics();
    test_copy_counter();
#ifdef PROJNTK_WITH_CUDA
    test_cuda();
    int32_t avail = 0;
    projntk_cuda_available(&avail);
    if (avail) test_cuda_device_pointers();
#endif
    std::printf("%d checks, %d failures\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}
