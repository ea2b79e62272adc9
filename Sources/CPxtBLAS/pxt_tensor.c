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

void pxt_add(float *out, const float *x, long count) {
    for (long i = 0; i < count; i++) out[i] += x[i];
}

void pxt_broadcast_rows(float *out, const float *bias, long rows, int width) {
    for (long i = 0; i < rows; i++) memcpy(out + i * width, bias, (size_t)width * sizeof(float));
}
