/*
 * Measures the two physical limits docs/performance.md compares the projectors against, on all OpenMP threads:
 *  - fp32 FMA peak: independent FMA chains (more than latency x pipes) on 256- and 512-bit vectors;
 *  - memory bandwidth: a summing read and a memcpy copy of a buffer far larger than the caches.
 * Best of several repetitions (the machine is shared). Prints one JSON object.
 * Usage: machine [BUFFER_MIB [MEMORY_REPETITIONS]]
 * Build: gcc -O3 -fopenmp -mavx2 -mfma machine.c -o machine
 */
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* independent chains: 12 ymm (AVX2 has 16 registers: keep a and b in registers too), 16 zmm (gcc fully unrolls at most 16) */
#define CHAINS256 12
#define CHAINS512 16
static volatile float sink;

static double fma256(long iters, int threads) {
    double t0 = now();
#pragma omp parallel num_threads(threads)
    {
        __m256 acc[CHAINS256];
        __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
        for (int i = 0; i < CHAINS256; i++) acc[i] = _mm256_set1_ps((float)i);
        for (long n = 0; n < iters; n++)
            for (int i = 0; i < CHAINS256; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
        __m256 s = acc[0];
        for (int i = 1; i < CHAINS256; i++) s = _mm256_add_ps(s, acc[i]);
        float out[8];
        _mm256_storeu_ps(out, s);
        sink = out[0];
    }
    double t = now() - t0;
    return (double)threads * iters * CHAINS256 * 8 * 2 / t;
}

__attribute__((target("avx512f"))) static double fma512(long iters, int threads) {
    double t0 = now();
#pragma omp parallel num_threads(threads)
    {
        __m512 acc[CHAINS512];
        __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
        for (int i = 0; i < CHAINS512; i++) acc[i] = _mm512_set1_ps((float)i);
        for (long n = 0; n < iters; n++)
            for (int i = 0; i < CHAINS512; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
        __m512 s = acc[0];
        for (int i = 1; i < CHAINS512; i++) s = _mm512_add_ps(s, acc[i]);
        sink = _mm512_reduce_add_ps(s);
    }
    double t = now() - t0;
    return (double)threads * iters * CHAINS512 * 16 * 2 / t;
}

/* bytes per second reading n floats (8 independent 256-bit accumulators per thread) */
static double read_bw(const float *x, long n) {
    double t0 = now();
    float total = 0;
#pragma omp parallel reduction(+ : total)
    {
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        long chunk = n / nt / 64 * 64, lo = id * chunk, hi = id == nt - 1 ? n : lo + chunk;
        __m256 acc[8];
        for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_ps();
        long i = lo;
        for (; i + 64 <= hi; i += 64)
            for (int j = 0; j < 8; j++) acc[j] = _mm256_add_ps(acc[j], _mm256_loadu_ps(x + i + 8 * j));
        for (int j = 1; j < 8; j++) acc[0] = _mm256_add_ps(acc[0], acc[j]);
        float out[8];
        _mm256_storeu_ps(out, acc[0]);
        for (int j = 0; j < 8; j++) total += out[j];
        for (; i < hi; i++) total += x[i];
    }
    double t = now() - t0;
    sink = total;
    return n * 4.0 / t;
}

/* bytes per second moved (read + written) copying n floats */
static double copy_bw(float *dst, const float *src, long n) {
    double t0 = now();
#pragma omp parallel
    {
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        long chunk = n / nt, lo = id * chunk, hi = id == nt - 1 ? n : lo + chunk;
        memcpy(dst + lo, src + lo, (hi - lo) * sizeof(float));
    }
    double t = now() - t0;
    return n * 8.0 / t;
}

int main(int argc, char **argv) {
    long mib = argc > 1 ? atol(argv[1]) : 512;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    long n = mib * (1L << 20) / 4;
    float *x = aligned_alloc(64, n * 4), *y = aligned_alloc(64, n * 4);
    if (!x || !y) { fprintf(stderr, "cannot allocate 2 x %ld MiB\n", mib); return 1; }
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) { x[i] = (float)(i & 1023); y[i] = 0; }

    int all = omp_get_max_threads();
    int avx512 = __builtin_cpu_supports("avx512f");
    double f256 = 0, f512 = 0, f1 = 0, rd = 0, cp = 0;
    /* many short FMA trials (about 25 ms each): on a shared machine some run without being descheduled */
    for (int r = 0; r < 40; r++) {
        double v;
        if ((v = fma256(8000000, all)) > f256) f256 = v;
        if (avx512 && (v = fma512(4000000, all)) > f512) f512 = v;
        if ((v = avx512 ? fma512(4000000, 1) : fma256(8000000, 1)) > f1) f1 = v;
    }
    for (int r = 0; r < reps; r++) {
        double v;
        if ((v = read_bw(x, n)) > rd) rd = v;
        if ((v = copy_bw(y, x, n)) > cp) cp = v;
    }
    printf("{\"threads\":%d,\"fma256_gflops\":%.1f,\"fma512_gflops\":%.1f,\"fma_one_thread_gflops\":%.1f,"
           "\"read_gbs\":%.2f,\"copy_gbs\":%.2f,\"buffer_mib\":%ld,\"reps\":%d}\n",
           all, f256 / 1e9, f512 / 1e9, f1 / 1e9, rd / 1e9, cp / 1e9, mib, reps);
    free(x);
    free(y);
    return 0;
}
