// The projector half of projntk.h: validation, the NaN/Inf check and dispatch to the CPU or CUDA kernels.
#include "projector.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "device_code.hpp"
#include "status.hpp"

namespace projntk {
namespace jl {

float entry_value(const Spec &spec, uint64_t p, uint64_t k) {
    switch (spec.kind) {
        case PROJNTK_PROJ_RADEMACHER:
            return rademacher_bit(block_bits(spec.key, p, k >> 7), k) ? -spec.scale : spec.scale;
        case PROJNTK_PROJ_GAUSSIAN:
            return gaussian_from_bits(block_bits(spec.key, p, k >> 2), k) * spec.scale;
        case PROJNTK_PROJ_SJLT: {
            // Only the block that contains k can put a nonzero there.
            uint64_t j = (k * spec.s) / spec.K;
            while (j > 0 && sjlt_block_start(j, spec.K, spec.s) > k) --j;
            while (j + 1 < spec.s && sjlt_block_start(j + 1, spec.K, spec.s) <= k) ++j;
            uint64_t pos;
            uint32_t negative;
            sjlt_nonzero(block_bits(spec.key, p, j >> 1), j, spec.K, spec.s, &pos, &negative);
            if (pos != k) return 0.0f;
            return negative ? -spec.scale : spec.scale;
        }
        default:
            return p == k ? 1.0f : 0.0f;
    }
}

const char *cpu_simd() {
    static const char *simd = [] {
        const char *forced = std::getenv("PROJNTK_SIMD");
        if (forced && std::strcmp(forced, "avx2") == 0) return "avx2";
        __builtin_cpu_init();
        if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return "none";
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
                   ? "avx512"
                   : "avx2";
    }();
    return simd;
}

}  // namespace jl
}  // namespace projntk

namespace {

using projntk::Error;
using projntk::require;
using projntk::jl::Spec;

constexpr int64_t kMaxK = (int64_t(1) << 31) - 1;
constexpr int64_t kMaxP = int64_t(1) << 62;

void check_handle(const projntk_projector *pr) { require(pr != nullptr, "projector is NULL"); }

bool is_finite_bits(float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    return (u & 0x7F800000u) != 0x7F800000u;
}

// Fails with NONFINITE naming the first bad element in row-major order.
void check_finite(const float *x, int64_t rows, int64_t cols, int64_t offset) {
    bool bad = false;
#pragma omp parallel for schedule(static) reduction(|| : bad) if (rows * cols > (int64_t(1) << 18))
    for (int64_t r = 0; r < rows; ++r) {
        const uint32_t *u = reinterpret_cast<const uint32_t *>(x + r * cols);
        uint32_t any = 0;
        for (int64_t c = 0; c < cols; ++c) any |= (uint32_t)((u[c] & 0x7F800000u) == 0x7F800000u);
        bad = bad || any;
    }
    if (!bad) return;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            if (!is_finite_bits(x[r * cols + c])) {
                std::string what = std::isnan(x[r * cols + c]) ? "NaN" : "Inf";
                throw Error(PROJNTK_ERR_NONFINITE, what + " in input at row " + std::to_string(r) + ", column " +
                                                       std::to_string(c) + " (parameter " +
                                                       std::to_string(offset + c) + ")");
            }
}

void accumulate(projntk_projector *pr, const float *block, int64_t rows, int64_t cols, int64_t offset, float *out,
                bool check) {
    const Spec &sp = pr->spec;
    if (rows == 0 || cols == 0) return;
    if (check) check_finite(block, rows, cols, offset);
    if (sp.kind == PROJNTK_PROJ_NONE) {
        const int64_t K = (int64_t)sp.K;
#pragma omp parallel for schedule(static) if (rows * cols > (int64_t(1) << 18))
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) out[r * K + offset + c] += block[r * cols + c];
        return;
    }
#ifdef PROJNTK_WITH_CUDA
    if (pr->device == PROJNTK_DEVICE_CUDA) {
        std::lock_guard<std::mutex> lock(pr->cuda_mutex);
        projntk::jl::cuda_accumulate(pr->cuda, sp, (pr->flags & PROJNTK_PROJ_FP32_STRICT) != 0, block, rows, cols,
                                     (uint64_t)offset, out);
        return;
    }
#endif
    const bool wide = std::strcmp(projntk::jl::cpu_simd(), "avx512") == 0;
    bool ok;
    if (sp.kind == PROJNTK_PROJ_SJLT)
        ok = wide ? projntk::jl::avx512::sjlt_accumulate(sp, block, rows, cols, (uint64_t)offset, out)
                  : projntk::jl::avx2::sjlt_accumulate(sp, block, rows, cols, (uint64_t)offset, out);
    else
        ok = wide ? projntk::jl::avx512::dense_accumulate(sp, block, rows, cols, (uint64_t)offset, out)
                  : projntk::jl::avx2::dense_accumulate(sp, block, rows, cols, (uint64_t)offset, out);
    if (!ok) throw Error(PROJNTK_ERR_OUT_OF_MEMORY, "cannot allocate projection work buffers");
}

}  // namespace

extern "C" {

int projntk_projector_new(int32_t kind, int64_t P, int64_t K, int64_t seed, int64_t model_id, int32_t sjlt_s,
                          int32_t flags, int32_t device, projntk_projector **out_projector) {
    return projntk::guarded("projntk_projector_new", [&] {
        require(out_projector != nullptr, "out_projector is NULL");
        *out_projector = nullptr;
        require(kind >= PROJNTK_PROJ_RADEMACHER && kind <= PROJNTK_PROJ_NONE,
                "unknown projector kind " + std::to_string(kind) + " (0 rademacher, 1 gaussian, 2 sjlt, 3 none)");
        require(P >= 1 && P <= kMaxP, "P must be in [1, 2^62], got " + std::to_string(P));
        if (kind == PROJNTK_PROJ_NONE)
            require(K == P, "kind NONE (identity) needs K == P, got K=" + std::to_string(K) +
                                " and P=" + std::to_string(P));
        else
            require(K >= 1 && K <= kMaxK, "K must be in [1, 2^31-1], got " + std::to_string(K));
        if (kind == PROJNTK_PROJ_SJLT) require(sjlt_s >= 1, "SJLT needs sjlt_s >= 1, got " + std::to_string(sjlt_s));
        const int32_t known = PROJNTK_PROJ_UNSCALED | PROJNTK_PROJ_NO_CHECK | PROJNTK_PROJ_FP32_STRICT;
        require((flags & ~known) == 0, "unknown projector flags " + std::to_string(flags));
        const projntk::DeviceCode where = projntk::decode_device(device);
#ifndef PROJNTK_WITH_CUDA
        if (where.kind == PROJNTK_DEVICE_CUDA)
            throw Error(PROJNTK_ERR_UNSUPPORTED, "device " + where.name() +
                                                     " requested but this libprojntk was built without CUDA (rebuild "
                                                     "with WITH_CUDA=1); use PROJNTK_DEVICE_CPU");
#endif
        if (where.kind == PROJNTK_DEVICE_CPU && std::strcmp(projntk::jl::cpu_simd(), "none") == 0)
            throw Error(PROJNTK_ERR_UNSUPPORTED, "the CPU projection kernels need AVX2 and FMA, which this CPU lacks");
        auto pr = std::make_unique<projntk_projector>();
        Spec &sp = pr->spec;
        sp.kind = kind;
        sp.P = (uint64_t)P;
        sp.K = (uint64_t)K;
        sp.key = projntk::jl::derive_key(seed, model_id, kind);
        sp.s = 0;
        const bool unscaled = (flags & PROJNTK_PROJ_UNSCALED) != 0;
        if (kind == PROJNTK_PROJ_SJLT) {
            sp.s = (uint32_t)(sjlt_s < K ? sjlt_s : K);
            sp.scale = unscaled ? 1.0f : (float)(1.0 / std::sqrt((double)sp.s));
        } else if (kind == PROJNTK_PROJ_NONE) {
            sp.scale = 1.0f;
        } else {
            sp.scale = unscaled ? 1.0f : (float)(1.0 / std::sqrt((double)K));
        }
        pr->seed = seed;
        pr->model_id = model_id;
        pr->requested_s = sjlt_s;
        pr->flags = flags;
        pr->device = where.kind;
        pr->ordinal = where.ordinal;
#ifdef PROJNTK_WITH_CUDA
        if (where.kind == PROJNTK_DEVICE_CUDA) pr->cuda = projntk::jl::cuda_state_new(where.ordinal);
#endif
        *out_projector = pr.release();
    });
}

int projntk_projector_free(projntk_projector *projector) {
    if (projntk::freeing_is_moot()) return PROJNTK_OK;
    return projntk::guarded("projntk_projector_free", [&] {
        if (!projector) return;
#ifdef PROJNTK_WITH_CUDA
        if (projector->cuda) projntk::jl::cuda_state_free(projector->cuda);
#endif
        delete projector;
    });
}

int projntk_projector_dims(projntk_projector *projector, int64_t *out_P, int64_t *out_K) {
    return projntk::guarded("projntk_projector_dims", [&] {
        check_handle(projector);
        require(out_P != nullptr && out_K != nullptr, "out_P and out_K must not be NULL");
        *out_P = (int64_t)projector->spec.P;
        *out_K = (int64_t)projector->spec.K;
    });
}

int projntk_projector_device(projntk_projector *projector, int32_t *out_device) {
    return projntk::guarded("projntk_projector_device", [&] {
        check_handle(projector);
        require(out_device != nullptr, "out_device is NULL");
        *out_device = projector->device | (projector->ordinal << PROJNTK_DEVICE_ORDINAL_SHIFT);
    });
}

int projntk_projector_entry(projntk_projector *projector, int64_t p, int64_t k, float *out_value) {
    return projntk::guarded("projntk_projector_entry", [&] {
        check_handle(projector);
        require(out_value != nullptr, "out_value is NULL");
        const Spec &sp = projector->spec;
        require(p >= 0 && (uint64_t)p < sp.P,
                "p=" + std::to_string(p) + " out of range [0, " + std::to_string(sp.P) + ")");
        require(k >= 0 && (uint64_t)k < sp.K,
                "k=" + std::to_string(k) + " out of range [0, " + std::to_string(sp.K) + ")");
        *out_value = projntk::jl::entry_value(sp, (uint64_t)p, (uint64_t)k);
    });
}

namespace {
// A gradient block of rows x cols at coordinates [param_offset, param_offset + cols) of the projector's P.
void check_block_range(const Spec &sp, int64_t rows, int64_t cols, int64_t param_offset) {
    require(rows >= 0 && cols >= 0, "rows and cols must be >= 0, got rows=" + std::to_string(rows) +
                                        " cols=" + std::to_string(cols));
    require(param_offset >= 0 && (uint64_t)param_offset <= sp.P && (uint64_t)cols <= sp.P - (uint64_t)param_offset,
            "parameter range [" + std::to_string(param_offset) + ", " + std::to_string(param_offset) + "+" +
                std::to_string(cols) + ") exceeds P=" + std::to_string(sp.P));
}
}  // namespace

int projntk_projector_accumulate(projntk_projector *projector, const float *block, int64_t rows, int64_t cols,
                                 int64_t param_offset, float *out) {
    return projntk::guarded("projntk_projector_accumulate", [&] {
        check_handle(projector);
        check_block_range(projector->spec, rows, cols, param_offset);
        if (rows == 0 || cols == 0) return;
        require(block != nullptr && out != nullptr, "block and out must not be NULL");
        accumulate(projector, block, rows, cols, param_offset, out, !(projector->flags & PROJNTK_PROJ_NO_CHECK));
    });
}

int projntk_cpu_fma_peak(double seconds, double *out_gflops) {
    return projntk::guarded("projntk_cpu_fma_peak", [&] {
        require(out_gflops != nullptr, "out_gflops is NULL");
        require(seconds > 0 && seconds <= 60, "seconds must be in (0, 60], got " + std::to_string(seconds));
        const char *simd = projntk::jl::cpu_simd();
        if (std::strcmp(simd, "none") == 0)
            throw Error(PROJNTK_ERR_UNSUPPORTED, "measuring the FMA peak needs AVX2 and FMA, which this CPU lacks");
        auto rate = [&](long iters) {
            return std::strcmp(simd, "avx512") == 0 ? projntk::jl::avx512::fma_rate(iters)
                                                    : projntk::jl::avx2::fma_rate(iters);
        };
        // Trials of about 20 ms; the best one, since other processes only ever slow a trial down.
        long iters = 1 << 16;
        while (iters < (1L << 30) && (double)iters * 1e-9 * 4 < 0.02) iters *= 2;
        double best = 0;
        const double t0 = omp_get_wtime();
        do {
            best = std::max(best, rate(iters));
        } while (omp_get_wtime() - t0 < seconds);
        *out_gflops = best / 1e9;
    });
}

int projntk_projector_accumulate_device(projntk_projector *projector, const float *block, int64_t rows, int64_t cols,
                                        int64_t param_offset, float *out, void *stream) {
    return projntk::guarded("projntk_projector_accumulate_device", [&] {
        check_handle(projector);
        check_block_range(projector->spec, rows, cols, param_offset);
        if (projector->device != PROJNTK_DEVICE_CUDA)
            throw Error(PROJNTK_ERR_UNSUPPORTED,
                        "a CPU projector takes host memory: use projntk_projector_accumulate");
        if (rows == 0 || cols == 0) return;
        require(block != nullptr && out != nullptr, "block and out must not be NULL");
#ifdef PROJNTK_WITH_CUDA
        std::lock_guard<std::mutex> lock(projector->cuda_mutex);
        if (!(projector->flags & PROJNTK_PROJ_NO_CHECK))
            projntk::jl::cuda_check_finite(projector->cuda, block, rows, cols, param_offset, stream);
        projntk::jl::cuda_accumulate_device(projector->cuda, projector->spec, (projector->flags & PROJNTK_PROJ_FP32_STRICT) != 0, block,
                                            rows, cols, (uint64_t)param_offset, out, stream);
#else
        (void)stream;
        throw Error(PROJNTK_ERR_UNSUPPORTED, "this libprojntk was built without CUDA");
#endif
    });
}

int projntk_project(projntk_projector *projector, const float *x, int64_t B, int64_t P, float *out) {
    return projntk::guarded("projntk_project", [&] {
        check_handle(projector);
        const Spec &sp = projector->spec;
        require(B >= 1, "B must be >= 1, got " + std::to_string(B));
        require(P >= 0 && (uint64_t)P == sp.P,
                "x has P=" + std::to_string(P) + " columns but the projector was made for P=" + std::to_string(sp.P));
        require(x != nullptr && out != nullptr, "x and out must not be NULL");
        if (!(projector->flags & PROJNTK_PROJ_NO_CHECK)) check_finite(x, B, P, 0);
        std::memset(out, 0, sizeof(float) * (size_t)B * (size_t)sp.K);
        accumulate(projector, x, B, P, 0, out, false);
    });
}

}  // extern "C"
