// Counter-based RNG and the definition of every projection entry R[p,k].
// Shared verbatim by the C++ kernels and the CUDA kernels (and mirrored by
// ReferenceProjector.java): any change here changes every projection ever made.
// See docs/projection.md for the exact algorithm.
#pragma once

#include <stdint.h>

#if defined(__CUDACC__)
#define PJ_HD __host__ __device__ __forceinline__
#else
#define PJ_HD inline
#endif

namespace projntk {
namespace jl {

// Random123's Philox4x32 constants.
constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;
// Fourth counter word of the key-derivation call ("PJNT").
constexpr uint32_t kKeyDomain = 0x504A4E54u;

struct Philox4 {
    uint32_t v[4];
};

// Philox4x32-10 exactly as Random123's philox4x32(ctr, key) with R = 10.
PJ_HD Philox4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
#if defined(__CUDACC__)
#pragma unroll
#endif
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += kPhiloxW0;
            k1 += kPhiloxW1;
        }
        uint64_t prod0 = (uint64_t)kPhiloxM0 * c0;
        uint64_t prod1 = (uint64_t)kPhiloxM1 * c2;
        uint32_t hi0 = (uint32_t)(prod0 >> 32), lo0 = (uint32_t)prod0;
        uint32_t hi1 = (uint32_t)(prod1 >> 32), lo1 = (uint32_t)prod1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    Philox4 out;
    out.v[0] = c0;
    out.v[1] = c1;
    out.v[2] = c2;
    out.v[3] = c3;
    return out;
}

struct Key {
    uint32_t k0, k1;
};

// The per-projector key: one Philox call keyed by the seed, counting (model_id, kind).
PJ_HD Key derive_key(int64_t seed, int64_t model_id, int32_t kind) {
    uint64_t s = (uint64_t)seed, m = (uint64_t)model_id;
    Philox4 r = philox4x32_10((uint32_t)m, (uint32_t)(m >> 32), (uint32_t)kind, kKeyDomain, (uint32_t)s,
                              (uint32_t)(s >> 32));
    Key key;
    key.k0 = r.v[0];
    key.k1 = r.v[1];
    return key;
}

// The block call: counter (p, block) as two 64-bit halves.
PJ_HD Philox4 block_bits(Key key, uint64_t p, uint64_t block) {
    return philox4x32_10((uint32_t)p, (uint32_t)(p >> 32), (uint32_t)block, (uint32_t)(block >> 32), key.k0, key.k1);
}

// ------------------------------------------------------------------ Rademacher
// Column k uses bit (k & 31) of word ((k >> 5) & 3) of block_bits(key, p, k >> 7); a set bit means -1.
PJ_HD uint32_t rademacher_bit(const Philox4 &bits, uint64_t k) {
    return (bits.v[(k >> 5) & 3] >> (k & 31)) & 1u;
}

// ------------------------------------------------------------------- Gaussian
// libm-free Box-Muller. Every step is an IEEE-exact operation (integer ops, exact scalings) or a
// correctly rounded +,-,*,/,sqrt or an explicit fmaf, and no product feeds an addition outside an
// explicit fmaf, so the result is bit-identical wherever IEEE single precision and fmaf are honoured
// (x86 FMA3, CUDA without --use_fast_math, Java's Math.fma).

PJ_HD float pj_u2f(uint32_t u) {
    union {
        uint32_t u;
        float f;
    } c;
    c.u = u;
    return c.f;
}
PJ_HD uint32_t pj_f2u(float f) {
    union {
        uint32_t u;
        float f;
    } c;
    c.f = f;
    return c.u;
}

#if defined(__CUDA_ARCH__)
#define PJ_FMAF(a, b, c) __fmaf_rn((a), (b), (c))
#define PJ_SQRTF(a) __fsqrt_rn(a)
#define PJ_DIVF(a, b) __fdiv_rn((a), (b))
#else
#define PJ_FMAF(a, b, c) __builtin_fmaf((a), (b), (c))
#define PJ_SQRTF(a) __builtin_sqrtf(a)
#define PJ_DIVF(a, b) ((a) / (b))
#endif

// Constants as hexadecimal literals so every language reads the same float.
constexpr float kLn2 = 0x1.62e430p-1f;           // ln 2
// ln f = 2s + s^3 * (2/3 + 2/5 s^2 + 2/7 s^4 + 2/9 s^6 + 2/11 s^8), s = (f-1)/(f+1)
constexpr float kL3 = 0x1.555556p-1f;   // 2/3
constexpr float kL5 = 0x1.99999ap-2f;   // 2/5
constexpr float kL7 = 0x1.24924ap-2f;   // 2/7
constexpr float kL9 = 0x1.c71c72p-3f;   // 2/9
constexpr float kL11 = 0x1.745d18p-3f;  // 2/11
// sin(2 pi t) = t (S1 + S3 t^2 + ... + S9 t^8), cos(2 pi t) = 1 + C2 t^2 + ... + C10 t^10, |t| <= 1/8
constexpr float kS1 = 0x1.921fb6p+2f;
constexpr float kS3 = -0x1.4abbcep+5f;
constexpr float kS5 = 0x1.466bc6p+6f;
constexpr float kS7 = -0x1.32d2ccp+6f;
constexpr float kS9 = 0x1.507834p+5f;
constexpr float kC2 = -0x1.3bd3ccp+4f;
constexpr float kC4 = 0x1.03c1f0p+6f;
constexpr float kC6 = -0x1.55d3c8p+6f;
constexpr float kC8 = 0x1.e1f506p+5f;
constexpr float kC10 = -0x1.a6d1f2p+4f;

// -2 ln u with u = ((w >> 8) + 1) / 2^24 in (0, 1]; the Box-Muller radius is its sqrt.
PJ_HD float box_muller_r2(uint32_t w) {
    float m = (float)(int32_t)((w >> 8) + 1u);  // exact: 1 .. 2^24
    uint32_t bits = pj_f2u(m);
    uint32_t mant = bits & 0x007FFFFFu;
    uint32_t big = mant > 0x3504F3u;  // f > sqrt(2) (0x1.6a09e6p+0), compared on the bits: no branch
    int32_t e = (int32_t)(bits >> 23) - 127 + (int32_t)big;
    float f = pj_u2f((mant | 0x3F800000u) - (big << 23));  // m = f * 2^e, f in (0.7071, 1.4143]
    float s = PJ_DIVF(f - 1.0f, f + 1.0f);
    float z = s * s;
    float t = PJ_FMAF(z, kL11, kL9);
    t = PJ_FMAF(z, t, kL7);
    t = PJ_FMAF(z, t, kL5);
    t = PJ_FMAF(z, t, kL3);
    float lnf = PJ_FMAF(s * z, t, 2.0f * s);
    float lnu = PJ_FMAF((float)(e - 24), kLn2, lnf);  // <= 0
    float r2 = -2.0f * lnu;
    return r2 > 0.0f ? r2 : 0.0f;
}

PJ_HD float box_muller_radius(uint32_t w) { return PJ_SQRTF(box_muller_r2(w)); }

// (cos, sin) of 2 pi v / 2^24 with v = w >> 8.
PJ_HD void unit_circle(uint32_t w, float *c_out, float *s_out) {
    uint32_t v = w >> 8;
    uint32_t n = (v + (1u << 21)) >> 22;  // nearest quarter turn, 0..4
    int32_t ti = (int32_t)v - (int32_t)(n << 22);
    float t = (float)ti * 0x1p-24f;  // exact, |t| <= 1/8 turn
    float u = t * t;
    float sp = PJ_FMAF(u, kS9, kS7);
    sp = PJ_FMAF(u, sp, kS5);
    sp = PJ_FMAF(u, sp, kS3);
    sp = PJ_FMAF(u, sp, kS1);
    float sn = t * sp;
    float cp = PJ_FMAF(u, kC10, kC8);
    cp = PJ_FMAF(u, cp, kC6);
    cp = PJ_FMAF(u, cp, kC4);
    cp = PJ_FMAF(u, cp, kC2);
    float cs = PJ_FMAF(u, cp, 1.0f);
    // Rotate by q quarter turns: (c, s) -> q=1: (-s, c), q=2: (-c, -s), q=3: (s, -c).
    uint32_t q = n & 3u;
    float c = (q & 1u) ? sn : cs;
    float s = (q & 1u) ? cs : sn;
    *c_out = pj_u2f(pj_f2u(c) ^ ((((q + 1u) >> 1) & 1u) << 31));
    *s_out = pj_u2f(pj_f2u(s) ^ ((q >> 1) << 31));
}

// Unscaled N(0,1) value of column k from its block (block_bits(key, p, k >> 2)).
// Pair (v0, v1) gives columns 4b (r cos) and 4b+1 (r sin); pair (v2, v3) columns 4b+2, 4b+3.
PJ_HD float gaussian_from_bits(const Philox4 &bits, uint64_t k) {
    int pair = (int)((k >> 1) & 1);
    float r = box_muller_radius(bits.v[2 * pair]);
    float c, s;
    unit_circle(bits.v[2 * pair + 1], &c, &s);
    return (k & 1) ? r * s : r * c;
}

// ----------------------------------------------------------------------- SJLT
// Coordinate p has one nonzero in each of s column blocks [floor(jK/s), floor((j+1)K/s)), j < s.
// Nonzero j uses the word pair (2(j&1), 2(j&1)+1) of block_bits(key, p, j >> 1): the position is
// lo + ((w_a * width) >> 32) and the sign is the top bit of w_b (set means -1).
PJ_HD uint64_t sjlt_block_start(uint64_t j, uint64_t K, uint64_t s) {
    return (j * K) / s;
}
PJ_HD void sjlt_nonzero(const Philox4 &bits, uint64_t j, uint64_t K, uint64_t s, uint64_t *pos, uint32_t *negative) {
    uint64_t lo = sjlt_block_start(j, K, s), hi = sjlt_block_start(j + 1, K, s);
    int a = (int)(2 * (j & 1));
    *pos = lo + (((uint64_t)bits.v[a] * (hi - lo)) >> 32);
    *negative = bits.v[a + 1] >> 31;
}

}  // namespace jl
}  // namespace projntk
