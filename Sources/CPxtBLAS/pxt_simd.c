// The kernels that run between the matrix products and in exact vector search, each compiled
// twice: for AVX2 with FMA, and for the baseline x86-64 (or any other) instruction set; the
// AVX2 build is chosen at run time by CPUID, so the binary runs on every x86-64 machine. The
// bodies are plain loops without library calls (exp is our own polynomial), so that the
// compiler vectorizes them.
#include "pxt_blas.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define PXT_X86 1
#endif

int pxt_cpu_has_avx2_fma(void) {
#ifdef PXT_X86
    static int known = -1;
    if (known >= 0) return known;
    unsigned a, b, c, d;
    int ok = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
        if (fma && osxsave && avx) {
            unsigned lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            if ((lo & 6) == 6 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) ok = (b >> 5) & 1;
        }
    }
    known = ok;
    return ok;
#else
    return 0;
#endif
}

#define INLINE static inline __attribute__((always_inline))

// e^x for x <= 0 (softmax scores after the maximum is subtracted, -a^2 in erf): 2^n e^r with
// n = round(x / ln 2) and |r| <= ln 2 / 2, e^r by its degree-7 Taylor polynomial (relative
// error under 1e-8, below a float's resolution).
INLINE float exp_nonpositive(float x) {
    x = x < -87.0f ? -87.0f : x;
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693145751953125f - n * 1.428606765330187045e-06f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.008333334f + r * (0.0013888889f + r * 0.0001984127f))))));
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// GELU with erf by Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7).
INLINE void gelu_body(float *x, long count) {
    for (long i = 0; i < count; i++) {
        float v = x[i];
        float z = v * 0.70710678118654752f;
        float a = fabsf(z);
        float t = 1.0f / (1.0f + 0.3275911f * a);
        float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
        float e = 1.0f - poly * exp_nonpositive(-a * a);
        float erf = z < 0 ? -e : e;
        x[i] = 0.5f * v * (1.0f + erf);
    }
}

INLINE float dot_body(const float *a, const float *b, int n) {
    // Eight partial sums: independent chains that stay in vector registers.
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; k++) s[k] += a[i + k] * b[i + k];
    }
    float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++) total += a[i] * b[i];
    return total;
}

// Keys are laid out by component (a transposed, zero-padded copy of the head's keys) so that a query's scores come out sixteen keys at a time in vector registers,
// with no horizontal sums; the weighted sum of values keeps 32 (then 8) output components in
// registers across the keys. Head sizes of 32 and 64 (MiniLM, BERT) take only the wide paths.
#define KEY_BLOCK 16
INLINE long round_up_keys(long n) { return (n + KEY_BLOCK - 1) / KEY_BLOCK * KEY_BLOCK; }

INLINE void attention_body(const float *qkv, float *ctx, long offset, int length, int hidden, int heads, int head, float *scratch) {
    int dh = hidden / heads;
    long stride = 3L * hidden;
    float scale = 1.0f / sqrtf((float)dh);
    const float *base = qkv + offset * stride;
    long lp = round_up_keys(length);
    float *kt = scratch;  // component d of key j at kt[d * lp + j]
    float *scores = scratch + (long)dh * lp;
    float *qs = scores + lp;  // the query scaled by 1/sqrt(dh)
    for (int d = 0; d < dh; d++) {
        for (long j = length; j < lp; j++) kt[d * lp + j] = 0;
    }
    for (int j = 0; j < length; j++) {
        const float *k = base + j * stride + hidden + head * dh;
        for (int d = 0; d < dh; d++) kt[d * lp + j] = k[d];
    }
    for (int i = 0; i < length; i++) {
        const float *q = base + i * stride + head * dh;
        for (int d = 0; d < dh; d++) qs[d] = q[d] * scale;
        for (long j0 = 0; j0 < lp; j0 += KEY_BLOCK) {
            float acc[KEY_BLOCK] = {0};
            for (int d = 0; d < dh; d++) {
                float qd = qs[d];
                const float *row = kt + d * lp + j0;
                for (int k = 0; k < KEY_BLOCK; k++) acc[k] += qd * row[k];
            }
            for (int k = 0; k < KEY_BLOCK; k++) scores[j0 + k] = acc[k];
        }
        // The maximum, the exponentials and their sum in separate loops, the reductions over
        // eight partial results: each loop then vectorizes (a float sum in one accumulator
        // would not, as reordering it changes its rounding).
        float tops[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
        for (int j = length; j < lp; j++) scores[j] = -INFINITY;
        for (long j0 = 0; j0 < lp; j0 += 8) {
            for (int k = 0; k < 8; k++) tops[k] = scores[j0 + k] > tops[k] ? scores[j0 + k] : tops[k];
        }
        float top = tops[0];
        for (int k = 1; k < 8; k++) top = tops[k] > top ? tops[k] : top;
        for (long j = 0; j < lp; j++) scores[j] = exp_nonpositive(scores[j] - top);
        float sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (long j0 = 0; j0 < lp; j0 += 8) {
            for (int k = 0; k < 8; k++) sums[k] += scores[j0 + k];
        }
        float inv = 1.0f / (((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7])));
        float *out = ctx + (offset + i) * hidden + head * dh;
        const float *values = base + 2 * hidden + head * dh;
        int d0 = 0;
        for (; d0 + 32 <= dh; d0 += 32) {
            float acc[32] = {0};
            for (int j = 0; j < length; j++) {
                const float *v = values + j * stride + d0;
                float p = scores[j];
                for (int k = 0; k < 32; k++) acc[k] += p * v[k];
            }
            for (int k = 0; k < 32; k++) out[d0 + k] = acc[k] * inv;
        }
        for (; d0 + 8 <= dh; d0 += 8) {
            float acc[8] = {0};
            for (int j = 0; j < length; j++) {
                const float *v = values + j * stride + d0;
                float p = scores[j];
                for (int k = 0; k < 8; k++) acc[k] += p * v[k];
            }
            for (int k = 0; k < 8; k++) out[d0 + k] = acc[k] * inv;
        }
        for (; d0 < dh; d0++) {
            float a = 0;
            for (int j = 0; j < length; j++) a += scores[j] * values[j * stride + d0];
            out[d0] = a * inv;
        }
    }
}

long pxt_attention_scratch(int length, int hidden, int heads) { return round_up_keys(length) * (hidden / heads + 1) + hidden / heads; }

INLINE void dot_range_body(const float *m, long lo, long hi, int dim, const float *q, float *out) {
    for (long r = lo; r < hi; r++) out[r] = dot_body(m + r * dim, q, dim);
}

INLINE void dot_rows_body(const float *m, int dim, const int32_t *slots, long n, const float *q, float *out) {
    for (long j = 0; j < n; j++) out[j] = dot_body(m + (long)slots[j] * dim, q, dim);
}

#ifdef PXT_X86
#define AVX2 __attribute__((target("avx2,fma")))
AVX2 static void gelu_avx2(float *x, long count) { gelu_body(x, count); }
AVX2 static void attention_avx2(const float *qkv, float *ctx, long offset, int length, int hidden, int heads, int head, float *scratch) {
    attention_body(qkv, ctx, offset, length, hidden, heads, head, scratch);
}
AVX2 static void dot_range_avx2(const float *m, long lo, long hi, int dim, const float *q, float *out) { dot_range_body(m, lo, hi, dim, q, out); }
AVX2 static void dot_rows_avx2(const float *m, int dim, const int32_t *slots, long n, const float *q, float *out) {
    dot_rows_body(m, dim, slots, n, q, out);
}
#define DISPATCH(avx2call, generic) \
    do { \
        if (pxt_cpu_has_avx2_fma()) { avx2call; } else { generic; } \
    } while (0)
#else
#define DISPATCH(avx2call, generic) generic
#endif

void pxt_gelu(float *x, long count) { DISPATCH(gelu_avx2(x, count), gelu_body(x, count)); }

void pxt_attention(const float *qkv, float *ctx, long offset, int length, int hidden, int heads, int head, float *scratch) {
    DISPATCH(attention_avx2(qkv, ctx, offset, length, hidden, heads, head, scratch), attention_body(qkv, ctx, offset, length, hidden, heads, head, scratch));
}

void pxt_dot_range(const float *m, long lo, long hi, int dim, const float *q, float *out) {
    DISPATCH(dot_range_avx2(m, lo, hi, dim, q, out), dot_range_body(m, lo, hi, dim, q, out));
}

void pxt_dot_rows(const float *m, int dim, const int32_t *slots, long n, const float *q, float *out) {
    DISPATCH(dot_rows_avx2(m, dim, slots, n, q, out), dot_rows_body(m, dim, slots, n, q, out));
}
