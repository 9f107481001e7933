// CUDA projection kernels. R is regenerated on the fly from philox.h, exactly as on the CPU.
//
// Dense: each block owns a 16-row x 64-column output tile and one contiguous slice ("split") of the
// reduction over p; it streams 32-row chunks of x and of a freshly generated R tile through shared
// memory into TF32 tensor-core MMAs (wmma m16n16k8, fp32 accumulation), or plain fp32 FMAs in
// FP32_STRICT mode. Splits write partial sums to a workspace that a second kernel adds into out in
// split order, so there are no atomics and the result does not depend on scheduling. The split count
// depends only on (cols, K), never on the number of rows: partial-sum memory is bounded by projecting the rows
// in chunks instead, so a row's result does not depend on its batch.
// TF32 mode, Rademacher: R is staged as +-1 (exact in TF32) and the scale multiplies the fp32 accumulator, so no
// TF32 rounding of R; Gaussian entries are rounded to TF32 (documented in docs/projection.md).
// SJLT: one thread per (row, nonzero block j, split) clears its own block of the partial row, then walks its
// p range in order and scatters into that block: again no atomics, and no memset of the partials.
#include <cuda_runtime.h>
#include <mma.h>

#include <string>

#include "philox.h"
#include "projector.hpp"
#include "status.hpp"
#include "transfer.hpp"

namespace projntk {
namespace jl {

namespace {

constexpr int TM = 16;   // rows of x per block
constexpr int TN = 64;   // columns of K per block (4 warps x 16)
constexpr int TK = 32;   // rows of R per shared-memory chunk
constexpr int kThreads = 128;
constexpr int64_t kPartialFloats = int64_t(1) << 28;  // at most 1 GiB of partial sums per call

void check(cudaError_t err, const char *what) {
    if (err != cudaSuccess) throw Error(PROJNTK_ERR_CUDA, std::string(what) + ": " + cudaGetErrorString(err));
}

// Fills Rs[TK][TN] with R[p0 .. p0+TK, k0 .. k0+TN): each thread makes 16 consecutive columns of one row.
// `scale` is sp.scale, or 1 where the caller applies the scale to its accumulator instead.
__device__ void fill_r_tile(const Spec &sp, float scale, uint64_t p0, int64_t pend, uint64_t k0, float (*Rs)[TN + 4]) {
    const int row = threadIdx.x / 4, c0 = (threadIdx.x % 4) * 16;
    const uint64_t p = p0 + row;
    if ((int64_t)p >= pend) {
        for (int c = 0; c < 16; ++c) Rs[row][c0 + c] = 0.0f;
        return;
    }
    if (sp.kind == PROJNTK_PROJ_RADEMACHER) {
        const uint64_t k = k0 + c0;  // 16 columns inside one 128-column block (k0 is a multiple of 64)
        const Philox4 bits = block_bits(sp.key, p, k >> 7);
        const uint32_t word = bits.v[(k >> 5) & 3] >> (k & 31);
        for (int c = 0; c < 16; ++c) Rs[row][c0 + c] = ((word >> c) & 1u) ? -scale : scale;
    } else {
        for (int g = 0; g < 4; ++g) {
            const uint64_t k = k0 + c0 + 4 * g;
            const Philox4 bits = block_bits(sp.key, p, k >> 2);
            for (int c = 0; c < 4; ++c) Rs[row][c0 + 4 * g + c] = gaussian_from_bits(bits, k + c) * scale;
        }
    }
}

// partial[split][rows x K] = x[:, range of split] . R[range, :]
template <bool kStrict>
__global__ void __launch_bounds__(kThreads) dense_kernel(Spec sp, const float *__restrict__ x, int64_t rows,
                                                         int64_t cols, uint64_t offset, int64_t split_len,
                                                         float *__restrict__ partial) {
    // wmma loads and stores need 256-bit aligned pointers: the row strides (36 and 68 floats) keep every
    // fragment origin used below on a 32-byte boundary once the arrays themselves are.
    __shared__ __align__(32) float Xs[TM][TK + 4];
    __shared__ __align__(32) float Rs[TK][TN + 4];
    const int64_t K = (int64_t)sp.K;
    const int64_t r0 = (int64_t)blockIdx.y * TM, k0 = (int64_t)blockIdx.x * TN;
    const int64_t pb = (int64_t)blockIdx.z * split_len;
    const int64_t pe = pb + split_len < cols ? pb + split_len : cols;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

    using namespace nvcuda;
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc;
    wmma::fill_fragment(acc, 0.0f);
    // Strict mode: thread owns rows (lane / 4) + {0, 8} and columns warp*16 + (lane % 4)*4 + {0..3}.
    float sacc[2][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}};
    // TF32 Rademacher: +-1 in shared memory, the scale applied once to the fp32 sums.
    const bool unit_r = !kStrict && sp.kind == PROJNTK_PROJ_RADEMACHER;
    const float r_scale = unit_r ? 1.0f : sp.scale;

    for (int64_t p0 = pb; p0 < pe; p0 += TK) {
        for (int i = threadIdx.x; i < TM * TK; i += kThreads) {
            const int r = i / TK, c = i % TK;
            const int64_t gr = r0 + r, gp = p0 + c;
            float v = (gr < rows && gp < pe) ? x[gr * cols + gp] : 0.0f;
            Xs[r][c] = kStrict ? v : wmma::__float_to_tf32(v);
        }
        fill_r_tile(sp, r_scale, offset + (uint64_t)p0, (int64_t)offset + pe, (uint64_t)k0, Rs);
        __syncthreads();
        if (kStrict) {
            const int rr = lane / 4, cc = warp * 16 + (lane % 4) * 4;
            for (int kk = 0; kk < TK; ++kk) {
                for (int h = 0; h < 2; ++h) {
                    const float a = Xs[rr + 8 * h][kk];
                    for (int c = 0; c < 4; ++c) sacc[h][c] = __fmaf_rn(a, Rs[kk][cc + c], sacc[h][c]);
                }
            }
        } else {
            for (int kk = 0; kk < TK; kk += 8) {
                wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> a;
                wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> b;
                wmma::load_matrix_sync(a, &Xs[0][kk], TK + 4);
                wmma::load_matrix_sync(b, &Rs[kk][warp * 16], TN + 4);
                for (int t = 0; t < b.num_elements; ++t) b.x[t] = wmma::__float_to_tf32(b.x[t]);
                wmma::mma_sync(acc, a, b, acc);
            }
        }
        __syncthreads();
    }
    // Stage the tile through shared memory (reusing Rs) and write the valid part.
    float(*Cs)[TN + 4] = Rs;
    if (kStrict) {
        const int rr = lane / 4, cc = warp * 16 + (lane % 4) * 4;
        for (int h = 0; h < 2; ++h)
            for (int c = 0; c < 4; ++c) Cs[rr + 8 * h][cc + c] = sacc[h][c];
    } else {
        if (unit_r)
            for (int t = 0; t < acc.num_elements; ++t) acc.x[t] *= sp.scale;
        wmma::store_matrix_sync(&Cs[0][warp * 16], acc, TN + 4, wmma::mem_row_major);
    }
    __syncthreads();
    float *dst = partial + (int64_t)blockIdx.z * rows * K;
    for (int i = threadIdx.x; i < TM * TN; i += kThreads) {
        const int r = i / TN, c = i % TN;
        if (r0 + r < rows && k0 + c < K) dst[(r0 + r) * K + k0 + c] = Cs[r][c];
    }
}

// partial[split][b, block j] += x[b, p] * R[p, :] for the split's p range, j = blockIdx.y.
__global__ void sjlt_kernel(Spec sp, const float *__restrict__ x, int64_t rows, int64_t cols, uint64_t offset,
                            int64_t split_len, float *__restrict__ partial) {
    const int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= rows) return;
    const uint64_t j = blockIdx.y;
    const int64_t K = (int64_t)sp.K;
    const int64_t pb = (int64_t)blockIdx.z * split_len;
    const int64_t pe = pb + split_len < cols ? pb + split_len : cols;
    float *o = partial + (int64_t)blockIdx.z * rows * K + b * K;
    const uint64_t lo = sjlt_block_start(j, sp.K, sp.s), hi = sjlt_block_start(j + 1, sp.K, sp.s);
    for (uint64_t c = lo; c < hi; ++c) o[c] = 0.0f;  // nonzero j of every p lands in [lo, hi): this thread's own
    for (int64_t p = pb; p < pe; ++p) {
        uint64_t pos;
        uint32_t negative;
        sjlt_nonzero(block_bits(sp.key, offset + (uint64_t)p, j >> 1), j, sp.K, sp.s, &pos, &negative);
        o[pos] = __fmaf_rn(x[b * cols + p], negative ? -sp.scale : sp.scale, o[pos]);
    }
}

// out += sum of partials, in split order.
__global__ void reduce_kernel(const float *__restrict__ partial, int64_t n, int64_t splits, float *__restrict__ out) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float s = 0.0f;
    for (int64_t t = 0; t < splits; ++t) s += partial[t * n + i];
    out[i] += s;
}

// out[r, offset + c] += x[r, c]: the identity projector (K = P).
__global__ void identity_kernel(const float *__restrict__ x, int64_t rows, int64_t cols, uint64_t offset, int64_t K,
                                float *__restrict__ out) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * cols) return;
    const int64_t r = i / cols, c = i % cols;
    out[r * K + (int64_t)offset + c] += x[i];
}

// *first = the smallest index i < n with x[i] NaN or Inf (left at its initial all-ones value when there is none).
__global__ void first_nonfinite_kernel(const float *__restrict__ x, int64_t n, unsigned long long *first) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        if (!isfinite(x[i])) atomicMin(first, (unsigned long long)i);
}

// The projector's only copies between host and device memory, counted (transfer.hpp).
void copy_counted(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s, const char *what) {
    transfer::count(kind == cudaMemcpyHostToDevice ? transfer::Direction::HostToDevice : transfer::Direction::DeviceToHost,
                    (int64_t)bytes);
    check(cudaMemcpyAsync(dst, src, bytes, kind, s), what);  // COUNTED_COPY: the counting helper itself
}

struct Buffer {
    float *ptr = nullptr;
    size_t cap = 0;
    void ensure(size_t n, const char *what) {
        if (n <= cap) return;
        if (ptr) cudaFree(ptr);
        ptr = nullptr;
        cap = 0;
        check(cudaMalloc(&ptr, n * sizeof(float)), what);
        cap = n;
    }
    ~Buffer() {
        if (ptr) cudaFree(ptr);
    }
};

}  // namespace

struct CudaState {
    int device = 0;
    cudaStream_t stream = nullptr;  // the host-pointer calls' own
    cudaEvent_t done = nullptr;     // recorded after every call's last use of the buffers, on whichever stream it ran
    Buffer x, out, partial;
    unsigned long long *first_bad = nullptr;  // the NaN/Inf check's result
};

CudaState *cuda_state_new(int device_index) {
    int count = 0;
    check(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
    if (device_index >= count)
        throw Error(PROJNTK_ERR_INVALID_ARGUMENT, "device cuda:" + std::to_string(device_index) +
                                                      " requested but this machine has " + std::to_string(count) +
                                                      " CUDA device(s)");
    check(cudaSetDevice(device_index), "cudaSetDevice");
    auto *st = new CudaState;
    st->device = device_index;
    cudaError_t err = cudaStreamCreateWithFlags(&st->stream, cudaStreamNonBlocking);
    if (err == cudaSuccess) err = cudaEventCreateWithFlags(&st->done, cudaEventDisableTiming);
    if (err == cudaSuccess) err = cudaMalloc(&st->first_bad, sizeof(unsigned long long));
    if (err != cudaSuccess) {
        cuda_state_free(st);
        check(err, "creating the projector's CUDA stream, event and flag");
    }
    return st;
}

void cuda_state_free(CudaState *st) {
    if (!st) return;
    cudaSetDevice(st->device);
    if (st->done) cudaEventSynchronize(st->done);
    if (st->first_bad) cudaFree(st->first_bad);
    if (st->done) cudaEventDestroy(st->done);
    if (st->stream) cudaStreamDestroy(st->stream);
    delete st;
}

namespace {

// out (device) += x (device) . R on stream s, after the previous call's use of the shared buffers, whichever stream it
// ran on.
void launch(CudaState *st, const Spec &sp, bool fp32_strict, const float *x, int64_t rows, int64_t cols, uint64_t offset,
            float *out, cudaStream_t s) {
    check(cudaStreamWaitEvent(s, st->done, 0), "cudaStreamWaitEvent");
    const int64_t K = (int64_t)sp.K;
    if (sp.kind == PROJNTK_PROJ_NONE) {
        const int64_t n = rows * cols;
        identity_kernel<<<(unsigned)((n + 255) / 256), 256, 0, s>>>(x, rows, cols, offset, K, out);
        check(cudaGetLastError(), "identity kernel launch");
        check(cudaEventRecord(st->done, s), "cudaEventRecord");
        return;
    }
    const bool sjlt = sp.kind == PROJNTK_PROJ_SJLT;
    // Splits of the reduction: enough blocks to fill the GPU, a function of (cols, K) only.
    const int64_t col_tiles = sjlt ? (int64_t)sp.s : (K + TN - 1) / TN;
    int64_t splits = (cols + 2047) / 2048;
    const int64_t want = (2048 + col_tiles - 1) / col_tiles;
    if (splits > want) splits = want;
    if (splits < 1) splits = 1;
    int64_t split_len = (cols + splits - 1) / splits;
    if (!sjlt) split_len = (split_len + TK - 1) / TK * TK;
    splits = (cols + split_len - 1) / split_len;
    // Partial sums are bounded (kPartialFloats) by projecting the rows in chunks; the split, and so every row's
    // summation order, stays the same whatever the number of rows.
    int64_t chunk = kPartialFloats / (splits * K);
    if (!sjlt && chunk >= TM) chunk = chunk / TM * TM;
    if (chunk < 1) chunk = 1;
    if (chunk > rows) chunk = rows;
    st->partial.ensure((size_t)(splits * chunk * K), "cudaMalloc(partials)");  // kept for the next call
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
        const int64_t nr = rows - r0 < chunk ? rows - r0 : chunk;
        const float *xc = x + r0 * cols;
        if (sjlt) {
            dim3 grid((unsigned)((nr + 31) / 32), sp.s, (unsigned)splits);
            sjlt_kernel<<<grid, 32, 0, s>>>(sp, xc, nr, cols, offset, split_len, st->partial.ptr);
        } else {
            dim3 grid((unsigned)((K + TN - 1) / TN), (unsigned)((nr + TM - 1) / TM), (unsigned)splits);
            if (fp32_strict)
                dense_kernel<true><<<grid, kThreads, 0, s>>>(sp, xc, nr, cols, offset, split_len, st->partial.ptr);
            else
                dense_kernel<false><<<grid, kThreads, 0, s>>>(sp, xc, nr, cols, offset, split_len, st->partial.ptr);
        }
        check(cudaGetLastError(), "projection kernel launch");
        const int64_t n = nr * K;
        reduce_kernel<<<(unsigned)((n + 255) / 256), 256, 0, s>>>(st->partial.ptr, n, splits, out + r0 * K);
        check(cudaGetLastError(), "reduce kernel launch");
    }
    check(cudaEventRecord(st->done, s), "cudaEventRecord");
}

}  // namespace

void cuda_check_finite(CudaState *st, const float *block, int64_t rows, int64_t cols, int64_t offset, void *stream) {
    check(cudaSetDevice(st->device), "cudaSetDevice");
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    check(cudaStreamWaitEvent(s, st->done, 0), "cudaStreamWaitEvent");
    const int64_t n = rows * cols;
    check(cudaMemsetAsync(st->first_bad, 0xff, sizeof(unsigned long long), s), "clearing the NaN/Inf flag");
    const unsigned blocks = (unsigned)((n + 255) / 256 < 1024 ? (n + 255) / 256 : 1024);
    first_nonfinite_kernel<<<blocks, 256, 0, s>>>(block, n, st->first_bad);
    check(cudaGetLastError(), "NaN/Inf check launch");
    unsigned long long first = 0;
    copy_counted(&first, st->first_bad, sizeof first, cudaMemcpyDeviceToHost, s, "reading the NaN/Inf flag");
    check(cudaEventRecord(st->done, s), "cudaEventRecord");
    check(cudaStreamSynchronize(s), "NaN/Inf check");
    if (first == ~0ull) return;
    float value = 0;
    copy_counted(&value, block + first, sizeof value, cudaMemcpyDeviceToHost, s, "reading the non-finite value");
    check(cudaStreamSynchronize(s), "reading the non-finite value");
    const int64_t r = (int64_t)first / cols, c = (int64_t)first % cols;
    throw Error(PROJNTK_ERR_NONFINITE, std::string(value != value ? "NaN" : "Inf") + " in input at row " + std::to_string(r) +
                                           ", column " + std::to_string(c) + " (parameter " + std::to_string(offset + c) + ")");
}

void cuda_accumulate_device(CudaState *st, const Spec &sp, bool fp32_strict, const float *block, int64_t rows,
                            int64_t cols, uint64_t offset, float *out, void *stream) {
    check(cudaSetDevice(st->device), "cudaSetDevice");
    launch(st, sp, fp32_strict, block, rows, cols, offset, out, static_cast<cudaStream_t>(stream));
}

void cuda_accumulate(CudaState *st, const Spec &sp, bool fp32_strict, const float *block, int64_t rows, int64_t cols,
                     uint64_t offset, float *out) {
    check(cudaSetDevice(st->device), "cudaSetDevice");
    const int64_t K = (int64_t)sp.K;
    cudaStream_t s = st->stream;
    // The buffers may still serve a device call queued on another stream.
    check(cudaEventSynchronize(st->done), "waiting for the previous projection");
    st->x.ensure((size_t)(rows * cols), "cudaMalloc(x)");
    st->out.ensure((size_t)(rows * K), "cudaMalloc(out)");
    copy_counted(st->x.ptr, block, sizeof(float) * rows * cols, cudaMemcpyHostToDevice, s, "copy x");
    copy_counted(st->out.ptr, out, sizeof(float) * rows * K, cudaMemcpyHostToDevice, s, "copy out");
    launch(st, sp, fp32_strict, st->x.ptr, rows, cols, offset, st->out.ptr, s);
    copy_counted(out, st->out.ptr, sizeof(float) * rows * K, cudaMemcpyDeviceToHost, s, "copy out back");
    check(cudaStreamSynchronize(s), "projection kernels");
}

}  // namespace jl
}  // namespace projntk
