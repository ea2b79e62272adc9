#include "pxt_blas.h"

#include <math.h>
#include <string.h>

void pxt_layer_norm(float *x, long rows, int width, const float *gamma, const float *beta, float eps) {
    for (long i = 0; i < rows; i++) {
        float *row = x + i * width;
        float sum = 0;
        for (int j = 0; j < width; j++) sum += row[j];
        float mean = sum / (float)width;
        float sq = 0;
        for (int j = 0; j < width; j++) {
            float d = row[j] - mean;
            sq += d * d;
        }
        float inv = 1.0f / sqrtf(sq / (float)width + eps);
        for (int j = 0; j < width; j++) row[j] = (row[j] - mean) * inv * gamma[j] + beta[j];
    }
}

// erf by Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7, a float's precision).
static inline float fast_erf(float x) {
    float a = fabsf(x);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    float y = 1.0f - poly * expf(-a * a);
    return x < 0 ? -y : y;
}

void pxt_gelu(float *x, long count) {
    for (long i = 0; i < count; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + fast_erf(v * 0.70710678118654752f));
    }
}

void pxt_add(float *out, const float *x, long count) {
    for (long i = 0; i < count; i++) out[i] += x[i];
}

void pxt_broadcast_rows(float *out, const float *bias, long rows, int width) {
    for (long i = 0; i < rows; i++) memcpy(out + i * width, bias, (size_t)width * sizeof(float));
}

void pxt_attention(const float *qkv, float *ctx, long offset, int length, int hidden, int heads, int head, float *scores) {
    int dh = hidden / heads;
    long stride = 3L * hidden;
    float scale = 1.0f / sqrtf((float)dh);
    const float *base = qkv + offset * stride;
    for (int i = 0; i < length; i++) {
        const float *q = base + i * stride + head * dh;
        float top = -INFINITY;
        for (int j = 0; j < length; j++) {
            const float *k = base + j * stride + hidden + head * dh;
            float dot = 0;
            for (int d = 0; d < dh; d++) dot += q[d] * k[d];
            dot *= scale;
            scores[j] = dot;
            if (dot > top) top = dot;
        }
        float sum = 0;
        for (int j = 0; j < length; j++) {
            float e = expf(scores[j] - top);
            scores[j] = e;
            sum += e;
        }
        float inv = 1.0f / sum;
        float *out = ctx + (offset + i) * hidden + head * dh;
        for (int d = 0; d < dh; d++) out[d] = 0;
        for (int j = 0; j < length; j++) {
            const float *v = base + j * stride + 2 * hidden + head * dh;
            float p = scores[j] * inv;
            for (int d = 0; d < dh; d++) out[d] += p * v[d];
        }
    }
}
